import type { SiteRole } from '../db/schema';

/**
 * Sessions confirmed live by D1 in the last few seconds, per isolate, with the account's site role, so
 * an authenticated read costs no extra D1 round trip. Revocations, suspensions and role changes made in
 * this isolate evict at once; another isolate may still accept such a session for a READ for at most
 * {@link SESSION_CACHE_MS}. Writes never trust this cache (middleware/auth.ts confirms them with D1), so
 * a revoked or suspended account cannot change anything anywhere once D1 says so.
 */
export const SESSION_CACHE_MS = 10_000;
const MAX_ENTRIES = 10_000;

const live = new Map<string, { userId: string; role: SiteRole; until: number }>();

/** The cached role of a live session, or null when this isolate has no fresh word on it. */
export function cachedSessionRole(sessionId: string, userId: string, now = Date.now()): SiteRole | null {
  const entry = live.get(sessionId);
  return entry !== undefined && entry.userId === userId && entry.until > now ? entry.role : null;
}

export function rememberLive(sessionId: string, userId: string, role: SiteRole, now = Date.now()): void {
  if (live.size >= MAX_ENTRIES) live.clear();
  live.set(sessionId, { userId, role, until: now + SESSION_CACHE_MS });
}

/** Evicts one session, or every session of a user (optionally keeping one). */
export function forgetSessions(target: { sessionId?: string; userId?: string; except?: string }): void {
  if (target.sessionId) live.delete(target.sessionId);
  if (target.userId) {
    for (const [id, entry] of live) if (entry.userId === target.userId && id !== target.except) live.delete(id);
  }
}
