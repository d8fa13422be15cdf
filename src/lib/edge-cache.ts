import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import { routePath } from 'hono/route';
import type { D1Client } from '../db/client';
import { acceptBookmark, BOOKMARK_HEADER, isolateBookmark, issueBookmark } from '../db/session';
import { recordRequest } from './metrics';
import type { AppEnv, Bindings } from './types';

/**
 * Edge caching of anonymous reads with the Cache API (`caches.default`, one cache per Cloudflare data
 * centre). Only a GET without `Authorization` (and without `If-None-Match`) is looked up or stored, and
 * only a 200 is stored, so an answer shaped for a signed-in caller (relationship flags, `liked_by_me`,
 * their filters, their private posts) never enters the shared cache and nobody is served one from it.
 *
 * Each route belongs to a group whose *epoch* is part of every key: changing one object deletes its
 * keys (profile, post, media variants), and a change that touches many (a suspension, a community
 * edit, a trends refresh) moves the group's epoch, which orphans every key of that group at once
 * (they expire on their own). The epoch lives in the cache too, so every isolate of the data centre
 * sees it; each isolate re-reads it at most every {@link EPOCH_REFRESH_MS}.
 *
 * Purges reach the data centre that made the change (where its author's next anonymous read is most
 * likely to land); elsewhere the short TTLs below bound how stale a copy can be.
 */
export type EdgeCacheGroup = 'users' | 'posts' | 'communities' | 'trends' | 'media';

/**
 * Edge TTL in seconds per group. Profiles and posts: 60 s, since their counts (followers, likes,
 * comments) change without a purge and a minute of lag on a number is what a visitor tolerates.
 * The communities list: 30 s, since member counts and new communities move its order. Trends: 120 s
 * (recomputed every 10 minutes, and a refresh moves the epoch). Media: a day, since a key names its
 * bytes (owner id + keyed hash) and never changes; only a deletion, a withdrawal (its post gone) or
 * its owner's suspension ends it, and each purges.
 */
export const EDGE_TTL: Record<EdgeCacheGroup, number> = { users: 60, posts: 60, communities: 30, trends: 120, media: 86_400 };

/** How long an isolate trusts the epoch it last read. */
export const EPOCH_REFRESH_MS = 1_000;
/** Cache keys live under this origin (never served): a key names its group and epoch. */
const KEY_ORIGIN = 'https://edge-cache.kith.internal';
/** The only headers a stored copy keeps: nothing per request (ids, bookmarks, CORS) or per user. */
const STORED_HEADERS = ['content-type', 'etag', 'content-disposition', 'content-security-policy', 'last-modified'];
export const CACHE_STATUS_HEADER = 'X-Cache';
/** What a JSON answer tells browsers and proxies: purges cannot reach them, so they revalidate. */
export const SHARED_JSON_CACHE_CONTROL = 'public, max-age=0, must-revalidate';
/** An answer for a signed-in caller: never kept by a shared cache. */
export const PRIVATE_CACHE_CONTROL = 'private, no-store';

/**
 * In front of the Cache API, each isolate keeps what it just served of small JSON answers for
 * {@link MEMORY_TTL_MS}: a hot key (a celebrity's profile) is then answered without even the cache
 * lookup. A purge in this isolate drops its copy at once; other isolates' copies expire within the
 * second, as their epochs do. Media bytes are never held in memory.
 */
export const MEMORY_TTL_MS = 1_000;
const MEMORY_MAX_ENTRIES = 1_000;
const MEMORY_MAX_BYTES = 64 * 1024;
const memory = new Map<string, { body: ArrayBuffer; headers: [string, string][]; until: number }>();

/** This isolate's copy of a key while it is fresh (an expired one is dropped). */
function freshCopy(key: string) {
  const kept = memory.get(key);
  if (!kept) return null;
  if (kept.until > Date.now()) return kept;
  memory.delete(key);
  return null;
}

function fromMemory(key: string): Response | null {
  const kept = freshCopy(key);
  return kept ? new Response(kept.body, { status: 200, headers: kept.headers }) : null;
}

