import { blockedEitherSql } from '../../policy/visibility';

/** D1's clock in ms, the one timeline liveness is judged by (an SQL expression). */
export const NOW_MS = `CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)`;

/**
 * Feed skeleton queries, kept as constants so a test can EXPLAIN them and prove no full-table scan.
 *
 * Home, the pull query (fan-out on read, bounded). It serves the pages below a reader's materialised
 * timeline and builds timelines (home-timeline.ts). Personal posts only (the professional side has its
 * own feed; posts_author_created_idx carries `space`). The sources are the caller, accounts they follow (accepted) and
 * their friends, minus muted ones, and the communities they are a member of. `latest` finds each
 * author's newest visible post before the cursor (one probe of posts_author_created_idx, which carries
 * visibility so no table row is read). The limit-th newest of those is a lower bound for the whole
 * page (at least `limit` distinct posts lie at or after it), so each source's scan, the communities'
 * included (posts_community_created_idx), stops there and authors with nothing that recent are
 * skipped. The remaining per-source candidates (at most `limit` each) are merged by rowid, so a post
 * reached both through its author and through its community counts once. Work is about
 * (sources + limit) index steps, independent of how many posts exist. The bound comes from authors
 * only: adding the communities would tighten it but costs more to compile than it saves (measured).
 * Parameters: ?1 viewer, ?2 cursor created_at, ?3 cursor id, ?4 limit + 1.
 */
/**
 * The accounts a reader's feeds draw from, as `authors(id, level)`: the reader (level 2), their friends
 * (1) and the accounts they follow (0), minus muted ones. ?1 is the reader. Shared by the home feed and
 * the professional feed's connections.
 */
export const READER_AUTHORS_CTE = `
WITH rel(id, level) AS (
  SELECT ?1, 2
  UNION ALL SELECT followee_id, 0 FROM follows WHERE follower_id = ?1 AND status = 'accepted'
  UNION ALL SELECT friend_id, 1 FROM friendships WHERE user_id = ?1
),
authors AS (
  SELECT id, MAX(level) AS level FROM rel
  WHERE NOT EXISTS (SELECT 1 FROM mutes m WHERE m.muter_id = ?1 AND m.muted_id = rel.id)
  GROUP BY id
)`;

export const HOME_FEED_SQL = `${READER_AUTHORS_CTE},
latest AS MATERIALIZED (
  SELECT a.id, a.level, (
    SELECT MAX(q.created_at) FROM posts q
    WHERE q.author_id = a.id AND (q.created_at, q.id) < (?2, ?3) AND q.space = 'personal'
      AND (a.level = 2 OR q.visibility = 'public' OR (a.level = 1 AND q.visibility = 'friends'))
  ) AS newest
  FROM authors a
),
bound(ts) AS (SELECT COALESCE((SELECT newest FROM latest WHERE newest IS NOT NULL ORDER BY newest DESC LIMIT 1 OFFSET ?4 - 1), 0)),
cand(rid) AS (
  SELECT p.rowid FROM latest a JOIN posts p ON p.rowid IN (
    SELECT q.rowid FROM posts q
    WHERE q.author_id = a.id AND (q.created_at, q.id) < (?2, ?3) AND q.created_at >= (SELECT ts FROM bound) AND q.space = 'personal'
      AND (a.level = 2 OR q.visibility = 'public' OR (a.level = 1 AND q.visibility = 'friends'))
    ORDER BY q.created_at DESC, q.id DESC LIMIT ?4
  )
  WHERE a.newest >= (SELECT ts FROM bound)
  UNION ALL
  SELECT p.rowid FROM community_members k JOIN posts p ON p.rowid IN (
    SELECT q.rowid FROM posts q
    WHERE q.community_id = k.community_id AND (q.created_at, q.id) < (?2, ?3) AND q.created_at >= (SELECT ts FROM bound)
    ORDER BY q.created_at DESC, q.id DESC LIMIT ?4
  )
  WHERE k.user_id = ?1 AND k.role != 'pending'
)
SELECT p.* FROM posts p WHERE p.rowid IN (SELECT rid FROM cand)
ORDER BY p.created_at DESC, p.id DESC LIMIT ?4`;

/**
 * Discover candidates: the newest public personal posts within the window (index posts_visibility_created_idx,
 * or posts_topic_created_idx with a topic), excluding the caller's own, blocked and muted authors,
 * private accounts and suspended or silenced ones (a silenced account reaches its followers and
 * friends only), and held posts, with what the score needs (not whole rows: the page is loaded after ranking).
 * Friends of friends are one small set built once per query (joining the caller's friendships for
 * each candidate cost more than the rest of the query); whether a friend liked a candidate is a join
 * of that post's likes (likes primary key) with the caller's friendships (primary key), in the order
 * SQLite finds cheaper. (A set of the posts friends liked in the window was slower at 1M posts: the
 * likes_user_created_idx lookups are not covering.) Parameters: ?1 viewer ('' when anonymous),
 * ?2 window start, ?3 snapshot time, ?4 candidate cap, ?5 topic or NULL.
 */
export const DISCOVER_CANDIDATES_SQL = `
WITH cand AS (
  SELECT rid FROM (SELECT rowid AS rid FROM posts
    WHERE ?5 IS NULL AND visibility = 'public' AND created_at > ?2 AND created_at <= ?3 AND space = 'personal' ORDER BY created_at DESC LIMIT ?4)
  UNION ALL
  SELECT rid FROM (SELECT rowid AS rid FROM posts
    WHERE topic = ?5 AND visibility = 'public' AND created_at > ?2 AND created_at <= ?3 AND space = 'personal' ORDER BY created_at DESC LIMIT ?4)
),
fof AS MATERIALIZED (
  SELECT DISTINCT f2.friend_id AS id FROM friendships f1 JOIN friendships f2 ON f2.user_id = f1.friend_id WHERE f1.user_id = ?1
)
SELECT p.id, p.author_id, p.topic, p.like_count, p.comment_count, p.created_at,
  EXISTS (SELECT 1 FROM fof WHERE fof.id = p.author_id) AS friend_of_friend,
  EXISTS (SELECT 1 FROM likes l JOIN friendships f ON f.user_id = ?1 AND f.friend_id = l.user_id WHERE l.post_id = p.id) AS liked_by_friend,
  EXISTS (SELECT 1 FROM friendships f WHERE f.user_id = ?1 AND f.friend_id = p.author_id) AS is_friend
FROM posts p JOIN users u ON u.id = p.author_id
WHERE p.rowid IN (SELECT rid FROM cand)
  AND p.author_id != ?1 AND p.held = 0
  AND u.visibility = 'public' AND u.suspended_at IS NULL AND u.silenced_at IS NULL
  AND NOT ${blockedEitherSql('?1', 'p.author_id')}
  AND NOT EXISTS (SELECT 1 FROM mutes m WHERE m.muter_id = ?1 AND m.muted_id = p.author_id)`;

/** The caller's topic affinity: topics of the posts they liked most recently (index likes_user_created_idx). */
export const TOPIC_AFFINITY_SQL = `
SELECT p.topic AS topic, COUNT(*) AS n FROM (
  SELECT post_id FROM likes WHERE user_id = ?1 ORDER BY created_at DESC LIMIT 200
) l JOIN posts p ON p.id = l.post_id
WHERE p.topic IS NOT NULL GROUP BY p.topic`;
