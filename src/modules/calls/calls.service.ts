import type { Context } from 'hono';
import type { D1Client } from '../../db/client';
import { ApiError } from '../../lib/errors';
import type { AppEnv, Bindings } from '../../lib/types';
import { afterResponse } from '../../middleware/after-response';

/** Cloudflare's public STUN server: what every client gets, with or without TURN. */
export const STUN_SERVER = { urls: ['stun:stun.cloudflare.com:3478'] };
/** Where the Realtime TURN API lives unless TURN_API_BASE says otherwise (tests point it at a local stand-in). */
export const TURN_API_BASE = 'https://rtc.live.cloudflare.com/v1';
/** Lifetime asked of Cloudflare for each set of TURN credentials (one set per user). */
export const TURN_TTL_SECONDS = 2 * 60 * 60;
/** Cached credentials are handed out until this long before they expire, so a client always gets at least this much. */
export const TURN_REFRESH_MARGIN_MS = 60 * 60 * 1000;
/** The TURN API gets this long to answer; past it, callers get STUN only. */
export const TURN_TIMEOUT_MS = 3000;
/** After a TURN API failure, STUN-only answers are served (and cached) this long before trying again. */
export const TURN_FAILURE_BACKOFF_MS = 30_000;
/** Credentials revoked by one call at most (newest first), within a request's subrequest budget; older ones expire within 2 hours. */
const MAX_REVOKED_AT_ONCE = 40;
/** A STUN-only list stays good this long (nothing in it expires; clients just refetch now and then). */
const STUN_ONLY_TTL_MS = 24 * 60 * 60 * 1000;

export interface IceServer {
  urls: string[];
  username?: string;
  credential?: string;
}
export interface IceServers {
  ice_servers: IceServer[];
  expires_at: string;
}

type Cached = { servers: IceServer[]; expiresAt: number; reuseUntil: number; userId: string; sessionId: string };
/**
 * Per isolate: each session's TURN credentials (keyed by TURN key and session), reused until shortly
 * before they expire (values, never another request's promise). Never shared between sessions, so
 * signing one device out revokes that device's credentials only, and never between accounts:
 * credentials one account hands on (or leaks) are that account's alone, and stop with it.
 */
const cached = new Map<string, Cached>();
/** Past this many sessions the isolate forgets them all (which only costs TURN API calls). */
const MAX_CACHED_SESSIONS = 5000;
/** After a failure of the TURN API (per key), STUN only until then. */
let failed: { keyId: string; until: number } | null = null;

/** Forgets cached credentials and failures (tests, and a key rotation seen by a new key id). */
export function clearIceServerCache(): void {
  cached.clear();
  failed = null;
}

/** Browsers refuse port 53 (Chrome and Firefox block it), so those URLs only slow ICE down. */
const usableUrl = (url: string) => !/:53(\?|$)/.test(url);

function parseIceServers(body: unknown): IceServer[] {
  const list = (body as { iceServers?: unknown })?.iceServers;
  if (!Array.isArray(list)) throw new Error('the TURN API answered without iceServers');
  return list.map((entry: { urls?: unknown; username?: unknown; credential?: unknown }) => {
    const urls = (Array.isArray(entry.urls) ? entry.urls : [entry.urls]).filter((u): u is string => typeof u === 'string' && usableUrl(u));
    if (urls.length === 0) throw new Error('the TURN API answered an ICE server without usable urls');
    const server: IceServer = { urls };
    if (typeof entry.username === 'string') server.username = entry.username;
    if (typeof entry.credential === 'string') server.credential = entry.credential;
    return server;
  });
}

const turnApi = (env: Bindings, keyId: string) => `${(env.TURN_API_BASE || TURN_API_BASE).replace(/\/$/, '')}/turn/keys/${encodeURIComponent(keyId)}/credentials`;