/** Keeps a small JSON answer in this isolate; returns a fresh Response with the same body. */
async function keepInMemory(key: string, response: Response): Promise<Response> {
  if (!(response.headers.get('Content-Type') ?? '').includes('json')) return response;
  const body = await response.arrayBuffer();
  if (body.byteLength <= MEMORY_MAX_BYTES) {
    if (memory.size >= MEMORY_MAX_ENTRIES) memory.delete(memory.keys().next().value!);
    memory.set(key, { body, headers: [...response.headers], until: Date.now() + MEMORY_TTL_MS });
  }
  return new Response(body, response);
}

/**
 * The front: the isolate's copies by the path and query a request asked for, answered by
 * {@link answerFromFront} before the app runs at all. Only copies of routes whose hit needs nothing of
 * the request (not posts: a hit still counts an impression). `headers` are those the app's own answer
 * went out with (security headers, `Vary`, `Cache-Control`, …), less the ones made per request; they
 * are noted by {@link noteFrontHeaders} from the first answer the app gives for the entry.
 */
interface FrontEntry {
  key: string;
  group: EdgeCacheGroup;
  epoch: string;
  route: string;
  headers?: Headers;
}
const front = new Map<string, FrontEntry>();
/**
 * Headers of an answer that belong to its request, never copied from one answer to another (`age` and
 * `cf-cache-status` come with a copy the Cache API returned, not with one this isolate kept).
 */
const PER_REQUEST_HEADERS = new Set(['x-request-id', 'x-d1-bookmark', 'x-cache', 'content-length', 'date', 'set-cookie', 'age', 'cf-cache-status']);

function noteFront(path: string, entry: FrontEntry): void {
  const known = front.get(path);
  if (known && known.key === entry.key) return;
  if (front.size >= MEMORY_MAX_ENTRIES) front.delete(front.keys().next().value!);
  front.set(path, entry);
}

/** The path and query of a URL string, without parsing it. */
function pathAndQuery(url: string): string {
  return url.slice(url.indexOf('/', url.indexOf('//') + 2));
}

/** A request the front may answer: an anonymous, unconditional GET from no other origin. */
function frontEligible(request: Request): boolean {
  const h = request.headers;
  return request.method === 'GET' && !h.has('Authorization') && !h.has('If-None-Match') && !h.has('Origin');
}

/** Hono's request-id rule (src/app-shell.ts): the client's own id when it is short and plain, else a new one. */
function requestIdOf(request: Request): string {
  const sent = request.headers.get('X-Request-Id');
  return sent && sent.length <= 128 && !/[^\w\-=]/.test(sent) ? sent : crypto.randomUUID();
}

/**
 * The worker's first step (src/index.ts): an anonymous GET (no `Authorization`, no `If-None-Match`, no
 * `Origin`, so no CORS answer to make) that this isolate answered from the edge cache within
 * {@link MEMORY_TTL_MS} (same path and query, its group's epoch unchanged and fresh) gets that copy at
 * once: `X-Cache: HIT`, the headers the app's answer had, a request id, the isolate's newest
 * `X-D1-Bookmark` (or the client's own when it sent a valid one), and its metrics point. It costs no D1
 * read, no cache lookup, no object call and no routing, so it is not counted by the rate limiter: the
 * first read of a path in each second is. Anything else: null, and the app answers.
 */
export async function answerFromFront(request: Request, env: Bindings): Promise<Response | null> {
  if (front.size === 0 || !frontEligible(request)) return null;
  const path = pathAndQuery(request.url);
  const entry = front.get(path);
  if (!entry?.headers) return null;
  const epoch = epochs.get(entry.group);
  const kept = epoch && epoch.value === entry.epoch && Date.now() - epoch.readAt < EPOCH_REFRESH_MS ? freshCopy(entry.key) : null;
  if (!kept) {
    front.delete(path);
    return null;
  }
  const sent = request.headers.get(BOOKMARK_HEADER);
  const bookmark = (sent === null ? null : await acceptBookmark(env.JWT_SECRET, sent)) ?? isolateBookmark();
  if (bookmark === null) return null;
  if (issued?.bookmark !== bookmark || issued.secret !== env.JWT_SECRET) issued = { bookmark, secret: env.JWT_SECRET, value: await issueBookmark(env.JWT_SECRET, bookmark) };
  recordRequest(env.METRICS, request, { route: entry.route, method: 'GET', status: 200, durationMs: 0 });
  // The noted headers are copied from a Headers object (native to native, cheaper than from a list).
  const response = new Response(kept.body, { status: 200, headers: entry.headers });
  response.headers.set('X-Request-Id', requestIdOf(request));
  response.headers.set(CACHE_STATUS_HEADER, 'HIT');
  response.headers.set(BOOKMARK_HEADER, issued.value);
  return response;
}

