import { discoverableUserSql } from '../../policy/visibility';
import { MY_ROLE } from '../communities/communities.queries';
import { anonymousVisiblePostSql } from '../posts/post-pipeline';

/**
 * The search statements, built here so a test can EXPLAIN each one. Every one reads a bounded set of
 * full-text matches (`hits`), joins their rows by rowid, applies who may be found, and ranks:
 *
 *   score = relevance × social × engagement
 *
 * relevance is bm25 of the match (FTS5's, negated so larger is better; for posts the per-document part
 * of the same formula, see postSearchSql); social (at most 2.5×) and engagement (at most 2×, a
 * saturating fraction) are boosts, so no count can swamp the text match. The keyset is (score, id),
 * best first. README (*Search and discovery*) documents the same formulas.
 */

/** A typeahead match set up to this size is ranked whole by bm25; a larger one is cut (see boundedHits). */
export const FULL_RANK_LIMIT = 1000;
/** Typeahead matches kept for ranking per query. */
export const SEARCH_CANDIDATES = 500;

/** `1 + n / (n + half)`: 1 with nothing, 1.5 at `half`, approaching 2. */
const saturating = (n: string, half: number) => `(1 + (${n}) / ((${n}) + ${half}.0))`;

/** 1 + 1 for a friend + 0.5 for an account the viewer follows (accepted): people you know first. */
const socialBoost = (viewer: string, user: string) =>
  `(1 + EXISTS (SELECT 1 FROM friendships sf WHERE sf.user_id = ${viewer} AND sf.friend_id = ${user})
     + 0.5 * EXISTS (SELECT 1 FROM follows sg WHERE sg.follower_id = ${viewer} AND sg.followee_id = ${user} AND sg.status = 'accepted'))`;

/** Rows after the cursor (score, id), best first. ?s and ?i are the cursor's parameters; `key` and `id` the columns compared. */
const afterKey = (s: string, i: string, key = 'rank_key', id = 'id') => `(${key} < ${s} OR (${key} = ${s} AND ${id} < ${i}))`;

/**
 * The match set of a typeahead index, bounded: when it holds at most FULL_RANK_LIMIT rows, its
 * SEARCH_CANDIDATES best by bm25; past that (a short prefix of a common name), its first
 * SEARCH_CANDIDATES rows by rowid (the oldest), with relevance 1, so that no query costs more than a
 * bounded read. (bm25 counts every match of each word to weigh it, so it is only asked for when the
 * matches are few. Counting them first walks doclists only.) ?1 is the FTS query.
 */
function boundedHits(table: string, bm25: string): string {
  return `n(c) AS (SELECT COUNT(*) FROM (SELECT 1 FROM ${table} WHERE ${table} MATCH ?1 LIMIT ${FULL_RANK_LIMIT + 1})),
hits(rid, rel) AS MATERIALIZED (
  SELECT * FROM (SELECT rowid, -${bm25} FROM ${table} WHERE ${table} MATCH ?1 AND (SELECT c FROM n) <= ${FULL_RANK_LIMIT}
    ORDER BY ${bm25} LIMIT ${SEARCH_CANDIDATES})
  UNION ALL
  SELECT * FROM (SELECT rowid, 1.0 FROM ${table} WHERE ${table} MATCH ?1 AND (SELECT c FROM n) > ${FULL_RANK_LIMIT}
    ORDER BY rowid LIMIT ${SEARCH_CANDIDATES})
)`;
}

/** Typeahead rankings kept per query (user_search_cache) for every viewer. */
export const USER_SEARCH_KEPT = 100;
/** How long a kept ranking is served before it is computed again. */
export const USER_SEARCH_TTL_MS = 60 * 1000;
/** Matches of a common prefix ranked by the live query: the most followed this many. */
export const USER_SEARCH_LIVE = 1000;

/**
 * users_popular_idx's condition (a partial index): the accounts anyone may find. Accounts outside it reach
 * a viewer who may find them through the live part of userSearchSql (people they know, themselves).
 */
const POPULAR = 'u.discoverable = 1 AND u.suspended_at IS NULL AND u.silenced_at IS NULL';
const USER_BM25 = 'bm25(users_fts, 4.0, 3.0, 1.0, 1.0)';
const FOLLOWERS = (u: string) => saturating(`${u}.followers_count`, 100);

