import type { D1Client } from '../../db/client';
import { ApiError } from '../../lib/errors';
import { blockedEitherSql } from '../../policy/visibility';
import type { Relationship } from '../users/users.schemas';

/** How one viewer relates to a set of users: what the post rules and the profile reads need. */
export interface ViewerRelations {
  viewerId: string | null;
  friends: Set<string>;
  /** Accounts the viewer follows with an accepted follow. */
  following: Set<string>;
  /** Accounts that block the viewer or that the viewer blocks. */
  blockedEither: Set<string>;
  muted: Set<string>;
  /** The viewer is site staff (sees held posts); set by the post pipeline from the request. */
  staff?: boolean;
}

export const EMPTY_RELATIONS = (viewerId: string | null): ViewerRelations => ({
  viewerId,
  friends: new Set(),
  following: new Set(),
  blockedEither: new Set(),
  muted: new Set(),
});

/** Bits of a relation mask: how the viewer relates to one user. */
export const RELATION = { friend: 1, following: 2, blocked: 4, muted: 8 } as const;

/**
 * An SQL expression for the viewer's relations to the user whose id is `user`, as a bitmask of
 * {@link RELATION}: four primary-key probes per user, cheap enough to compute inline for a whole page.
 */
export function relationFlagsSql(viewer: string, user: string): string {
  // Plain arithmetic: SQLite gives | and << the same precedence, which invites mistakes.
  return `(EXISTS (SELECT 1 FROM friendships f WHERE f.user_id = ${viewer} AND f.friend_id = ${user}) * ${RELATION.friend}
    + EXISTS (SELECT 1 FROM follows f WHERE f.follower_id = ${viewer} AND f.followee_id = ${user} AND f.status = 'accepted') * ${RELATION.following}
    + ${blockedEitherSql(viewer, user)} * ${RELATION.blocked}
    + EXISTS (SELECT 1 FROM mutes m WHERE m.muter_id = ${viewer} AND m.muted_id = ${user}) * ${RELATION.muted})`;
}

/** Folds `{ id, r }` rows (r from {@link relationFlagsSql}) into sets; the viewer's own row is skipped. */
export function relationsFromFlags(viewerId: string | null, rows: { id: string; r?: number | null }[]): ViewerRelations {
  const rel = EMPTY_RELATIONS(viewerId);
  for (const { id, r } of rows) {
    if (!r || id === viewerId) continue;
    if (r & RELATION.friend) rel.friends.add(id);
    if (r & RELATION.following) rel.following.add(id);
    if (r & RELATION.blocked) rel.blockedEither.add(id);
    if (r & RELATION.muted) rel.muted.add(id);
  }
  return rel;
}

/** Loads the viewer's relations to `userIds` in one statement (the ids travel as one JSON parameter). */
export async function loadViewerRelations(db: D1Client, viewerId: string | null, userIds: Iterable<string>): Promise<ViewerRelations> {
  const ids = [...new Set(userIds)].filter((id) => id !== viewerId);
  if (!viewerId || ids.length === 0) return EMPTY_RELATIONS(viewerId);
  const { results } = await db
    .prepare(`SELECT j.value AS id, ${relationFlagsSql('?1', 'j.value')} AS r FROM json_each(?2) j`)
    .bind(viewerId, JSON.stringify(ids))
    .all<{ id: string; r: number }>();
  return relationsFromFlags(viewerId, results);
}

/** True when either user blocks the other. */
export async function isBlockedEither(db: D1Client, a: string, b: string): Promise<boolean> {
  const row = await db
    .prepare('SELECT 1 FROM blocks WHERE (blocker_id = ?1 AND blocked_id = ?2) OR (blocker_id = ?2 AND blocked_id = ?1) LIMIT 1')
    .bind(a, b)
    .first();
  return row !== null;
}