/** The header value of the bookmark the front last answered with (most answers carry the same one). */
let issued: { bookmark: string; secret: string | undefined; value: string } | undefined;

/**
 * After the app answered: when the answer was a 200 for a path the front now knows but has no headers
 * for, the front keeps this answer's headers (less those made per request) for the next ones.
 */
export function noteFrontHeaders(request: Request, response: Response): void {
  if (front.size === 0 || response.status !== 200 || !frontEligible(request)) return;
  const entry = front.get(pathAndQuery(request.url));
  if (!entry || entry.headers) return;
  entry.headers = new Headers([...response.headers].filter(([name]) => !PER_REQUEST_HEADERS.has(name.toLowerCase())));
}

const epochs = new Map<EdgeCacheGroup, { value: string; readAt: number }>();
const epochKey = (group: EdgeCacheGroup) => `${KEY_ORIGIN}/_epoch/${group}`;
const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

async function epochOf(group: EdgeCacheGroup): Promise<string> {
  const known = epochs.get(group);
  const now = Date.now();
  if (known && now - known.readAt < EPOCH_REFRESH_MS) return known.value;
  const stored = await caches.default.match(epochKey(group));
  const value = stored ? await stored.text() : '0';
  epochs.set(group, { value, readAt: now });
  return value;
}

/**
 * The key of a path in a group: the query sorted, and a username (anything not id-shaped) lower-cased,
 * as lookups are case-insensitive.
 */
function keyPath(group: EdgeCacheGroup, path: string, search = ''): string {
  const params = new URLSearchParams(search);
  params.sort();
  const query = params.toString();
  const last = path.slice(path.lastIndexOf('/') + 1);
  const normal = group === 'users' && !ULID.test(last) ? path.toLowerCase() : path;
  return query ? `${normal}?${query}` : normal;
}

const keyIn = (group: EdgeCacheGroup, epoch: string, path: string) => `${KEY_ORIGIN}/${group}/${epoch}${path}`;
const keyOf = async (group: EdgeCacheGroup, path: string) => keyIn(group, await epochOf(group), path);

/** True when the request speaks for a user (a bearer token, even a bad one, or a socket `?token=`). */
export function isAuthenticated(request: Request): boolean {
  return request.headers.has('Authorization') || new URL(request.url).searchParams.has('token');
}

function withHeaders(response: Response, headers: Record<string, string>): Response {
  const copy = new Response(response.body, response);
  for (const [name, value] of Object.entries(headers)) copy.headers.set(name, value);
  return copy;
}

/**
 * Route middleware (before `optionalAuth`): serves an anonymous GET from the edge cache, or runs the
 * route and stores its 200. Answers say `X-Cache: HIT`, `MISS` or `BYPASS` (signed in or conditional);
 * anonymous ones go out with `clientCacheControl` (JSON: revalidate every time, as purges cannot reach
 * browsers and proxies; media keeps its immutable year). `onHit` sees what a hit served (a post's
 * impression still counts when the edge answers for it).
 */
export function edgeCache(group: EdgeCacheGroup, options: { clientCacheControl?: string; onHit?: (c: Context<AppEnv>) => void } = {}) {
  const clientCacheControl = options.clientCacheControl ?? SHARED_JSON_CACHE_CONTROL;
  return createMiddleware<AppEnv>(async function edgeCacheMiddleware(c, next) {
    if (c.req.method !== 'GET' || isAuthenticated(c.req.raw) || c.req.header('If-None-Match') !== undefined) {
      await next();
      if (c.res.status === 200) c.res = withHeaders(c.res, { [CACHE_STATUS_HEADER]: 'BYPASS', Vary: 'Authorization' });
      return;
    }
    const url = new URL(c.req.url);
    const epoch = await epochOf(group);
    const key = keyIn(group, epoch, keyPath(group, url.pathname, url.search));
    const remember = () => {
      if (!options.onHit && memory.has(key)) noteFront(url.pathname + url.search, { key, group, epoch, route: routePath(c, -1) });
    };
    const stored = fromMemory(key) ?? (await caches.default.match(key).then((r) => (r ? keepInMemory(key, r) : null)));
    if (stored) {
      options.onHit?.(c);
      remember();
      return withHeaders(stored, { [CACHE_STATUS_HEADER]: 'HIT', Vary: 'Authorization', 'Cache-Control': clientCacheControl });
    }
    await next();
    if (c.res.status !== 200) return;
    const headers = new Headers({ 'Cache-Control': `public, s-maxage=${EDGE_TTL[group]}` });
    for (const name of STORED_HEADERS) {
      const value = c.res.headers.get(name);
      if (value !== null) headers.set(name, value);
    }
    const copy = c.res.clone();
    try {
      const kept = await keepInMemory(key, new Response(copy.body, { status: 200, headers }));
      remember();
      await caches.default.put(key, kept);
    } catch (err) {
      // A full or unavailable cache costs a miss, never the answer.
      console.error(JSON.stringify({ level: 'warn', message: 'edge cache put failed', key, error: String(err) }));
    }
    c.res = withHeaders(c.res, { [CACHE_STATUS_HEADER]: 'MISS', Vary: 'Authorization', 'Cache-Control': clientCacheControl });
  });
}

