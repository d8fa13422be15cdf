import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../lib/types';

/** Sees each job as it starts, and when it is done (tests: two answers that must not differ leave the same work). */
export type AfterResponseListener = (kind: string, done: Promise<void>) => void;
const listeners = new Set<AfterResponseListener>();

/** Subscribes to the jobs requests leave for after their answer; returns the unsubscribe. */
export function onAfterResponse(listener: AfterResponseListener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/**
 * Leaves `run` to start once the answer is complete (headers included: the D1 bookmark is taken
 * before), in the background (`waitUntil`). For work whose presence or length must not show in the
 * answer (whether an address belongs to an account must not be readable off how long the answer
 * took), or that must not hold the answer up (calls to an outside API).
 * It runs only when the request succeeded, unless `evenOnError` (work that follows a write already
 * committed, whatever the answer); a failure is logged, never thrown.
 */
export function afterResponse(c: Context<AppEnv>, kind: string, run: () => Promise<void>, options: { evenOnError?: boolean } = {}): void {
  let later = c.get('afterResponse');
  if (!later) c.set('afterResponse', (later = []));
  later.push({ kind, run, evenOnError: options.evenOnError === true });
}

/** App middleware, outside `services`: starts the jobs {@link afterResponse} left, once the answer is made. */
export const afterResponseWork = createMiddleware<AppEnv>(async function afterResponseMiddleware(c, next) {
  await next();
  const later = c.get('afterResponse');
  if (!later || later.length === 0) return;
  for (const { kind, run, evenOnError } of later) {
    if (c.res.status >= 400 && !evenOnError) continue;
    const done = run().catch((err: unknown) => {
      console.error(JSON.stringify({ level: 'error', message: 'work after the response failed', kind, error: String((err as Error)?.message ?? err) }));
    });
    for (const listener of listeners) listener(kind, done);
    try {
      c.executionCtx.waitUntil(done);
    } catch {
      // No execution context (app.request from a script): the promise still runs.
    }
  }
});
