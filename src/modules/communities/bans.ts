import type { D1Client } from '../../db/client';
import { ApiError } from '../../lib/errors';

/**
 * Community bans (`community_bans`): someone banned by a community's owner or moderators may not join
 * or apply to it, post in it, or comment on or like its posts, until the ban is lifted. What they wrote
 * before stays until a moderator removes it.
 */

export const isBanned = async (db: D1Client, communityId: string, userId: string): Promise<boolean> =>
  (await db.prepare('SELECT 1 FROM community_bans WHERE community_id = ?1 AND user_id = ?2').bind(communityId, userId).first()) !== null;

export const bannedError = (): ApiError => new ApiError('forbidden', 'You are banned from this community.');

/** 403 when `userId` is banned from the community of a community post (nothing for other posts). */
export async function assertNotBanned(db: D1Client, communityId: string | null, userId: string): Promise<void> {
  if (communityId && (await isBanned(db, communityId, userId))) throw bannedError();
}
