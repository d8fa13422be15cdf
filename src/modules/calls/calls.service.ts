import type { Bindings } from '../../lib/types';

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

type Cached = { servers: IceServer[]; expiresAt: number; reuseUntil: number };
/**
 * Per isolate: each user's TURN credentials (keyed by TURN key and user), reused until shortly before
 * they expire (values, never another request's promise). Never shared between users: credentials one
 * account hands on (or leaks) are that account's alone, and stop with it.
 */
const cached = new Map<string, Cached>();
/** Past this many users the isolate forgets them all (which only costs TURN API calls). */
const MAX_CACHED_USERS = 5000;
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

async function generate(env: Bindings, keyId: string, token: string): Promise<IceServer[]> {
  const base = (env.TURN_API_BASE || TURN_API_BASE).replace(/\/$/, '');
  const res = await fetch(`${base}/turn/keys/${encodeURIComponent(keyId)}/credentials/generate-ice-servers`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ ttl: TURN_TTL_SECONDS }),
    signal: AbortSignal.timeout(TURN_TIMEOUT_MS),
  });
  if (!res.ok) throw new Error(`the TURN API answered ${res.status}`);
  return parseIceServers(await res.json());
}

/**
 * The ICE servers `userId` should use: their own short-lived Cloudflare TURN credentials (from the TURN
 * key's `generate-ice-servers` API) when TURN_KEY_ID and TURN_KEY_API_TOKEN are set, cached per isolate
 * until {@link TURN_REFRESH_MARGIN_MS} before they expire; else, or while the API fails, STUN only.
 */
export async function iceServers(env: Bindings, userId: string, now = Date.now()): Promise<IceServers> {
  const keyId = env.TURN_KEY_ID;
  const token = env.TURN_KEY_API_TOKEN;
  const stunOnly = (until: number): IceServers => ({ ice_servers: [STUN_SERVER], expires_at: new Date(until).toISOString() });
  if (!keyId || !token) return stunOnly(now + STUN_ONLY_TTL_MS);
  if (failed?.keyId === keyId && now < failed.until) return stunOnly(failed.until);
  const cacheKey = `${keyId}:${userId}`;
  const mine = cached.get(cacheKey);
  if (mine && now < mine.reuseUntil) return { ice_servers: mine.servers, expires_at: new Date(mine.expiresAt).toISOString() };
  try {
    const servers = await generate(env, keyId, token);
    const expiresAt = now + TURN_TTL_SECONDS * 1000;
    if (cached.size >= MAX_CACHED_USERS) cached.clear();
    cached.set(cacheKey, { servers, expiresAt, reuseUntil: expiresAt - TURN_REFRESH_MARGIN_MS });
    return { ice_servers: servers, expires_at: new Date(expiresAt).toISOString() };
  } catch (err) {
    console.error(JSON.stringify({ level: 'error', message: 'TURN credentials unavailable; serving STUN only', error: String(err) }));
    // Served briefly, so clients come back for TURN soon and the API is not hammered meanwhile.
    failed = { keyId, until: now + TURN_FAILURE_BACKOFF_MS };
    return stunOnly(failed.until);
  }
}
