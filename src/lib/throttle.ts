import type { D1Client } from '../db/client';
import { ApiError } from './errors';

/**
 * Fixed-window counters in D1 (`auth_throttles`) for limits longer than the rate-limit binding's 60 s:
 * failed logins per account, and how many strangers one account may reach in a day (src/policy/reach.ts).
 * A window starts at its first counted event and lasts `ms`; at most `max` events count in it.
 */
export interface ThrottleWindow {
  max: number;
  ms: number;
}

/** Reads a counter, as {@link throttleUse} takes it (a statement, to batch with other reads). */
export const throttleReadStatement = (db: D1Client, key: string): D1PreparedStatement =>
  db.prepare('SELECT window_start, count FROM auth_throttles WHERE key = ?1').bind(key);

/** How much of `window` a counter row has used at `now`, and when that window ends (a new one if it is over or absent). */
export function throttleUse(row: { window_start: number; count: number } | null | undefined, window: ThrottleWindow, now: number): { used: number; endsAt: number } {
  return row && row.window_start > now - window.ms ? { used: row.count, endsAt: row.window_start + window.ms } : { used: 0, endsAt: now + window.ms };
}

/**
 * The 429 for `n` events that did not fit `key`'s window (see {@link throttleTake}): `Retry-After` is
 * the seconds until the window ends, or `soonSeconds` should it have ended (or made room) meanwhile.
 */
export async function throttleRefusal(db: D1Client, key: string, window: ThrottleWindow, detail: string, n = 1, now = Date.now(), soonSeconds = 1): Promise<ApiError> {
  const { used, endsAt } = throttleUse(await throttleReadStatement(db, key).first<{ window_start: number; count: number }>(), window, now);
  const seconds = used + n <= window.max ? soonSeconds : Math.ceil((endsAt - now) / 1000);
  return new ApiError('rate_limited', detail, { headers: { 'Retry-After': String(seconds) } });
}

/**
 * Counts one event on `key` (a statement, to batch with what it counts). With `afterChange`, it counts
 * only when the statement before it in the batch changed a row (`changes()`), so an insert that found its
 * row already there costs nothing.
 */
export function throttleCountStatement(db: D1Client, key: string, window: ThrottleWindow, options: { afterChange?: boolean; now?: number } = {}): D1PreparedStatement {
  const now = options.now ?? Date.now();
  return db
    .prepare(
      `INSERT INTO auth_throttles (key, window_start, count) SELECT ?1, ?2, 1 WHERE ${options.afterChange ? 'changes() > 0' : 'true'}
       ON CONFLICT(key) DO UPDATE SET
         count = CASE WHEN window_start <= ?3 THEN 1 ELSE count + 1 END,
         window_start = CASE WHEN window_start <= ?3 THEN ?2 ELSE window_start END`,
    )
    .bind(key, now, now - window.ms);
}

/**
 * Takes `n` events of `key`'s window at once (with `whole`, all or none; otherwise as many as fit) in one
 * transaction, so concurrent takers can never pass `max` together, for an action that writes after it:
 * how many it took, and the window's start (for {@link throttleRelease}, should the write then fail).
 */
export async function throttleTake(db: D1Client, key: string, window: ThrottleWindow, n: number, options: { whole?: boolean; now?: number } = {}): Promise<{ taken: number; windowStart: number }> {
  const now = options.now ?? Date.now();
  const [before, after] = await db.batch<{ window_start: number; count: number }>([
    throttleReadStatement(db, key),
    db
      .prepare(
        `INSERT INTO auth_throttles (key, window_start, count) SELECT ?1, ?2, MIN(?4, ?5) WHERE ?4 <= ?5 OR NOT ?6
         ON CONFLICT(key) DO UPDATE SET
           count = CASE WHEN window_start <= ?3 THEN MIN(?4, ?5) ELSE MIN(count + ?4, ?5) END,
           window_start = CASE WHEN window_start <= ?3 THEN ?2 ELSE window_start END
         WHERE NOT ?6 OR (?4 <= ?5 AND (window_start <= ?3 OR count + ?4 <= ?5))
         RETURNING window_start, count`,
      )
      .bind(key, now, now - window.ms, n, window.max, options.whole ? 1 : 0),
  ]);
  const old = before?.results[0];
  const row = after?.results[0];
  if (!row) return { taken: 0, windowStart: old?.window_start ?? now };
  const taken = row.count - (old && old.window_start === row.window_start ? old.count : 0);
  return { taken: Math.max(0, taken), windowStart: row.window_start };
}

/** Gives back `n` events taken by {@link throttleTake} in the window that started at `windowStart` (none once a new one began). */
export async function throttleRelease(db: D1Client, key: string, windowStart: number, n: number): Promise<void> {
  await db.prepare('UPDATE auth_throttles SET count = MAX(0, count - ?3) WHERE key = ?1 AND window_start = ?2').bind(key, windowStart, n).run();
}

export async function clearThrottle(db: D1Client, key: string): Promise<void> {
  await db.prepare('DELETE FROM auth_throttles WHERE key = ?1').bind(key).run();
}

/**
 * Deletes the counters whose window is over for every one of `windows` (older than the longest): what a
 * count would reset anyway. Without it a row stayed for every account that ever failed a login or
 * followed someone.
 */
export async function pruneThrottles(db: D1Client, now: number, windows: ThrottleWindow[]): Promise<void> {
  await db.prepare('DELETE FROM auth_throttles WHERE window_start <= ?1').bind(now - Math.max(...windows.map((w) => w.ms))).run();
}
