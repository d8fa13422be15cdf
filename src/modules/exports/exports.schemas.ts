import { z } from '@hono/zod-openapi';
import { EXAMPLE_ID, idParam } from '../../lib/openapi';

const EXAMPLE_EXPORT = {
  id: EXAMPLE_ID,
  status: 'ready' as const,
  requested_at: '2026-12-01T09:00:00.000Z',
  ready_at: '2026-12-01T09:00:12.000Z',
  expires_at: '2026-12-08T09:00:12.000Z',
  size_bytes: 482133,
  download_url: `https://kith.example/api/v1/me/exports/${EXAMPLE_ID}/archive`,
};

export const ExportSchema = z
  .object({
    id: z.string(),
    status: z.enum(['pending', 'ready', 'failed']).openapi({ description: '`pending` while the archive is built, `ready` to download, `failed` when building it failed (ask again)' }),
    requested_at: z.string().openapi({ format: 'date-time' }),
    ready_at: z.string().nullable().openapi({ format: 'date-time', description: 'When the archive was ready; null until then' }),
    expires_at: z.string().nullable().openapi({ format: 'date-time', description: 'When the archive (or the failed export) is deleted; null while pending' }),
    size_bytes: z.number().int().nullable().openapi({ description: 'The ZIP archive’s size; null until ready' }),
    download_url: z.string().nullable().openapi({ description: 'GET it with your bearer token (a session that signed in within the last 15 minutes); null until ready' }),
  })
  .openapi('Export', { example: EXAMPLE_EXPORT });

export const ExportListSchema = z.object({ data: z.array(ExportSchema) }).openapi('ExportList', { example: { data: [EXAMPLE_EXPORT] } });

export const ExportIdParamSchema = idParam('id', 'export');

export type Export = z.infer<typeof ExportSchema>;
