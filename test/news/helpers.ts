import { env } from 'cloudflare:workers';
import { inject } from 'vitest';
import { call, createUser, expectStatus, type TestUser } from '../helpers/client';

/** The fixture feed server (test/fixtures/feeds/server.ts), started by test/global-setup.ts. */
export const feedUrl = (path: string) => `${inject('feedServerUrl')}${path}`;

/** A distinct URL of the same fixture feed (sources are unique by URL). */
export const uniqueFeed = (path: string) => `${feedUrl(path)}${path.includes('?') ? '&' : '?'}n=${crypto.randomUUID()}`;

/**
 * Makes the user staff by setting `users.role` in D1, as `npm run admin` will. Until the migration of
 * site roles (issue #13) is in, the test adds that column the way it will (role text, default user).
 */
export async function makeStaff(user: TestUser, role: 'moderator' | 'admin' = 'moderator'): Promise<TestUser> {
  const columns = await env.DB.prepare("SELECT name FROM pragma_table_info('users') WHERE name = 'role'").all();
  if (columns.results.length === 0) await env.DB.prepare("ALTER TABLE users ADD COLUMN role TEXT NOT NULL DEFAULT 'user'").run();
  await env.DB.prepare('UPDATE users SET role = ?2 WHERE id = ?1').bind(user.id, role).run();
  return user;
}

export async function createStaff(): Promise<TestUser> {
  return makeStaff(await createUser());
}

export async function addSource(staff: TestUser, body: Record<string, unknown>): Promise<any> {
  return expectStatus(await call('/admin/news/sources', { body, token: staff.accessToken }), 201);
}

export async function refresh(staff: TestUser, id: string): Promise<any> {
  return expectStatus(await call(`/admin/news/sources/${id}/refresh`, { method: 'POST', token: staff.accessToken }), 200);
}

/** The fixture server's log of requests whose path starts with `prefix`. */
export async function requestsTo(prefix: string): Promise<{ path: string; if_none_match: string | null; if_modified_since: string | null }[]> {
  const log = (await (await fetch(feedUrl('/log'))).json()) as { path: string; if_none_match: string | null; if_modified_since: string | null }[];
  return log.filter((r) => r.path.startsWith(prefix));
}