/**
 * People: the matches of one query ranked by the part of the score every viewer shares,
 *
 *   base = relevance × (1.5 when every word matches whole) × saturating(followers, 100)
 *
 * where relevance is bm25 (username 4, display name 3, bio 1, headline 1: the headline only where search
 * may show it, see users_search_content) when the query has at most FULL_RANK_LIMIT matches, and 1 for
 * all when it has more (a two- or three-letter prefix of a common name); then only the `keep` most
 * followed matches, and the most followed whole-word matches, are ranked, read in followers order from
 * users_popular_idx (so only accounts anyone may find), and the cost stays bounded. Rows (rid = users.rowid, base), best first, at most
 * `keep`. Parameters: ?1 FTS query (prefixes), ?3 FTS query of the whole words.
 */
function rankedMatchesSql(keep: number): string {
  return `WITH n(c) AS (SELECT COUNT(*) FROM (SELECT 1 FROM users_fts WHERE users_fts MATCH ?1 LIMIT ${FULL_RANK_LIMIT + 1})),
whole(rid) AS MATERIALIZED (SELECT rowid FROM users_fts WHERE users_fts MATCH ?3),
cand(rid, rel) AS MATERIALIZED (
  SELECT users_fts.rowid, -${USER_BM25} FROM n CROSS JOIN users_fts WHERE n.c <= ${FULL_RANK_LIMIT} AND users_fts MATCH ?1
  UNION ALL
  SELECT rid, 1.0 FROM (
    SELECT * FROM (SELECT u.rowid AS rid FROM users u INDEXED BY users_popular_idx
      WHERE (SELECT c FROM n) > ${FULL_RANK_LIMIT} AND ${POPULAR} AND u.rowid IN (SELECT rowid FROM users_fts WHERE users_fts MATCH ?1) ORDER BY u.followers_count DESC LIMIT ${keep})
    UNION
    SELECT * FROM (SELECT u.rowid FROM users u INDEXED BY users_popular_idx
      WHERE (SELECT c FROM n) > ${FULL_RANK_LIMIT} AND ${POPULAR} AND u.rowid IN whole ORDER BY u.followers_count DESC LIMIT ${Math.ceil(keep / 10)}))
)
SELECT c.rid, c.rel * (1 + 0.5 * (c.rid IN whole)) * ${FOLLOWERS('u')} AS base, (SELECT c FROM n) AS matches
FROM cand c JOIN users u ON u.rowid = c.rid ORDER BY base DESC, c.rid DESC LIMIT ${keep}`;
}

/**
 * Stores a query's USER_SEARCH_KEPT best matches by base (see rankedMatchesSql) in user_search_cache,
 * with the lowest base kept as the cutoff (null when every match is kept). Parameters: ?1 FTS query
 * (prefixes), ?2 now, ?3 FTS query of the whole words.
 */
export const USER_SEARCH_FILL_SQL = `
WITH kept AS MATERIALIZED (${rankedMatchesSql(USER_SEARCH_KEPT)})
INSERT INTO user_search_cache (query, computed_at, entries, cutoff, by_text)
SELECT ?1, ?2, COALESCE((SELECT json_group_array(json_array(rid, base)) FROM kept), '[]'),
  CASE WHEN COALESCE((SELECT MAX(matches) FROM kept), 0) <= ${USER_SEARCH_KEPT} THEN NULL ELSE (SELECT MIN(base) FROM kept) END,
  COALESCE((SELECT MAX(matches) FROM kept), 0) <= ${FULL_RANK_LIMIT}
WHERE true
ON CONFLICT (query) DO UPDATE SET computed_at = excluded.computed_at, entries = excluded.entries, cutoff = excluded.cutoff, by_text = excluded.by_text`;

/** Where a page of people takes the shared ranking from: the kept list, or the live query (deeper pages). */
export type UserSearchSource = 'kept' | 'live';

