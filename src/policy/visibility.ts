import type { D1Client } from '../db/client';
import type { UserSummary } from '../db/schema';

/**
 * Who is visible to whom, for users. A suspended account is absent for everyone else: profile 404, and
 * missing from every list, comment thread, likers list and member list (and search and suggestions,
 * which reuse {@link visibleUserSql}). Comments follow their authors and their thread
 * ({@link visibleCommentSql}). Posts are decided by the post pipeline's rules stage (`canViewPost` in
 * src/modules/posts/post-pipeline.ts), which applies the same account states.
 */

/** A JS check on a loaded user row: false once the account is suspended. */
export const isAccountVisible = (user: Pick<UserSummary, 'suspendedAt'>): boolean => user.suspendedAt === null;

/** Whether each of `userIds` that still exists is suspended (a deleted account is left out), in one statement. */
export async function standingsOf(db: D1Client, userIds: string[]): Promise<Map<string, boolean>> {
  if (userIds.length === 0) return new Map();
  const { results } = await db
    .prepare('SELECT id, suspended_at IS NOT NULL AS suspended FROM users WHERE id IN (SELECT value FROM json_each(?1))')
    .bind(JSON.stringify(userIds))
    .all<{ id: string; suspended: number }>();
  return new Map(results.map((r) => [r.id, r.suspended === 1]));
}

/** Which of `userIds` are suspended accounts (see {@link standingsOf}). */
export async function suspendedAmong(db: D1Client, userIds: string[]): Promise<string[]> {
  return [...(await standingsOf(db, userIds))].filter(([, suspended]) => suspended).map(([id]) => id);
}

/** An SQL condition: the users row aliased `row` is an account that is not suspended. */
const activeRowSql = (row: string) => `${row}.suspended_at IS NULL`;

/**
 * An SQL condition: the account whose id is the expression `user` exists and is not suspended, whoever
 * looks. What relations to a suspended account (a block list, a pending request) need: the relation is
 * kept, and hidden like the account until the suspension is lifted.
 */
export function activeUserSql(user: string): string {
  return `EXISTS (SELECT 1 FROM users vu WHERE vu.id = ${user} AND ${activeRowSql('vu')})`;
}

/** An SQL condition: a block stands between the users whose ids are the expressions `a` and `b`, either way (primary-key probes). */
export function blockedEitherSql(a: string, b: string): string {
  return `EXISTS (SELECT 1 FROM blocks vb WHERE (vb.blocker_id = ${a} AND vb.blocked_id = ${b}) OR (vb.blocker_id = ${b} AND vb.blocked_id = ${a}))`;
}

/**
 * An SQL condition: the user whose id is the expression `user` is visible to the viewer whose id is
 * the expression `viewer` ('' for anonymous callers): the account exists and is not suspended, and no
 * block stands between them either way. Two primary-key probes and one on blocks per row.
 */
export function visibleUserSql(viewer: string, user: string): string {
  return `${activeUserSql(user)}
    AND NOT ${blockedEitherSql(viewer, user)}`;
}

/**
 * An SQL condition: the user `user` may be *found* by the viewer `viewer` (search, hashtag trends and
 * suggestions), on top of {@link visibleUserSql}: a silenced account is never found by anyone else, and
 * a non-`discoverable` one only by its followers and friends. The viewer always finds themselves.
 */
export function discoverableUserSql(viewer: string, user: string): string {
  return `${visibleUserSql(viewer, user)}
    AND (${user} = ${viewer} OR EXISTS (SELECT 1 FROM users du WHERE du.id = ${user} AND ${findableRowSql(viewer, 'du', user)}))`;
}

/**
 * {@link discoverableUserSql} for an account whose users row is already in the statement, aliased `row`:
 * the same rules, read from that row instead of looking the account up by id twice (user search's page).
 */
export function discoverableUserRowSql(viewer: string, row: string): string {
  return `${activeRowSql(row)} AND NOT ${blockedEitherSql(viewer, `${row}.id`)}
    AND (${row}.id = ${viewer} OR (${findableRowSql(viewer, row, `${row}.id`)}))`;
}

/**
 * Anyone but the account itself may find the users row aliased `row` (whose id is the expression `user`):
 * it is not silenced, and it is `discoverable` or the viewer follows it (accepted) or is its friend.
 */
function findableRowSql(viewer: string, row: string, user: string): string {
  return `${row}.silenced_at IS NULL
      AND (${row}.discoverable = 1
        OR EXISTS (SELECT 1 FROM follows df WHERE df.follower_id = ${viewer} AND df.followee_id = ${user} AND df.status = 'accepted')
        OR EXISTS (SELECT 1 FROM friendships dk WHERE dk.user_id = ${viewer} AND dk.friend_id = ${user}))`;
}

/**
 * An SQL condition: the comment row aliased `comment` is visible to the viewer `viewer`: its author is
 * visible to them ({@link visibleUserSql}), it is not held unless it is theirs or `staff` (an SQL
 * boolean) holds, and a reply's parent comment is visible by the same rules: the thread under a hidden
 * comment is hidden with it. The post's own visibility is the post pipeline's to decide.
 */
export function visibleCommentSql(viewer: string, comment: string, staff: string): string {
  const shown = (k: string) => `(${k}.held = 0 OR ${k}.author_id = ${viewer} OR ${staff}) AND ${visibleUserSql(viewer, `${k}.author_id`)}`;
  return `${shown(comment)}
    AND (${comment}.parent_id IS NULL OR EXISTS (SELECT 1 FROM comments vp WHERE vp.id = ${comment}.parent_id AND ${shown('vp')}))`;
}