/**
 * App middleware: an answer to a signed-in caller is `Cache-Control: private` (a `public` directive a
 * route set, as media does, becomes `private`), so no shared cache downstream keeps it either.
 */
export const privateWhenAuthenticated = createMiddleware<AppEnv>(async function privateWhenAuthenticatedMiddleware(c, next) {
  await next();
  if (!isAuthenticated(c.req.raw) || c.res.status === 101) return;
  const current = c.res.headers.get('Cache-Control');
  const value = current && /\bpublic\b/.test(current) ? current.replace(/\bpublic\b/, 'private') : current && /\b(private|no-store)\b/.test(current) ? current : PRIVATE_CACHE_CONTROL;
  try {
    c.res.headers.set('Cache-Control', value);
  } catch {
    c.header('Cache-Control', value);
  }
});

/** Deletes the cached copies of these paths (`/api/v1/users/alice`, …) in this data centre. */
export async function purgeEdgePaths(group: EdgeCacheGroup, paths: string[]): Promise<void> {
  await Promise.all(
    paths.map(async (path) => {
      try {
        const key = await keyOf(group, keyPath(group, path));
        memory.delete(key);
        await caches.default.delete(key);
      } catch (err) {
        console.error(JSON.stringify({ level: 'warn', message: 'edge cache purge failed', path, error: String(err) }));
      }
    }),
  );
}

/** Moves the epoch of whole groups: every cached copy in them is orphaned at once (in this data centre). */
export async function purgeEdgeGroups(...groups: EdgeCacheGroup[]): Promise<void> {
  for (const group of groups) {
    const value = `${Date.now().toString(36)}-${crypto.randomUUID().slice(0, 8)}`;
    epochs.set(group, { value, readAt: Date.now() });
    try {
      await caches.default.put(epochKey(group), new Response(value, { headers: { 'Cache-Control': 'public, s-maxage=604800' } }));
    } catch (err) {
      console.error(JSON.stringify({ level: 'warn', message: 'edge cache epoch move failed', group, error: String(err) }));
    }
  }
}

export const ALL_EDGE_GROUPS = Object.keys(EDGE_TTL) as EdgeCacheGroup[];

/** The API path of a profile, by id and by username. */
export const profilePaths = (user: { id: string; username: string }) => [`/api/v1/users/${user.id}`, `/api/v1/users/${user.username}`];
export const postPath = (id: string) => `/api/v1/posts/${id}`;

/**
 * Purges the profiles of users known by id (their counts changed: a post, a follow, a friendship), under
 * both names; one D1 read finds the usernames.
 */
export async function purgeProfilesById(d1: D1Client, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  const { results } = await d1.prepare('SELECT id, username FROM users WHERE id IN (SELECT value FROM json_each(?1))').bind(JSON.stringify(ids)).all<{ id: string; username: string }>();
  await purgeEdgePaths('users', results.flatMap(profilePaths));
}

/** Purges a user's profile under both names (and an old username after a rename). */
export function purgeProfile(user: { id: string; username: string }, oldUsername?: string): Promise<void> {
  return purgeEdgePaths('users', [...profilePaths(user), ...(oldUsername && oldUsername !== user.username ? [`/api/v1/users/${oldUsername}`] : [])]);
}
