/**
 * Sessions confirmed live by D1 in the last few seconds, per isolate, so an authenticated request costs
 * no extra D1 round trip. Revocations made in this isolate evict at once; another isolate may accept a
 * revoked session's access token for at most {@link SESSION_CACHE_MS} (access tokens themselves live
 * 15 minutes, so this is far tighter than plain JWT expiry).
 */
export const SESSION_CACHE_MS = 10_000;
const MAX_ENTRIES = 10_000;

const live = new Map<string, { userId: string; until: number }>();

export function isCachedLive(sessionId: string, userId: string, now = Date.now()): boolean {
  const entry = live.get(sessionId);
  return entry !== undefined && entry.userId === userId && entry.until > now;
}

export function rememberLive(sessionId: string, userId: string, now = Date.now()): void {
  if (live.size >= MAX_ENTRIES) live.clear();
  live.set(sessionId, { userId, until: now + SESSION_CACHE_MS });
}

/** Evicts one session, or every session of a user (optionally keeping one). */
export function forgetSessions(target: { sessionId?: string; userId?: string; except?: string }): void {
  if (target.sessionId) live.delete(target.sessionId);
  if (target.userId) {
    for (const [id, entry] of live) if (entry.userId === target.userId && id !== target.except) live.delete(id);
  }
}
