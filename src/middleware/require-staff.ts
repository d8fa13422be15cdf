import { createMiddleware } from 'hono/factory';
import { ApiError } from '../lib/errors';
import type { AppEnv } from '../lib/types';
import { currentUser } from './auth';

/** Site roles, lowest first (contract: "user", "moderator", "admin"). */
const ROLE_RANK = { user: 0, moderator: 1, admin: 2 } as const;
export type SiteRole = keyof typeof ROLE_RANK;

/**
 * The caller's site role from `users.role`. Until the migration that adds that column has run, every
 * account is an ordinary user (the query fails with "no such column", which is read as "user").
 */
async function siteRole(db: D1Database, userId: string): Promise<SiteRole> {
  try {
    const row = await db.prepare('SELECT role FROM users WHERE id = ?1').bind(userId).first<{ role: string | null }>();
    return row?.role && row.role in ROLE_RANK ? (row.role as SiteRole) : 'user';
  } catch (err) {
    if (/no such column/i.test(String((err as Error)?.message ?? err))) return 'user';
    throw err;
  }
}

/**
 * Lets through staff of at least `minimum` (moderators and admins by default); 403 for everyone else.
 * Goes after {@link requireAuth}.
 *
 * @example
 * createRoute({ ..., middleware: [requireAuth, requireStaff()] })
 */
export function requireStaff(minimum: Exclude<SiteRole, 'user'> = 'moderator') {
  return createMiddleware<AppEnv>(async function requireStaffMiddleware(c, next) {
    const role = await siteRole(c.env.DB, currentUser(c).userId);
    if (ROLE_RANK[role] < ROLE_RANK[minimum]) throw new ApiError('forbidden', `Only ${minimum === 'admin' ? 'admins' : 'moderators and admins'} may do this.`);
    await next();
  });
}
