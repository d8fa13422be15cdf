import { createMiddleware } from 'hono/factory';
import { createDb } from '../db/client';
import { configurePasswordHashing } from '../lib/crypto';
import { createMailer } from '../lib/mailer';
import type { AppEnv } from '../lib/types';

/** Puts the per-request services on the context, so handlers never build clients themselves. */
export const services = createMiddleware<AppEnv>(async function servicesMiddleware(c, next) {
  configurePasswordHashing(c.env.PASSWORD_HASH_ITERATIONS);
  const db = createDb(c.env.DB);
  c.set('db', db);
  c.set('mailer', createMailer(c.env, db));
  c.set('baseUrl', new URL(c.req.url).origin);
  await next();
});