/**
 * A page of people for one viewer. The candidates are the shared ranking (the kept list, or for a page
 * past its cutoff the live one) plus, ranked live, the matches the viewer knows (friends, followed
 * accounts), the exact username and the viewer themselves. The score adds what depends on the viewer:
 *
 *   score = base × social × (2 for the exact username),  social = 1 + 1 (friend) + 0.5 (followed)
 *
 * Only the boost lifts a shared row above its base, so of the shared rows the viewer does not know
 * (nor name exactly) only the `?6` best by base after the cursor can reach the page; those and the
 * boosted ones are scored, and the `?6` best after the cursor (score, rowid) are read from users. Each
 * says whether the viewer may see it (`discoverableUserSql`, on the users row it joined) and whether it
 * still matches the query (a kept list can be a minute old). One full-text read of the query's matches
 * (`live`) answers that for the shared rows and finds the other candidates; bm25 is computed only for
 * those others, as the shared rows carry their base. The caller pages over the visible rows (below the
 * kept list's cutoff the kept list may miss matches: the caller then asks the live ranking).
 *
 * One row comes back, whatever the page holds: `rows`, a JSON array of `[id, username, display_name,
 * avatar_key, bio, is_verified, rank_key, rid, visible]` in no order (the caller sorts them by
 * (rank_key, rid), best first), and `kept`, the kept list as JSON (`{"cutoff": …}`), or null when none
 * is fresh or the page is from the live ranking. One JSON value costs D1 less to hand over than rows of
 * columns (about 9% of the statement's throughput in workerd), and a page with no rows still says
 * whether a kept list exists. (CROSS JOIN keeps the shortlist the outer loop: without an ORDER BY the
 * planner may otherwise walk users.) SQLite writes a REAL in JSON with the digits that read back as the
 * same number, so a rank key keeps its exact value for the cursor.
 * Parameters: ?1 FTS query (prefixes), ?2 viewer, ?3 FTS query of the whole words, ?4/?5 cursor (score,
 * rowid), ?6 rows (-1: all; the candidates are bounded: the kept list or USER_SEARCH_LIVE shared ones,
 * and the matches the viewer knows), ?7 the query as a username ('' if it cannot be one), ?8 live after
 * (kept lists computed before it are stale).
 */
export function userSearchSql(source: UserSearchSource): string {
  const shared =
    source === 'kept'
      ? `kept(entries, cutoff, by_text) AS MATERIALIZED (SELECT entries, cutoff, by_text FROM user_search_cache WHERE query = ?1 AND computed_at > ?8),
shared(rid, base) AS MATERIALIZED (SELECT j.value ->> 0, j.value ->> 1 FROM kept k, json_each(k.entries) j)`
      : `shared(rid, base) AS MATERIALIZED (SELECT rid, base FROM (${rankedMatchesSql(USER_SEARCH_LIVE)}))`;
  const byText =
    source === 'kept'
      ? '(SELECT by_text FROM kept)'
      : `((SELECT COUNT(*) FROM (SELECT 1 FROM users_fts WHERE users_fts MATCH ?1 LIMIT ${FULL_RANK_LIMIT + 1})) <= ${FULL_RANK_LIMIT})`;
  return `
WITH ${shared},
exact(rid) AS MATERIALIZED (SELECT rowid FROM users WHERE username = ?7),
known(rid, boost) AS MATERIALIZED (
  SELECT u.rowid, 1 + SUM(k.w) FROM (
    SELECT friend_id AS id, 1.0 AS w FROM friendships WHERE user_id = ?2
    UNION ALL
    SELECT followee_id, 0.5 FROM follows WHERE follower_id = ?2 AND status = 'accepted') k
  JOIN users u ON u.id = k.id GROUP BY u.rowid),
boosted(rid) AS (SELECT rid FROM known UNION ALL SELECT rid FROM exact),
live(rid, rel) AS MATERIALIZED (
  SELECT rowid, CASE WHEN rowid IN (SELECT rid FROM shared) THEN NULL WHEN ${byText} THEN -${USER_BM25} ELSE 1.0 END
  FROM users_fts WHERE users_fts MATCH ?1
    AND +rowid IN (SELECT rid FROM shared UNION ALL SELECT rid FROM boosted UNION ALL SELECT rowid FROM users WHERE id = ?2)),
mine(rid, base) AS MATERIALIZED (
  SELECT l.rid, l.rel * (1 + 0.5 * (l.rid IN (SELECT rowid FROM users_fts w WHERE w.users_fts MATCH ?3))) * ${FOLLOWERS('u')}
  FROM live l JOIN users u ON u.rowid = l.rid WHERE l.rel IS NOT NULL),
candidates(rid, base) AS (
  SELECT * FROM (SELECT rid, base FROM shared WHERE ${afterKey('?4', '?5', 'base', 'rid')} AND rid NOT IN boosted ORDER BY base DESC, rid DESC LIMIT ?6)
  UNION ALL
  SELECT rid, base FROM shared WHERE rid IN boosted
  UNION ALL
  SELECT rid, base FROM mine),
scored(rid, rank_key) AS (
  SELECT c.rid, c.base * COALESCE(k.boost, 1) * (1 + (c.rid IN (SELECT rid FROM exact))) FROM candidates c LEFT JOIN known k ON k.rid = c.rid),
shortlist AS MATERIALIZED (
  SELECT * FROM scored WHERE ${afterKey('?4', '?5', 'rank_key', 'rid')} ORDER BY rank_key DESC, rid DESC LIMIT ?6)
SELECT (SELECT json_group_array(json_array(u.id, u.username, u.display_name, u.avatar_key, u.bio, u.is_verified, s.rank_key, s.rid,
    ${discoverableUserSql('?2', 'u.id', 'u')} AND s.rid IN (SELECT rid FROM live)))
  FROM shortlist s CROSS JOIN users u ON u.rowid = s.rid) AS rows,
  ${source === 'kept' ? KEPT_LIST_SQL : 'NULL'} AS kept`;
}

