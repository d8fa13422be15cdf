import type { Context } from 'hono';
import type { UserSummary } from '../../db/schema';
import { openCursor, toSealedPage } from '../../lib/pagination';
import type { AppEnv } from '../../lib/types';
import { presentCommunities, rowOf as communityRow } from '../communities/communities.service';
import { loadRankedSkeleton } from '../posts/post-pipeline';
import { fillVisiblePage, postListCursor } from '../posts/posts.service';
import type { Post } from '../posts/posts.schemas';
import { presentPublicUser } from '../users/users.presenter';
import { USERNAME_RULE } from '../users/users.schemas';
import { ftsMatch, parseSearchText, PREFIX_FROM, type SearchTerms } from './search-query';
import {
  COMMUNITY_SEARCH_SQL,
  POSTS_SNAPSHOT_SQL,
  postSearchSql,
  TAG_SEARCH_SQL,
  USER_SEARCH_FILL_SQL,
  USER_SEARCH_TTL_MS,
  userSearchSql,
  type UserSearchSource,
} from './search.queries';
import { SEARCH_PREVIEW, type SearchType } from './search.schemas';

/** Where a ranked list starts: above every (score, id). */
const TOP: [number, string] = [Number.MAX_VALUE, ''];

type Page<T> = { data: T[]; next_cursor: string | null };
const EMPTY = { data: [], next_cursor: null };

/** The (score, id) a sealed ranked-list cursor names, or the top. */
const rankedCursor = async (c: Context<AppEnv>, cursor: string | undefined): Promise<[number, string]> =>
  cursor ? ((await openCursor(c.env.JWT_SECRET, cursor, ['number', 'string'])) as [number, string]) : TOP;

/** The query as a username (`@Ada_L` → `ada_l`), or '' when it cannot be one. */
function asUsername(q: string): string {
  const name = q.trim().replace(/^@/, '').toLowerCase();
  return USERNAME_RULE.test(name) ? name : '';
}

/** A person of a page as userSearchSql lists them: id, username, display_name, avatar_key, bio, is_verified, rank_key, rid, visible. */
type UserHit = [string, string, string, string | null, string, number, number, number, number];
const RANK_KEY = 6;
const RID = 7;
const VISIBLE = 8;
/** Best first: (rank_key, rid) descending. */
const bestFirst = (a: UserHit, b: UserHit) => b[RANK_KEY] - a[RANK_KEY] || b[RID] - a[RID];

/** A kept ranking as userSearchSql reports it beside a page from it. */
type KeptList = { cutoff: number | null };

/** userSearchSql's one row. */
export type UserPageRow = { rows: string; kept: string | null };

/** A page's people, best first, and the kept list it was read from (null: none fresh, or a live page). */
export function decodeUserPage(row: UserPageRow | null | undefined): { results: UserHit[]; kept: KeptList | null } {
  return { results: row ? (JSON.parse(row.rows) as UserHit[]).sort(bestFirst) : [], kept: row?.kept ? (JSON.parse(row.kept) as KeptList) : null };
}

/** Candidates a page of people reads first: the page, one more to show it goes on, and a few spare (hidden rows are rare). */
const USER_SEARCH_SPARE = 5;
/** A LIMIT of -1: every remaining candidate (the candidates of one query are bounded: see userSearchSql). */
const ALL_REMAINING = -1;

/**
 * People, best first (search.queries.ts, userSearchSql). The shared part of the ranking comes from the
 * query's kept list (user_search_cache; computed and stored first when missing or older than a minute);
 * a page that reaches below the kept list's cutoff is read from the live ranking instead, so deep pages
 * miss nothing the kept list left out. Rows the viewer may not see are skipped: when the first read of
 * a source leaves the page short, the next reads every remaining candidate of that source, so a page
 * ends with a cursor only when one more person the viewer may see follows it. The cursor is the last
 * person shown's (score, rowid), sealed (rowids are sequential).
 */