async function generate(env: Bindings, keyId: string, token: string): Promise<IceServer[]> {
  const res = await fetch(`${turnApi(env, keyId)}/generate-ice-servers`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ ttl: TURN_TTL_SECONDS }),
    signal: AbortSignal.timeout(TURN_TIMEOUT_MS),
  });
  if (!res.ok) throw new Error(`the TURN API answered ${res.status}`);
  return parseIceServers(await res.json());
}

/** Who credentials are for: a signed-in session of an account. */
export interface TurnHolder {
  userId: string;
  sessionId: string;
}

/**
 * Records new credentials' usernames for the session, only while it is live (in one statement, so a
 * sign-out that ran meanwhile, whose revocation read the rows before this one, cannot miss them): false
 * when it has ended, and the credentials must not be handed out.
 */
async function recordIssued(db: D1Client, keyId: string, holder: TurnHolder, servers: IceServer[], expiresAt: number, now: number): Promise<boolean> {
  const usernames = [...new Set(servers.flatMap((s) => (s.username ? [s.username] : [])))];
  if (usernames.length === 0) return true;
  const saved = await db
    .prepare(
      `INSERT INTO turn_credentials (username, user_id, session_id, key_id, expires_at)
       SELECT value, ?2, ?3, ?4, ?5 FROM json_each(?1)
       WHERE EXISTS (SELECT 1 FROM sessions WHERE id = ?3 AND user_id = ?2 AND revoked_at IS NULL AND expires_at > ?6)
       ON CONFLICT(username) DO NOTHING`,
    )
    .bind(JSON.stringify(usernames), holder.userId, holder.sessionId, keyId, expiresAt, now)
    .run();
  return saved.meta.changes > 0;
}

/**
 * The ICE servers a session should use: its own short-lived Cloudflare TURN credentials (from the TURN
 * key's `generate-ice-servers` API, recorded in `turn_credentials` so they can be revoked) when
 * TURN_KEY_ID and TURN_KEY_API_TOKEN are set, cached per isolate until {@link TURN_REFRESH_MARGIN_MS}
 * before they expire; else, or while the API fails, STUN only. 401 when the session ended meanwhile.
 */
export async function iceServers(env: Bindings, db: D1Client, holder: TurnHolder, now = Date.now()): Promise<IceServers> {
  const keyId = env.TURN_KEY_ID;
  const token = env.TURN_KEY_API_TOKEN;
  const stunOnly = (until: number): IceServers => ({ ice_servers: [STUN_SERVER], expires_at: new Date(until).toISOString() });
  if (!keyId || !token) return stunOnly(now + STUN_ONLY_TTL_MS);
  if (failed?.keyId === keyId && now < failed.until) return stunOnly(failed.until);
  const cacheKey = `${keyId}:${holder.sessionId}`;
  const mine = cached.get(cacheKey);
  if (mine && now < mine.reuseUntil) return { ice_servers: mine.servers, expires_at: new Date(mine.expiresAt).toISOString() };
  let servers: IceServer[];
  try {
    servers = await generate(env, keyId, token);
  } catch (err) {
    console.error(JSON.stringify({ level: 'error', message: 'TURN credentials unavailable; serving STUN only', error: String(err) }));
    // Served briefly, so clients come back for TURN soon and the API is not hammered meanwhile.
    failed = { keyId, until: now + TURN_FAILURE_BACKOFF_MS };
    return stunOnly(failed.until);
  }
  const expiresAt = now + TURN_TTL_SECONDS * 1000;
  if (!(await recordIssued(db, keyId, holder, servers, expiresAt, now))) throw new ApiError('unauthorized', 'The session has ended; log in again.');
  if (cached.size >= MAX_CACHED_SESSIONS) cached.clear();
  cached.set(cacheKey, { servers, expiresAt, reuseUntil: expiresAt - TURN_REFRESH_MARGIN_MS, ...holder });
  return { ice_servers: servers, expires_at: new Date(expiresAt).toISOString() };
}