/**
 * Beside a page from the kept list: the kept list, as JSON (`{"cutoff": …}`), or null when there is no
 * fresh one (the page then came from the people the viewer knows alone).
 */
const KEPT_LIST_SQL = `(SELECT json_object('cutoff', cutoff) FROM kept)`;

/** How post search chooses its candidates: by full text, or (a query of `#tags` only) by tag. */
export type PostHitSource = 'text' | 'tag';

/** Posts ranked per query: the newest matches. */
export const POST_CANDIDATES = 150;
/** BM25's constants, and the post length (characters) its length normalisation takes as typical. */
const K1 = 1.2;
const B = 0.75;
const TYPICAL_POST_CHARS = 280;

/**
 * Posts: the POST_CANDIDATES newest matches (rowid order, at or below the snapshot ?3), so a common word
 * costs a bounded read however many posts hold it. By text: every word in the content, and every `#tag`
 * of the query carried as a tag. By tag (a query of tags only): the newest posts carrying the first tag
 * (post_tags_tag_created_idx), relevance 1.
 *
 * relevance is BM25 for one document: `tf·(k1 + 1) / (tf + k1·(1 − b + b·chars/280))`, k1 1.2, b 0.75,
 * where tf counts the query's words in the post (FTS5's highlight marks them) and chars is its length.
 * The words' IDF is left out: every candidate contains every word, so it would scale them all alike,
 * and FTS5's bm25() counts all matches of each word to get it (23 ms for a word in 1M posts).
 * score = relevance × social (of the author) × saturating(likes + 2·comments, 10). Held posts only for
 * their author; authors the viewer may find. The rules stage (canViewPost) then decides each row.
 * Parameters: ?1 FTS query (text) or the first tag (tag), ?2 viewer, ?3 snapshot rowid, ?4/?5 cursor,
 * ?6 limit, ?7 the query's tags as a JSON array.
 */
