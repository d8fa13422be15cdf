import { discoverableUserSql, visibleUserSql } from '../../policy/visibility';

/**
 * "People you may know", computed in one statement of index lookups (never a query per candidate) and
 * cached per user in suggestion_cache for SUGGESTION_TTL_MS. Built here so a test can EXPLAIN them.
 */

/** A cached list is served for 10 minutes, unless a change to the user's graph drops it first. */
export const SUGGESTION_TTL_MS = 10 * 60 * 1000;
/** Suggestions kept per user (the most a request may ask for). */
export const SUGGESTIONS_KEPT = 100;
/** Each friend, followed account and community contributes at most this many of its newest connections. */
export const PER_SOURCE = 200;
/** Accounts nearby considered (same city, then same region). */
const NEARBY = 200;
/** A caller with fewer friends and follows than this is new: popular accounts fill their list. */
export const NEW_USER_CONNECTIONS = 10;
const POPULAR = 50;
/** Candidates ranked before the exclusions that need a lookup each. */
const SHORTLIST = 500;
/** Mutual connections stored per suggestion (three are shown; the others stand in if one disappears). */
const MUTUALS_KEPT = 5;

/** Bits of a suggestion's `reasons`. */
export const REASON = { mutual_friends: 1, mutual_follows: 2, same_community: 4, nearby: 8, popular: 16 } as const;
export type Reason = keyof typeof REASON;

/**
 * Computes the caller's suggestions and stores them (replacing what was cached), in one statement.
 *
 * Sources (`cand`): friends of friends (`kind` 1, through each friend: friendships primary key and
 * friendships_user_created_idx), accounts followed by accounts the caller follows (2,
 * follows_follower_idx), members of the caller's communities (3, community_members_joined_idx), people
 * in the caller's city (4) or region (5) (users_location_idx), and, for a caller with fewer than
 * NEW_USER_CONNECTIONS friends and follows, the most followed accounts (6, users_popular_idx). Each
 * friend, followed account or community gives at most PER_SOURCE of its newest connections, so the
 * work is bounded by the caller's own degree. Mutuals (friends and followed accounts the candidate is
 * reached through) are people the caller may see.
 *
 *   score = 3·mutual_friends + 2·mutual_follows + 1.5·shared_communities + 2·same_city
 *           + 1·same_region (not city) + popular·followers/(followers + 100)
 *
 * Candidates the caller already knows (themselves, friends, accounts they follow) go before ranking;
 * the SHORTLIST best then pass the other exclusions: a follow request either way, a pending friend
 * request either way, a dismissal, and who may be found (blocks either way, suspended, silenced, not
 * discoverable). The best SUGGESTIONS_KEPT are stored as `[id, reason bits, mutual_count, [mutual ids],
 * position]`. Parameters: ?1 caller, ?2 now.
 */
