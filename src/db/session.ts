import { hmacSha256 } from '../lib/crypto';
import { toBase64Url } from '../lib/encoding';

/**
 * D1 read replication through the Sessions API. Each request gets one session: its reads may go to
 * the nearest replica, its writes go to the primary, and every query in it sees the writes before it.
 * The session starts from the client's bookmark (the `X-D1-Bookmark` of its last answer), so a client
 * that sends it back reads at least what it wrote; without one it starts anywhere
 * (`first-unconstrained`). Every answer carries the session's newest bookmark.
 *
 * Kith signs the bookmarks it hands out (`<D1 bookmark>.<MAC>`) and honours only its own: a session
 * pinned to an arbitrary position would wait for a state this database never reaches, so a malformed,
 * forged or foreign bookmark (another database's, another deployment's) is ignored like no bookmark.
 */

/** The header both ways (request and response). */
export const BOOKMARK_HEADER = 'X-D1-Bookmark';

/** D1's own bookmark shape (the same locally and on Cloudflare): hex groups 8-8-8-32. */
const D1_BOOKMARK = /^[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{32}$/;
/** Bytes of HMAC-SHA256 kept in the signature (128 bits: 22 base64url characters). */
const MAC_BYTES = 16;
/** Signatures remembered per isolate: most requests see a bookmark this isolate already signed. */
const SIGNED_CACHE = 2048;

const signatures = new Map<string, string>();

async function signature(secret: string, bookmark: string): Promise<string> {
  let mac = signatures.get(bookmark);
  if (mac === undefined) {
    mac = toBase64Url((await hmacSha256(secret, `d1-bookmark:${bookmark}`)).subarray(0, MAC_BYTES));
    if (signatures.size >= SIGNED_CACHE) signatures.clear();
    signatures.set(bookmark, mac);
  }
  return mac;
}

/** The header value for a D1 bookmark: signed with the secret (plain when none is configured). */
export async function issueBookmark(secret: string | undefined, bookmark: string): Promise<string> {
  return secret ? `${bookmark}.${await signature(secret, bookmark)}` : bookmark;
}

/**
 * The D1 bookmark in a client's header when it is one Kith issued (well-formed and correctly signed),
 * else null: ignored. Without a secret nothing can be verified, so nothing is honoured.
 */
export async function acceptBookmark(secret: string | undefined, value: string | undefined | null): Promise<string | null> {
  if (!secret || !value || value.length > 100) return null;
  const dot = value.indexOf('.');
  const bookmark = value.slice(0, dot);
  if (dot !== 62 || !D1_BOOKMARK.test(bookmark)) return null;
  const expected = await signature(secret, bookmark);
  // Equal lengths by construction; a timing difference here reveals nothing worth having (a bookmark
  // only ever selects how fresh a replica must be).
  return value.slice(dot + 1) === expected ? bookmark : null;
}

/** Bookmarks sort lexicographically from oldest to newest (D1's documented order). */
export function newerBookmark(a: string | null, b: string | null): string | null {
  if (a === null) return b;
  if (b === null) return a;
  return a >= b ? a : b;
}

/**
 * The newest bookmark this isolate's own queries returned, so an answer that ran no query (a
 * validation error, a cached page) still carries a bookmark of this database, at least as new as
 * anything it served. Only D1's answers feed it (a client's bookmark is only ever echoed to that client).
 */
let newestSeen: string | null = null;

/** The newest bookmark this isolate's queries returned (null before its first). */
export const isolateBookmark = (): string | null => newestSeen;

/**
 * The D1 bookmark an answer carries: the session's own (its newest query) or, when the request ran
 * none, the client's (still true: nothing older was read) or the isolate's newest; as a last resort
 * one trivial query asks D1 for a current one.
 */
export async function responseBookmark(session: D1DatabaseSession, clientBookmark: string | null): Promise<string | null> {
  const own = session.getBookmark();
  if (own !== null && own !== clientBookmark) newestSeen = newerBookmark(newestSeen, own);
  let bookmark = own ?? clientBookmark ?? newestSeen;
  if (bookmark === null) {
    await session.prepare('SELECT 1').first();
    bookmark = session.getBookmark();
    newestSeen = newerBookmark(newestSeen, bookmark);
  }
  return bookmark;
}