export async function searchUsers(c: Context<AppEnv>, viewerId: string, q: string, terms: SearchTerms, limit: number, cursor?: string, now = Date.now()): Promise<Page<ReturnType<typeof presentPublicUser>>> {
  const match = ftsMatch(terms.words, PREFIX_FROM);
  if (!match) return EMPTY;
  const whole = ftsMatch(terms.words)!;
  const db = c.var.d1;
  const liveAfter = now - USER_SEARCH_TTL_MS;
  let [score, rid] = cursor ? ((await openCursor(c.env.JWT_SECRET, cursor, ['number', 'number'])) as [number, number]) : [Number.MAX_VALUE, Number.MAX_SAFE_INTEGER];
  const window = limit + 1 + USER_SEARCH_SPARE;
  const baseUrl = c.get('baseUrl');
  const presentUser = ([id, username, displayName, avatarKey, bio, isVerified]: UserHit) =>
    presentPublicUser({ id, username, displayName, avatarKey, bio, isVerified: isVerified === 1 } as UserSummary, baseUrl);
  // (?8, the kept list's freshness, only where the kept list is read.)
  const page = (source: UserSearchSource, from: [number, number], size: number) =>
    db.prepare(userSearchSql(source)).bind(match, viewerId, whole, from[0], from[1], size, asUsername(q), ...(source === 'kept' ? [liveAfter] : []));

  let source: UserSearchSource = 'kept';
  let size = window;
  // One statement in the common case: beside the page, it says whether a fresh kept list exists, and what it is.
  let { results, kept } = decodeUserPage(await page(source, [score, rid], size).first<UserPageRow>());
  if (!kept) {
    const [, first] = await db.batch<UserPageRow>([db.prepare(USER_SEARCH_FILL_SQL).bind(match, now, whole), page(source, [score, rid], size)]);
    ({ results, kept } = decodeUserPage(first!.results[0]));
  }
  // Below the kept list's cutoff it may miss matches (null: it holds every match).
  const keptCutoff = kept?.cutoff ?? null;
  const found: UserHit[] = [];
  for (;;) {
    // From the cutoff on, the live ranking decides.
    const cutoff = source === 'kept' ? keptCutoff : null;
    const trusted = cutoff === null ? results : results.filter((r) => r[RANK_KEY] > cutoff);
    found.push(...trusted.filter((r) => r[VISIBLE] === 1));
    const last = trusted.at(-1);
    if (last) [score, rid] = [last[RANK_KEY], last[RID]];
    if (found.length > limit) break;
    const ranOut = size === ALL_REMAINING || results.length < size;
    // The kept list reached its cutoff, or ran out above it (its last entries boosted above it): the live ranking goes on.
    if (cutoff !== null && (trusted.length < results.length || ranOut)) [source, size] = ['live', window];
    else if (ranOut) break;
    else size = ALL_REMAINING;
    results = decodeUserPage(await page(source, [score, rid], size).first<UserPageRow>()).results;
  }
  return toSealedPage(c.env.JWT_SECRET, found, limit, (r) => [r[RANK_KEY], r[RID]], presentUser);
}

/** Deletes the kept typeahead rankings that have expired (the trends Cron, every 10 minutes). */
export async function pruneUserSearchCache(db: D1Database, now: number): Promise<number> {
  const { meta } = await db.prepare('DELETE FROM user_search_cache WHERE computed_at <= ?1').bind(now - USER_SEARCH_TTL_MS).run();
  return meta.changes;
}

/**
 * Posts: ranked candidates (search.queries.ts) through the post pipeline, whose rules stage decides
 * what the viewer may see (filled page by page: see fillVisiblePage, which reads a query's
 * POST_CANDIDATES to their end, so a cursor is handed out only when a post the viewer may see follows).
 * The cursor also pins the newest post at the moment of the first page (`snap`), so later pages rank
 * the same candidates.
 */
