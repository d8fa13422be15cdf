import type { AppRouteHandler } from '../../lib/types';
import { currentUser } from '../../middleware/auth';
import type * as routes from './exports.routes';
import * as service from './exports.service';

export const requestExport: AppRouteHandler<typeof routes.requestExport> = async (c) => c.json(await service.requestExport(c, currentUser(c)), 202);

export const listExports: AppRouteHandler<typeof routes.listExports> = async (c) => c.json({ data: await service.listExports(c, currentUser(c)) }, 200);

export const getExport: AppRouteHandler<typeof routes.getExport> = async (c) => c.json(await service.getExport(c, currentUser(c), c.req.valid('param').id), 200);

export const downloadExport: AppRouteHandler<typeof routes.downloadExport> = async (c) => {
  const archive = await service.openArchive(c, currentUser(c), c.req.valid('param').id);
  return c.body(archive.body, 200, {
    'Content-Type': 'application/zip',
    'Content-Length': String(archive.size),
    'Content-Disposition': `attachment; filename="${archive.filename}"`,
    'Cache-Control': 'no-store',
  });
};