export const COMPUTE_SUGGESTIONS_SQL = `
WITH me AS (SELECT location_country AS country, location_region AS region, location_city AS city FROM users WHERE id = ?1),
friends(id) AS MATERIALIZED (SELECT friend_id FROM friendships WHERE user_id = ?1 AND ${visibleUserSql('?1', 'friend_id')}),
following(id) AS MATERIALIZED (SELECT followee_id FROM follows WHERE follower_id = ?1 AND status = 'accepted' AND ${visibleUserSql('?1', 'followee_id')}),
cand(id, via, kind) AS MATERIALIZED (
  SELECT f2.friend_id, f.id, 1 FROM friends f JOIN friendships f2 ON f2.rowid IN (
    SELECT x.rowid FROM friendships x WHERE x.user_id = f.id ORDER BY x.created_at DESC LIMIT ${PER_SOURCE})
  UNION ALL
  SELECT g2.followee_id, g.id, 2 FROM following g JOIN follows g2 ON g2.rowid IN (
    SELECT x.rowid FROM follows x WHERE x.follower_id = g.id AND x.status = 'accepted' ORDER BY x.created_at DESC LIMIT ${PER_SOURCE})
  UNION ALL
  SELECT m2.user_id, m.community_id, 3 FROM community_members m JOIN community_members m2 ON m2.rowid IN (
    SELECT x.rowid FROM community_members x WHERE x.community_id = m.community_id ORDER BY x.created_at DESC LIMIT ${PER_SOURCE})
  WHERE m.user_id = ?1 AND m.role != 'pending' AND m2.role != 'pending'
  UNION ALL
  -- One term for both places: D1 allows at most five terms in a compound SELECT.
  SELECT * FROM (
    SELECT * FROM (SELECT u.id, NULL, 4 FROM me JOIN users u ON u.location_country = me.country AND u.location_region IS me.region AND u.location_city = me.city LIMIT ${NEARBY})
    UNION ALL
    SELECT * FROM (SELECT u.id, NULL, 5 FROM me JOIN users u ON u.location_country = me.country AND u.location_region = me.region
      WHERE u.location_city IS NOT me.city LIMIT ${NEARBY}))
  UNION ALL
  SELECT * FROM (SELECT u.id, NULL, 6 FROM users u
    WHERE u.discoverable = 1 AND u.suspended_at IS NULL AND u.silenced_at IS NULL
      AND (SELECT COUNT(*) FROM (SELECT id FROM friends UNION ALL SELECT id FROM following)) < ${NEW_USER_CONNECTIONS}
    ORDER BY u.followers_count DESC, u.id DESC LIMIT ${POPULAR})
),
agg AS (
  SELECT id,
    COUNT(DISTINCT via) FILTER (WHERE kind = 1) AS mutual_friends,
    COUNT(DISTINCT via) FILTER (WHERE kind = 2) AS mutual_follows,
    COUNT(DISTINCT via) FILTER (WHERE kind IN (1, 2)) AS mutual_count,
    COUNT(DISTINCT via) FILTER (WHERE kind = 3) AS communities,
    MAX(kind = 4) AS city, MAX(kind = 5) AS region, MAX(kind = 6) AS popular
  FROM cand
  WHERE id != ?1 AND id NOT IN (SELECT id FROM friends) AND id NOT IN (SELECT id FROM following)
  GROUP BY id
),
shortlist AS (
  SELECT *, 3.0 * mutual_friends + 2.0 * mutual_follows + 1.5 * communities + 2.0 * city + (region AND NOT city) + 0.5 * popular AS pre
  FROM agg ORDER BY pre DESC, id LIMIT ${SHORTLIST}
),
ranked AS (
  SELECT s.*, u.followers_count,
    s.pre - 0.5 * s.popular + s.popular * u.followers_count / (u.followers_count + 100.0) AS score
  FROM shortlist s JOIN users u ON u.id = s.id
  WHERE NOT EXISTS (SELECT 1 FROM follows x WHERE x.follower_id = ?1 AND x.followee_id = s.id)
    AND NOT EXISTS (SELECT 1 FROM follows x WHERE x.follower_id = s.id AND x.followee_id = ?1 AND x.status = 'pending')
    AND NOT EXISTS (SELECT 1 FROM friend_requests r WHERE r.from_user_id = ?1 AND r.to_user_id = s.id AND r.status = 'pending')
    AND NOT EXISTS (SELECT 1 FROM friend_requests r WHERE r.from_user_id = s.id AND r.to_user_id = ?1 AND r.status = 'pending')
    AND NOT EXISTS (SELECT 1 FROM suggestion_dismissals d WHERE d.user_id = ?1 AND d.dismissed_id = s.id)
    AND ${discoverableUserSql('?1', 's.id')}
  ORDER BY score DESC, u.followers_count DESC, s.id LIMIT ${SUGGESTIONS_KEPT}
),
listed AS (
  SELECT r.id, ROW_NUMBER() OVER (ORDER BY r.score DESC, r.followers_count DESC, r.id) AS position,
    (r.mutual_friends > 0) * ${REASON.mutual_friends} + (r.mutual_follows > 0) * ${REASON.mutual_follows} + (r.communities > 0) * ${REASON.same_community}
      + (r.city OR r.region) * ${REASON.nearby} + r.popular * ${REASON.popular} AS reasons,
    r.mutual_count,
    (SELECT json_group_array(via) FROM (SELECT DISTINCT c.via FROM cand c WHERE c.id = r.id AND c.kind IN (1, 2) LIMIT ${MUTUALS_KEPT})) AS mutuals
  FROM ranked r
)
INSERT INTO suggestion_cache (user_id, computed_at, entries)
SELECT ?1, ?2, COALESCE((SELECT json_group_array(json_array(id, reasons, mutual_count, json(mutuals), position)) FROM listed), '[]') WHERE true
ON CONFLICT (user_id) DO UPDATE SET computed_at = excluded.computed_at, entries = excluded.entries`;

const PUBLIC_USER = (u: string) => `${u}.id, ${u}.username, ${u}.display_name, ${u}.avatar_key, ${u}.bio, ${u}.is_verified`;

/**
 * Entries past a page read with it: accounts made unfindable since the list was computed are few, so a
 * page nearly always fills from its own entries and these (else the whole list is read).
 */
export const READ_MARGIN = 10;

/**
 * A page of a live cached list, with each suggested account and its mutuals (as many as the caller may
 * still see). Who may be found is checked again: an account suspended, silenced or made undiscoverable
 * since the list was computed drops out at once. That check costs a few lookups per account, so only
 * the first ?4 entries are checked (the page and READ_MARGIN more: the service reads the whole list
 * again when they leave the page short), and the mutuals are read for the page's rows only.
 *
 * One row comes back: `entries`, how many entries the live list holds (null: there is none, and it
 * must be computed), and `page`, the page as one JSON array of `[id, username, display_name,
 * avatar_key, bio, is_verified, reasons, mutual_count, [mutual…], position]` in no order (the caller
 * sorts by position), each mutual `[id, username, display_name, avatar_key, bio, is_verified]`. One JSON
 * value costs D1 less to hand over than rows of columns. ?1 caller, ?2 live after, ?3 limit, ?4 entries
 * read.
 */
export const READ_SUGGESTIONS_SQL = `
WITH page AS MATERIALIZED (
  SELECT ${PUBLIC_USER('u')}, l.entry ->> 1 AS reasons, l.entry ->> 2 AS mutual_count, l.entry -> 3 AS mutual_ids, l.position
  FROM (SELECT j.value AS entry, j.value ->> 4 AS position FROM suggestion_cache s, json_each(s.entries) j
    WHERE s.user_id = ?1 AND s.computed_at > ?2 ORDER BY position LIMIT ?4) l
  JOIN users u ON u.id = l.entry ->> 0
  WHERE ${discoverableUserSql('?1', 'u.id', 'u')}
  ORDER BY l.position LIMIT ?3)
SELECT (SELECT json_array_length(entries) FROM suggestion_cache WHERE user_id = ?1 AND computed_at > ?2) AS entries,
  (SELECT json_group_array(json_array(id, username, display_name, avatar_key, bio, is_verified, reasons, mutual_count,
    json((SELECT json_group_array(json_array(${PUBLIC_USER('mu')})) FROM json_each(pg.mutual_ids) m JOIN users mu ON mu.id = m.value
      WHERE ${visibleUserSql('?1', 'mu.id', 'mu')})), position))
  FROM page pg) AS page`;
