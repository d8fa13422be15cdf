import { createMiddleware } from 'hono/factory';
import { createDb, withStableLimits } from '../db/client';
import { acceptBookmark, BOOKMARK_HEADER, issueBookmark, responseBookmark } from '../db/session';
import { configurePasswordHashing } from '../lib/crypto';
import { createMailer } from '../lib/mailer';
import type { AppEnv } from '../lib/types';

/**
 * Puts the per-request services on the context, so handlers never build clients themselves: one D1
 * session per request (from the client's `X-D1-Bookmark` when it is one Kith issued, its statements'
 * bound limits kept out of the planner's sight: withStableLimits), Drizzle over it, the mailer. Every
 * answer then carries the session's bookmark in `X-D1-Bookmark` (src/db/session.ts).
 */
export const services = createMiddleware<AppEnv>(async function servicesMiddleware(c, next) {
  configurePasswordHashing(c.env.PASSWORD_HASH_ITERATIONS);
  const clientBookmark = await acceptBookmark(c.env.JWT_SECRET, c.req.header(BOOKMARK_HEADER));
  const session = c.env.DB.withSession(clientBookmark ?? 'first-unconstrained');
  const d1 = withStableLimits(session);
  const db = createDb(d1);
  c.set('d1', d1);
  c.set('db', db);
  c.set('mailer', createMailer(c.env, db));
  c.set('baseUrl', new URL(c.req.url).origin);
  await next();
  const bookmark = await responseBookmark(session, clientBookmark);
  if (bookmark === null) return;
  const value = await issueBookmark(c.env.JWT_SECRET, bookmark);
  try {
    c.res.headers.set(BOOKMARK_HEADER, value);
  } catch {
    // An answer with immutable headers (a socket upgrade from a Durable Object): Hono copies it.
    c.header(BOOKMARK_HEADER, value);
  }
});
