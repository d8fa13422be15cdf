import { createMiddleware } from 'hono/factory';
import type { SiteRole } from '../db/schema';
import { ApiError } from '../lib/errors';
import type { AppEnv } from '../lib/types';
import { authenticateRequest } from './auth';

const RANK: Record<SiteRole, number> = { user: 0, moderator: 1, admin: 2 };

/** Moderators and admins are staff. */
export const isStaffRole = (role: SiteRole | null | undefined): boolean => role === 'moderator' || role === 'admin';

/** Whether `actor` may act on an account holding `target`: a moderator may not act on an admin. */
export const outranks = (actor: SiteRole, target: SiteRole): boolean => !(actor === 'moderator' && target === 'admin');

/**
 * Guards staff routes: authenticates the caller (401 without a valid token) and requires a site role
 * of at least `minimum` (403 otherwise). The role is read from D1 on every staff request, never from a
 * cache, so a demotion takes effect everywhere at once. Every route under /api/v1/admin carries it
 * (test/moderation/queue.test.ts walks the served document and fails on any that lets a user in). It
 * is per route, not mounted on the path: a path with no route must still answer 404 or 405.
 *
 * @example
 * createRoute({ path: '/admin/audit', middleware: [requireStaff('admin')], … })
 */
export function requireStaff(minimum: 'moderator' | 'admin' = 'moderator') {
  return createMiddleware<AppEnv>(async function requireStaffMiddleware(c, next) {
    const auth = c.get('auth') ?? (await authenticateRequest(c));
    // Read once per request (the app-wide guard and a route's own guard share it).
    let role = c.get('staffRole');
    if (!role) {
      const row = await c.var.d1.prepare('SELECT role FROM users WHERE id = ?1').bind(auth.userId).first<{ role: SiteRole }>();
      role = row?.role ?? 'user';
      c.set('staffRole', role);
    }
    if (RANK[role] < RANK[minimum]) {
      throw new ApiError('forbidden', minimum === 'admin' ? 'This needs an admin.' : 'This needs a moderator or an admin.');
    }
    c.set('auth', { ...auth, role });
    await next();
  });
}
