import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../lib/types';
import { queueImpressions } from '../queues/impressions.producer';

/**
 * Notes posts a GET serves (a feed page, a list, a read) as impressions: the caller's own posts do not
 * count. Mutations that answer with a post (edit, like) are not views.
 */
export function notePostImpressions(c: Context<AppEnv>, posts: { id: string; authorId?: string }[]): void {
  if (c.req.method !== 'GET' || posts.length === 0) return;
  const viewerId = c.get('auth')?.userId;
  let seen = c.get('impressions');
  if (!seen) c.set('impressions', (seen = new Set()));
  for (const post of posts) if (post.authorId === undefined || post.authorId !== viewerId) seen.add(post.id);
}

/**
 * App middleware: once the answer is made, the posts it served join this isolate's pending impressions,
 * sent to the queue as one message about a second later (src/queues/impressions.producer.ts), after the
 * response (waitUntil), so reading never waits for counting. A failed send loses those impressions and
 * is logged; it never fails the read.
 */
export const impressions = createMiddleware<AppEnv>(async function impressionsMiddleware(c, next) {
  await next();
  const ids = c.get('impressions');
  if (!ids || ids.size === 0 || c.res.status !== 200) return;
  const viewer = c.get('auth')?.userId ?? `ip:${c.req.header('CF-Connecting-IP') ?? 'unknown'}`;
  let waitUntil: ((promise: Promise<unknown>) => void) | undefined;
  try {
    const ctx = c.executionCtx;
    waitUntil = (promise) => ctx.waitUntil(promise);
  } catch {
    // No execution context (app.request in a unit test): sent now, alone.
  }
  await queueImpressions(c.env, viewer, [...ids], waitUntil).catch((err) => {
    console.error(JSON.stringify({ level: 'warn', message: 'impressions not queued', count: ids.size, error: String(err) }));
  });
});
