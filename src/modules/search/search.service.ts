import type { Context } from 'hono';
import type { UserSummary } from '../../db/schema';
import { decodeCursor, encodeCursor, toPage } from '../../lib/pagination';
import type { AppEnv } from '../../lib/types';
import { presentCommunities, rowOf as communityRow } from '../communities/communities.service';
import { loadRankedSkeleton } from '../posts/post-pipeline';
import { fillVisiblePage } from '../posts/posts.service';
import type { Post } from '../posts/posts.schemas';
import { presentPublicUser } from '../users/users.presenter';
import { USERNAME_RULE } from '../users/users.schemas';
import { ftsMatch, parseSearchText, type SearchTerms } from './search-query';
import { COMMUNITY_SEARCH_SQL, POSTS_SNAPSHOT_SQL, postSearchSql, TAG_SEARCH_SQL, USER_SEARCH_SQL } from './search.queries';
import { SEARCH_PREVIEW, type SearchType } from './search.schemas';

/** Where a ranked list starts: above every (score, id). */
const TOP: [number, string] = [Number.MAX_VALUE, ''];
/** Words of this many characters or more match as prefixes in the typeahead indexes (users, tags). */
const PREFIX_FROM = 2;

type Page<T> = { data: T[]; next_cursor: string | null };
const EMPTY = { data: [], next_cursor: null };

const rankedCursor = (cursor: string | undefined): [number, string] => (cursor ? (decodeCursor(cursor, ['number', 'string']) as [number, string]) : TOP);

/** The query as a username (`@Ada_L` → `ada_l`), or '' when it cannot be one. */
function asUsername(q: string): string {
  const name = q.trim().replace(/^@/, '').toLowerCase();
  return USERNAME_RULE.test(name) ? name : '';
}

type UserHit = { id: string; username: string; display_name: string; avatar_key: string | null; bio: string; is_verified: number; rank_key: number };

export async function searchUsers(c: Context<AppEnv>, viewerId: string, q: string, terms: SearchTerms, limit: number, cursor?: string): Promise<Page<ReturnType<typeof presentPublicUser>>> {
  const match = ftsMatch(terms.words, PREFIX_FROM);
  if (!match) return EMPTY;
  const [score, id] = rankedCursor(cursor);
  const whole = ftsMatch(terms.words)!;
  const { results } = await c.var.d1.prepare(USER_SEARCH_SQL).bind(match, viewerId, asUsername(q), score, id, limit + 1, whole).all<UserHit>();
  const baseUrl = c.get('baseUrl');
  const summary = (r: UserHit) =>
    ({ id: r.id, username: r.username, displayName: r.display_name, avatarKey: r.avatar_key, bio: r.bio, isVerified: r.is_verified === 1 }) as UserSummary;
  return toPage(results, limit, (r) => [r.rank_key, r.id], (r) => presentPublicUser(summary(r), baseUrl));
}

/**
 * Posts: ranked candidates (search.queries.ts) through the post pipeline, whose rules stage decides
 * what the viewer may see (filled page by page: see fillVisiblePage). The cursor also pins the newest
 * post at the moment of the first page (`snap`), so later pages rank the same candidates.
 */
export async function searchPosts(c: Context<AppEnv>, viewerId: string, terms: SearchTerms, limit: number, cursor?: string): Promise<Page<Post>> {
  const source = terms.tagsOnly ? 'tag' : 'text';
  const match = terms.tagsOnly ? terms.tags[0]! : ftsMatch(terms.words);
  if (!match) return EMPTY;
  let [snap, ...start] = cursor ? (decodeCursor(cursor, ['number', 'number', 'string']) as [number, number, string]) : [Number.MAX_SAFE_INTEGER, ...TOP];
  const { data, next } = await fillVisiblePage(c, limit, start as [number, string], async ([score, id], count) => {
    const params = [match, viewerId, snap, score, id, count + 1, JSON.stringify(terms.tags)];
    const page = await loadRankedSkeleton(c, viewerId, postSearchSql(source), params, cursor ? undefined : POSTS_SNAPSHOT_SQL);
    if (typeof page.extra === 'number') snap = Math.min(snap, page.extra);
    return { ...page, keyOf: (row) => [page.rankKeys.get(row.id)!, row.id] as [number, string] };
  });
  return { data, next_cursor: next ? encodeCursor([snap, ...next]) : null };
}

export async function searchCommunities(c: Context<AppEnv>, viewerId: string, terms: SearchTerms, limit: number, cursor?: string) {
  const match = ftsMatch(terms.words, 1);
  if (!match) return EMPTY;
  const [score, id] = rankedCursor(cursor);
  const { results } = await c.var.d1.prepare(COMMUNITY_SEARCH_SQL).bind(match, viewerId, null, score, id, limit + 1).all<Record<string, unknown>>();
  const page = results.slice(0, limit);
  const last = page.at(-1);
  return {
    data: await presentCommunities(c, viewerId, page.map(communityRow)),
    next_cursor: results.length > limit && last ? encodeCursor([last.rank_key as number, last.id as string]) : null,
  };
}

type TagHit = { id: string; uses_24h: number; accounts_24h: number; rank_key: number };

export async function searchTags(c: Context<AppEnv>, viewerId: string, terms: SearchTerms, limit: number, cursor?: string) {
  const match = ftsMatch(terms.words, 1);
  if (!match) return EMPTY;
  const [score, id] = rankedCursor(cursor);
  const { results } = await c.var.d1.prepare(TAG_SEARCH_SQL).bind(match, viewerId, null, score, id, limit + 1).all<TagHit>();
  return toPage(results, limit, (r) => [r.rank_key, r.id], (r) => ({ tag: r.id, uses_24h: r.uses_24h, accounts_24h: r.accounts_24h }));
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
