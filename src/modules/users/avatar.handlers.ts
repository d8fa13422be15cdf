import { and, eq } from 'drizzle-orm';
import { purgeProfile } from '../../lib/edge-cache';
import { media, users } from '../../db/schema';
import type { AppRouteHandler } from '../../lib/types';
import { currentUser } from '../../middleware/auth';
import * as mediaService from '../media/media.service';
import type * as routes from './avatar.routes';
import { presentMe } from './users.presenter';
import { requireUserRow } from './users.service';

export const putAvatar: AppRouteHandler<typeof routes.putAvatar> = async (c) => {
  const { userId } = currentUser(c);
  const db = c.get('db');
  const before = await requireUserRow(db, userId);
  const image = await mediaService.storeImage(c.env, userId, await mediaService.readUpload(c));
  await mediaService.recordMedia(c, userId, 'avatar', image);
  await db.update(users).set({ avatarKey: image.key, updatedAt: new Date() }).where(eq(users.id, userId));
  if (before.avatarKey && before.avatarKey !== image.key) {
    await db.delete(media).where(and(eq(media.ownerId, userId), eq(media.kind, 'avatar'), eq(media.key, before.avatarKey)));
    await mediaService.releaseObjectIfUnused(c, before.avatarKey);
  }
  const after = await requireUserRow(db, userId);
  await purgeProfile(after);
  return c.json(presentMe(after, c.get('baseUrl')), 200);
};

export const deleteAvatar: AppRouteHandler<typeof routes.deleteAvatar> = async (c) => {
  const { userId } = currentUser(c);
  const db = c.get('db');
  const user = await requireUserRow(db, userId);
  if (user.avatarKey) {
    await db.batch([
      db.update(users).set({ avatarKey: null, updatedAt: new Date() }).where(eq(users.id, userId)),
      db.delete(media).where(and(eq(media.ownerId, userId), eq(media.kind, 'avatar'), eq(media.key, user.avatarKey))),
    ]);
    await mediaService.releaseObjectIfUnused(c, user.avatarKey);
    await purgeProfile(user);
  }
  return c.body(null, 204);
};