export function postSearchSql(source: PostHitSource): string {
  const hits =
    source === 'text'
      ? `SELECT rowid, tf * ${K1 + 1} / (tf + ${K1} * (${1 - B} + ${B} * (length(h) - tf) / ${TYPICAL_POST_CHARS}.0)) FROM (
           SELECT rowid, h, length(h) - length(replace(h, char(1), '')) AS tf FROM (
             SELECT rowid, highlight(posts_fts, 0, char(1), '') AS h FROM posts_fts WHERE posts_fts MATCH ?1 AND rowid <= ?3
             ORDER BY rowid DESC LIMIT ${POST_CANDIDATES}))`
      : `SELECT p.rowid, 1.0 FROM post_tags t JOIN posts p ON p.id = t.post_id WHERE t.tag = ?1 AND p.rowid <= ?3
           ORDER BY t.created_at DESC, t.post_id DESC LIMIT ${POST_CANDIDATES}`;
  return `WITH hits(rid, rel) AS MATERIALIZED (${hits}),
scored AS (
  SELECT p.*, h.rel * ${socialBoost('?2', 'p.author_id')} * ${saturating('p.like_count + 2 * p.comment_count', 10)} AS rank_key
  FROM hits h JOIN posts p ON p.rowid = h.rid JOIN users a ON a.id = p.author_id
  WHERE (p.held = 0 OR p.author_id = ?2) AND ${discoverableUserSql('?2', 'p.author_id', 'a')}
    AND NOT EXISTS (SELECT value FROM json_each(?7) qt WHERE NOT EXISTS (SELECT 1 FROM post_tags pt WHERE pt.post_id = p.id AND pt.tag = qt.value))
)
SELECT * FROM scored WHERE ${afterKey('?4', '?5')} ORDER BY rank_key DESC, id DESC LIMIT ?6`;
}

/** The snapshot a first page pins for the pages after it: the newest post's rowid. */
export const POSTS_SNAPSHOT_SQL = 'SELECT MAX(rowid) FROM posts';

/**
 * Communities (all of them, as GET /communities lists them). relevance = bm25 with weights name 3,
 * description 1; × 2 where the viewer is a member; × saturating(members, 50). Parameters: ?1 FTS
 * query, ?2 viewer, ?4/?5 cursor, ?6 limit.
 */
export const COMMUNITY_SEARCH_SQL = `
WITH ${boundedHits('communities_fts', 'bm25(communities_fts, 3.0, 1.0)')},
scored AS (
  SELECT c.*, ${MY_ROLE.replace('?', '?2')},
    h.rel * ${saturating('c.member_count', 50)}
      * (1 + EXISTS (SELECT 1 FROM community_members sm WHERE sm.community_id = c.id AND sm.user_id = ?2 AND sm.role != 'pending')) AS rank_key
  FROM hits h JOIN communities c ON c.rowid = h.rid
)
SELECT * FROM scored WHERE ${afterKey('?4', '?5')} ORDER BY rank_key DESC, id DESC LIMIT ?6`;

/** Of a tag's posts, this many newest are read for those anyone may see. */
const TAG_SAMPLE = 20;

/**
 * Hashtags, by name (prefix, accent-insensitive). Of each tag's TAG_SAMPLE newest posts, those anyone
 * may see by an author the viewer may find are counted (`seen`); a tag with none is not listed, so a tag
 * used only in friends-only or private posts (or by a silenced account) never shows, and its rank counts
 * only those posts: relevance = bm25 × saturating(seen, 10), so hidden posts neither list a tag nor
 * raise it. Parameters: ?1 FTS query, ?2 viewer, ?4/?5 cursor (score, tag), ?6 limit.
 */
export const TAG_SEARCH_SQL = `
WITH ${boundedHits('tags_fts', 'bm25(tags_fts)')},
counted AS (
  SELECT t.tag, h.rel, (
    SELECT COUNT(*) FROM (SELECT post_id FROM post_tags WHERE tag = t.tag ORDER BY created_at DESC LIMIT ${TAG_SAMPLE}) x JOIN posts p ON p.id = x.post_id
    WHERE ${anonymousVisiblePostSql('p')} AND ${discoverableUserSql('?2', 'p.author_id')}) AS seen
  FROM hits h JOIN tags t ON t.rowid = h.rid
),
scored AS (
  SELECT c.tag AS id, COALESCE(tr.uses_24h, 0) AS uses_24h, COALESCE(tr.accounts_24h, 0) AS accounts_24h,
    c.rel * ${saturating('c.seen', 10)} AS rank_key
  FROM counted c LEFT JOIN tag_trends tr ON tr.tag = c.tag
  WHERE c.seen > 0
)
SELECT * FROM scored WHERE ${afterKey('?4', '?5')} ORDER BY rank_key DESC, id DESC LIMIT ?6`;