/** Everyone who blocks `userId` or whom `userId` blocks (both primary-key ranges of blocks; few rows). */
export async function blockedEitherOf(db: D1Client, userId: string): Promise<Set<string>> {
  const { results } = await db
    .prepare('SELECT blocked_id AS id FROM blocks WHERE blocker_id = ?1 UNION SELECT blocker_id FROM blocks WHERE blocked_id = ?1')
    .bind(userId)
    .all<{ id: string }>();
  return new Set(results.map((r) => r.id));
}

/** Every block between two of `userIds`, as [blocker, blocked] pairs, in one statement. */
export async function blocksAmong(db: D1Client, userIds: string[]): Promise<[string, string][]> {
  const { results } = await db
    .prepare(
      `SELECT blocker_id, blocked_id FROM blocks
       WHERE blocker_id IN (SELECT value FROM json_each(?1)) AND blocked_id IN (SELECT value FROM json_each(?1))`,
    )
    .bind(JSON.stringify(userIds))
    .all<{ blocker_id: string; blocked_id: string }>();
  return results.map((r) => [r.blocker_id, r.blocked_id]);
}

/** Refuses an interaction between two users when a block stands between them (as 404: the other side is invisible). */
export async function assertNotBlocked(db: D1Client, a: string, b: string, what = 'user'): Promise<void> {
  if (a !== b && (await isBlockedEither(db, a, b))) throw new ApiError('not_found', `No such ${what}.`);
}

type RelationshipRow = Record<'following' | 'followed_by' | 'follow_requested' | 'friend' | 'incoming' | 'outgoing' | 'blocking' | 'blocked_by' | 'muting', number>;

/**
 * One statement with every relationship flag between the viewer (?1) and the target (?2, an id;
 * an id), so a profile read can batch it with the user lookup.
 */
export function relationshipStatement(db: D1Client, viewerId: string, targetId: string): D1PreparedStatement {
  return db
    .prepare(
      `SELECT
         EXISTS (SELECT 1 FROM follows WHERE follower_id = ?1 AND followee_id = ?2 AND status = 'accepted') AS following,
         EXISTS (SELECT 1 FROM follows WHERE follower_id = ?2 AND followee_id = ?1 AND status = 'accepted') AS followed_by,
         EXISTS (SELECT 1 FROM follows WHERE follower_id = ?1 AND followee_id = ?2 AND status = 'pending') AS follow_requested,
         EXISTS (SELECT 1 FROM friendships WHERE user_id = ?1 AND friend_id = ?2) AS friend,
         EXISTS (SELECT 1 FROM friend_requests WHERE from_user_id = ?2 AND to_user_id = ?1 AND status = 'pending') AS incoming,
         EXISTS (SELECT 1 FROM friend_requests WHERE from_user_id = ?1 AND to_user_id = ?2 AND status = 'pending') AS outgoing,
         EXISTS (SELECT 1 FROM blocks WHERE blocker_id = ?1 AND blocked_id = ?2) AS blocking,
         EXISTS (SELECT 1 FROM blocks WHERE blocker_id = ?2 AND blocked_id = ?1) AS blocked_by,
         EXISTS (SELECT 1 FROM mutes WHERE muter_id = ?1 AND muted_id = ?2) AS muting`,
    )
    .bind(viewerId, targetId);
}

/** The `relationship` object from a {@link relationshipStatement} row, plus whether a block stands either way. */
export function relationshipFromRow(row: RelationshipRow | undefined): { relationship: Relationship; blockedEither: boolean } {
  return {
    relationship: {
      following: row?.following === 1,
      followed_by: row?.followed_by === 1,
      follow_requested: row?.follow_requested === 1,
      friend: row?.friend === 1,
      friend_request: row?.incoming === 1 ? 'incoming' : row?.outgoing === 1 ? 'outgoing' : null,
      blocking: row?.blocking === 1,
      muting: row?.muting === 1,
    },
    blockedEither: row?.blocking === 1 || row?.blocked_by === 1,
  };
}
