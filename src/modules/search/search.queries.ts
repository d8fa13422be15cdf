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

/** Rows after the cursor (score, id), best first. ?s and ?i are the cursor's parameters. */
const afterKey = (s: string, i: string) => `(rank_key < ${s} OR (rank_key = ${s} AND id < ${i}))`;

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

/**
 * People. relevance = bm25 with weights username 4, display name 3, bio 1, headline 1 (the headline
 * only where search may show it: see users_search_content); × 1.5 when every word matches whole (`ada`
 * puts Ada before Adam), × 2 for the exact username; social; × saturating(followers, 100). Only
 * accounts the viewer may find (visible, not silenced, discoverable unless followed or befriended).
 * Parameters: ?1 FTS query (prefixes), ?2 viewer, ?3 the query as a username ('' if it cannot be one),
 * ?4/?5 cursor (score, id), ?6 limit, ?7 FTS query of the whole words.
 */
export const USER_SEARCH_SQL = `
WITH ${boundedHits('users_fts', 'bm25(users_fts, 4.0, 3.0, 1.0, 1.0)')},
scored AS (
  SELECT u.id, u.username, u.display_name, u.avatar_key, u.bio, u.is_verified,
    h.rel * (1 + 0.5 * (h.rid IN (SELECT rowid FROM users_fts WHERE users_fts MATCH ?7))) * (1 + (u.username = ?3))
      * ${socialBoost('?2', 'u.id')} * ${saturating('u.followers_count', 100)} AS rank_key
  FROM hits h JOIN users u ON u.rowid = h.rid
  WHERE ${discoverableUserSql('?2', 'u.id')}
)
SELECT * FROM scored WHERE ${afterKey('?4', '?5')} ORDER BY rank_key DESC, id DESC LIMIT ?6`;

/** How post search chooses its candidates: by full text, or (a query of `#tags` only) by tag. */
export type PostHitSource = 'text' | 'tag';

/** Posts ranked per query: the newest matches. */
export const POST_CANDIDATES = 300;
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
  FROM hits h JOIN posts p ON p.rowid = h.rid
  WHERE (p.held = 0 OR p.author_id = ?2) AND ${discoverableUserSql('?2', 'p.author_id')}
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

/** Of a tag's posts, this many newest are checked for one anyone may see. */
const TAG_SAMPLE = 20;

/**
 * Hashtags, by name (prefix, accent-insensitive). A tag is listed only when one of its TAG_SAMPLE newest
 * posts is one anyone may see, by an author the viewer may find, so a tag used only in friends-only or
 * private posts (or by a silenced account) never shows. relevance = bm25 × saturating(posts, 10).
 * Parameters: ?1 FTS query, ?2 viewer, ?4/?5 cursor (score, tag), ?6 limit.
 */
export const TAG_SEARCH_SQL = `
WITH ${boundedHits('tags_fts', 'bm25(tags_fts)')},
scored AS (
  SELECT t.tag AS id, COALESCE(tr.uses_24h, 0) AS uses_24h, COALESCE(tr.accounts_24h, 0) AS accounts_24h,
    h.rel * ${saturating('t.post_count', 10)} AS rank_key
  FROM hits h JOIN tags t ON t.rowid = h.rid LEFT JOIN tag_trends tr ON tr.tag = t.tag
  WHERE EXISTS (
    SELECT 1 FROM (SELECT post_id FROM post_tags WHERE tag = t.tag ORDER BY created_at DESC LIMIT ${TAG_SAMPLE}) x JOIN posts p ON p.id = x.post_id
    WHERE ${anonymousVisiblePostSql('p')} AND ${discoverableUserSql('?2', 'p.author_id')})
)
SELECT * FROM scored WHERE ${afterKey('?4', '?5')} ORDER BY rank_key DESC, id DESC LIMIT ?6`;