/** Revokes one username at Cloudflare: true when it no longer works (revoked now, or unknown there: expired). */
async function revokeOne(env: Bindings, keyId: string, token: string, username: string): Promise<boolean> {
  const res = await fetch(`${turnApi(env, keyId)}/${encodeURIComponent(username)}/revoke`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}` },
    signal: AbortSignal.timeout(TURN_TIMEOUT_MS),
  });
  await res.body?.cancel();
  if (res.ok || res.status === 404) return true;
  throw new Error(`the TURN API answered ${res.status}`);
}

/**
 * Revokes at Cloudflare the unexpired TURN credentials of some sessions of an account (`sessionIds`) or
 * of all of them, when their sessions end, the account is suspended or deleted: a relay credential
 * handed out must not outlive the access it came with. The credentials are looked up now (an account's
 * deletion cascades their rows); the calls to Cloudflare go after the answer (`afterResponse`), so a slow
 * TURN API never holds up a sign-out or a suspension. They run even when the answer is an error
 * (`evenOnError`: a reused refresh token's session is revoked and answered 401), unless `onlyIfAnswered`
 * (the account's deletion: revoked only once it is gone). At most {@link MAX_REVOKED_AT_ONCE}, side by
 * side, {@link TURN_TIMEOUT_MS} each; the revoked ones are forgotten, the others kept (a later revocation
 * tries them again; they end at their expiry anyway) and logged. Never throws.
 */
export async function revokeTurnCredentials(
  c: Context<AppEnv>,
  whose: { userId: string; sessionIds?: string[] },
  options: { onlyIfAnswered?: boolean; now?: number } = {},
): Promise<void> {
  for (const [key, entry] of cached) {
    if (entry.userId === whose.userId && (!whose.sessionIds || whose.sessionIds.includes(entry.sessionId))) cached.delete(key);
  }
  const env = c.env;
  const keyId = env.TURN_KEY_ID;
  const token = env.TURN_KEY_API_TOKEN;
  // Without a key nothing was handed out (and nothing could be revoked).
  if (!keyId || !token || whose.sessionIds?.length === 0) return;
  let issued: { username: string; key_id: string }[];
  try {
    ({ results: issued } = await env.DB.prepare(
      `SELECT username, key_id FROM turn_credentials
       WHERE user_id = ?1 AND (?2 IS NULL OR session_id IN (SELECT value FROM json_each(?2))) AND expires_at > ?3
       ORDER BY expires_at DESC LIMIT ?4`,
    )
      .bind(whose.userId, whose.sessionIds ? JSON.stringify(whose.sessionIds) : null, options.now ?? Date.now(), MAX_REVOKED_AT_ONCE)
      .all<{ username: string; key_id: string }>());
  } catch (err) {
    console.error(JSON.stringify({ level: 'error', message: 'TURN credentials not revoked', user_id: whose.userId, error: String(err) }));
    return;
  }
  if (issued.length === 0) return;
  afterResponse(
    c,
    'turn_revocation',
    async () => {
      const outcomes = await Promise.allSettled(
        issued.map((row) => (row.key_id === keyId ? revokeOne(env, keyId, token, row.username) : Promise.reject(new Error('made with another TURN key')))),
      );
      const revoked = issued.filter((_, i) => outcomes[i]!.status === 'fulfilled').map((row) => row.username);
      if (revoked.length > 0) await env.DB.prepare('DELETE FROM turn_credentials WHERE username IN (SELECT value FROM json_each(?1))').bind(JSON.stringify(revoked)).run();
      for (const outcome of outcomes) {
        if (outcome.status === 'rejected') console.error(JSON.stringify({ level: 'warn', message: 'TURN credentials not revoked; they end at their expiry', user_id: whose.userId, error: String(outcome.reason) }));
      }
    },
    { evenOnError: !options.onlyIfAnswered },
  );
}