export async function searchPosts(c: Context<AppEnv>, viewerId: string, terms: SearchTerms, limit: number, cursor?: string): Promise<Page<Post>> {
  const source = terms.tagsOnly ? 'tag' : 'text';
  const match = terms.tagsOnly ? terms.tags[0]! : ftsMatch(terms.words);
  if (!match) return EMPTY;
  let [snap, ...start] = cursor ? ((await openCursor(c.env.JWT_SECRET, cursor, ['number', 'number', 'string'])) as [number, number, string]) : [Number.MAX_SAFE_INTEGER, ...TOP];
  const { data, next } = await fillVisiblePage(c, limit, start as [number, string], async ([score, id], count) => {
    const params = [match, viewerId, snap, score, id, count + 1, JSON.stringify(terms.tags)];
    const page = await loadRankedSkeleton(c, viewerId, postSearchSql(source), params, cursor ? undefined : POSTS_SNAPSHOT_SQL);
    if (typeof page.extra === 'number') snap = Math.min(snap, page.extra);
    return { ...page, keyOf: (row) => [page.rankKeys.get(row.id)!, row.id] as [number, string] };
  });
  return { data, next_cursor: next ? await postListCursor(c, [snap, ...next]) : null };
}

/**
 * Communities, best first. The cursor is sealed like every search cursor, though it names a row shown
 * (its score weighs the caller's own membership).
 */
export async function searchCommunities(c: Context<AppEnv>, viewerId: string, terms: SearchTerms, limit: number, cursor?: string) {
  const match = ftsMatch(terms.words, 1);
  if (!match) return EMPTY;
  const [score, id] = await rankedCursor(c, cursor);
  const { results } = await c.var.d1.prepare(COMMUNITY_SEARCH_SQL).bind(match, viewerId, null, score, id, limit + 1).all<Record<string, unknown>>();
  const page = await toSealedPage(c.env.JWT_SECRET, results, limit, (r) => [r.rank_key as number, r.id as string], communityRow);
  return { data: await presentCommunities(c, viewerId, page.data), next_cursor: page.next_cursor };
}

type TagHit = { id: string; uses_24h: number; accounts_24h: number; rank_key: number };

/** Hashtags, best first (by posts anyone may see: TAG_SEARCH_SQL). The cursor is sealed, as every search cursor. */
export async function searchTags(c: Context<AppEnv>, viewerId: string, terms: SearchTerms, limit: number, cursor?: string) {
  const match = ftsMatch(terms.words, 1);
  if (!match) return EMPTY;
  const [score, id] = await rankedCursor(c, cursor);
  const { results } = await c.var.d1.prepare(TAG_SEARCH_SQL).bind(match, viewerId, null, score, id, limit + 1).all<TagHit>();
  return toSealedPage(c.env.JWT_SECRET, results, limit, (r) => [r.rank_key, r.id], (r) => ({ tag: r.id, uses_24h: r.uses_24h, accounts_24h: r.accounts_24h }));
}

/** `GET /search`: one kind, paginated, or the first few of each kind. */
export async function search(c: Context<AppEnv>, viewerId: string, q: string, type: SearchType | undefined, limit: number, cursor?: string) {
  const terms = parseSearchText(q);
  switch (type) {
    case 'users':
      return searchUsers(c, viewerId, q, terms, limit, cursor);
    case 'posts':
      return searchPosts(c, viewerId, terms, limit, cursor);
    case 'communities':
      return searchCommunities(c, viewerId, terms, limit, cursor);
    case 'tags':
      return searchTags(c, viewerId, terms, limit, cursor);
    default: {
      const [users, posts, communities, tags] = await Promise.all([
        searchUsers(c, viewerId, q, terms, SEARCH_PREVIEW),
        searchPosts(c, viewerId, terms, SEARCH_PREVIEW),
        searchCommunities(c, viewerId, terms, SEARCH_PREVIEW),
        searchTags(c, viewerId, terms, SEARCH_PREVIEW),
      ]);
      return { users: users.data, posts: posts.data, communities: communities.data, tags: tags.data };
    }
  }
}
