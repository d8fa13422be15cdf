import { purgeProfilesById } from '../../lib/edge-cache';
import type { Context } from 'hono';
import type { AppEnv, AppRouteHandler } from '../../lib/types';
import { currentUser } from '../../middleware/auth';
import { readImportUpload } from './linkedin-archive';
import { importLinkedIn } from './linkedin-import';
import { getVisibleProfile, loadProfile, updateOwnProfile } from './professional.service';
import type * as routes from './professional.routes';

export const getOwnProfessional: AppRouteHandler<typeof routes.getOwnProfessional> = async (c) => {
  return c.json((await loadProfile(c.var.d1, currentUser(c).userId)).profile, 200);
};

/** The public profile shows the headline: its anonymous copy leaves the edge cache after a change. */
async function purged<T>(c: Context<AppEnv>, change: Promise<T>): Promise<T> {
  const answer = await change;
  await purgeProfilesById(c.var.d1, [currentUser(c).userId]);
  return answer;
}

export const putOwnProfessional: AppRouteHandler<typeof routes.putOwnProfessional> = async (c) => {
  return c.json(await purged(c, updateOwnProfile(c, currentUser(c).userId, c.req.valid('json'), true)), 200);
};

export const patchOwnProfessional: AppRouteHandler<typeof routes.patchOwnProfessional> = async (c) => {
  return c.json(await purged(c, updateOwnProfile(c, currentUser(c).userId, c.req.valid('json'), false)), 200);
};

export const getUserProfessional: AppRouteHandler<typeof routes.getUserProfessional> = async (c) => {
  return c.json(await getVisibleProfile(c, c.req.valid('param').id_or_username), 200);
};

export const importLinkedInExport: AppRouteHandler<typeof routes.importLinkedIn> = async (c) => {
  const { mode, dry_run: dryRun } = c.req.valid('query');
  const upload = await readImportUpload(c);
  return c.json(await purged(c, importLinkedIn(c, currentUser(c).userId, upload, mode, dryRun ?? false)), 200);
};
