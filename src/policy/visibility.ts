import type { UserSummary } from '../db/schema';

/**
 * Who is visible to whom, for users. A suspended account is absent for everyone else: profile 404, and
 * missing from every list, comment thread, likers list and member list (and search and suggestions,
 * which reuse {@link visibleUserSql}). Posts are decided by the post pipeline's rules stage
 * (`canViewPost` in src/modules/posts/post-pipeline.ts), which applies the same account states.
 */

/** A JS check on a loaded user row: false once the account is suspended. */
export const isAccountVisible = (user: Pick<UserSummary, 'suspendedAt'>): boolean => user.suspendedAt === null;

/**
 * An SQL condition: the user whose id is the expression `user` is visible to the viewer whose id is
 * the expression `viewer` ('' for anonymous callers): the account exists and is not suspended, and no
 * block stands between them either way. Two primary-key probes and one on blocks per row.
 */
export function visibleUserSql(viewer: string, user: string): string {
  return `EXISTS (SELECT 1 FROM users vu WHERE vu.id = ${user} AND vu.suspended_at IS NULL)
    AND NOT EXISTS (SELECT 1 FROM blocks vb WHERE (vb.blocker_id = ${viewer} AND vb.blocked_id = ${user}) OR (vb.blocker_id = ${user} AND vb.blocked_id = ${viewer}))`;
}
