import type { D1Client } from '../../db/client';
import { DEFAULT_PAGE_LIMIT } from '../../lib/pagination';
import { HOME_FEED_SQL, NOW_MS, READER_AUTHORS_CTE } from './feeds.queries';
import { READER_PULLS_SQL } from './hybrid';

/**
 * Materialised home timelines for recent readers (tables in src/db/schema/feeds.ts; new posts are
 * pushed in by the fan-out queue or pulled at read time, see hybrid.ts; invalidation by the triggers in
 * migrations/0008_home_timeline_triggers.sql).
 *
 * The pull query (HOME_FEED_SQL) merges the newest posts of every account and community a reader draws
 * from: correct at any depth, but it costs about one index probe per source on every read. The head of
 * a returning reader's feed is served from their own timeline instead: one primary-key range. A user
 * without a live timeline gets the pull query, and in the same batch a timeline built from it: the
 * newest page of their feed (at least {@link HOME_TIMELINE_SIZE} posts), whose oldest post is the
 * timeline's floor. Until it expires, the fan-out queue adds each new post to the timelines of its
 * audience (or, for pulled sources, the read merges their posts in), so the head stays current, and
 * any change to the reader's sources drops it. A page the timeline cannot
 * fill (one reaching below the floor) comes from the pull query, so a cursor means the same whichever
 * path serves it.
 */

/**
 * A timeline is built with the newest page of the feed the build was asked for, and at least a default
 * page and the row after it. (The pull query's bound is tight only while the page is no longer than
 * the reader's list of sources; deeper builds cost far more than they save.)
 */
export const HOME_TIMELINE_SIZE = DEFAULT_PAGE_LIMIT + 1;
/** A timeline is kept up (and so usable) this long after it was built; then the next read rebuilds it. */
export const HOME_TIMELINE_TTL_MS = 24 * 60 * 60 * 1000;
/**
 * Reads only trust a timeline that stays live this much longer: the triggers decide liveness with the
 * clock at write time, so a timeline read as live was live for every write before the read, even with
 * a minute of skew between D1's clocks.
 */
export const HOME_TIMELINE_READ_MARGIN_MS = 60_000;
/** Each build also deletes up to this many expired timelines (oldest first), so they never pile up. */
export const HOME_TIMELINE_COLLECT = 8;

export { NOW_MS };

/**
 * A page from the reader's live timeline (parameters ?1 reader, ?2 cursor created_at, ?3 cursor id,
 * ?4 limit + 1): the pushed entries before the cursor and at or above the floor (the entries' primary
 * key), merged with the newest posts of each pulled source the reader draws from in the same range
 * (posts_author_created_idx, posts_community_created_idx), muted authors skipped. Each part stops at
 * the page size; a post found twice counts once. Empty when the reader has no live timeline.
 */
export const HOME_TIMELINE_SQL = `
SELECT p.* FROM posts p WHERE p.rowid IN (
  SELECT rid FROM (
    SELECT q.rowid AS rid FROM home_timelines h
    JOIN home_timeline_entries t ON t.user_id = h.user_id
      AND (t.created_at, t.post_id) < (?2, ?3) AND (t.created_at, t.post_id) >= (h.floor_at, h.floor_id)
    JOIN posts q ON q.id = t.post_id
    WHERE h.user_id = ?1 AND h.expires_at > ${NOW_MS} + ${HOME_TIMELINE_READ_MARGIN_MS}
      AND NOT EXISTS (SELECT 1 FROM mutes m WHERE m.muter_id = ?1 AND m.muted_id = q.author_id)
    ORDER BY t.created_at DESC, t.post_id DESC LIMIT ?4)
  UNION ALL
  SELECT q.rowid FROM home_timelines h JOIN json_each(h.pulls, '$.a') s
  JOIN posts q ON q.rowid IN (
    SELECT r.rowid FROM posts r
    WHERE r.author_id = s.value ->> 0 AND (r.created_at, r.id) < (?2, ?3) AND (r.created_at, r.id) >= (h.floor_at, h.floor_id)
      AND r.space = 'personal' AND (r.visibility = 'public' OR (s.value ->> 1 = 1 AND r.visibility = 'friends'))
    ORDER BY r.created_at DESC, r.id DESC LIMIT ?4)
  WHERE h.user_id = ?1 AND h.expires_at > ${NOW_MS} + ${HOME_TIMELINE_READ_MARGIN_MS}
    AND NOT EXISTS (SELECT 1 FROM mutes m WHERE m.muter_id = ?1 AND m.muted_id = q.author_id)
  UNION ALL
  SELECT q.rowid FROM home_timelines h JOIN json_each(h.pulls, '$.c') s
  JOIN posts q ON q.rowid IN (
    SELECT r.rowid FROM posts r
    WHERE r.community_id = s.value AND (r.created_at, r.id) < (?2, ?3) AND (r.created_at, r.id) >= (h.floor_at, h.floor_id)
    ORDER BY r.created_at DESC, r.id DESC LIMIT ?4)
  WHERE h.user_id = ?1 AND h.expires_at > ${NOW_MS} + ${HOME_TIMELINE_READ_MARGIN_MS}
    AND NOT EXISTS (SELECT 1 FROM mutes m WHERE m.muter_id = ?1 AND m.muted_id = q.author_id)
)
ORDER BY p.created_at DESC, p.id DESC LIMIT ?4`;

/** The live timeline's floor as JSON `{"at":…,"id":…}`, or NULL when there is none (an `extra` of the page statement). */
export const HOME_TIMELINE_FLOOR_SQL = `SELECT json_object('at', floor_at, 'id', floor_id) FROM home_timelines
  WHERE user_id = ?1 AND expires_at > ${NOW_MS} + ${HOME_TIMELINE_READ_MARGIN_MS}`;

export interface TimelineFloor {
  at: number;
  id: string;
}

/** A floor below every post: the timeline holds the reader's whole feed. */
export const isBottomFloor = (floor: TimelineFloor) => floor.at === 0 && floor.id === '';

/**
 * Builds (or rebuilds) the reader's timeline, as statements for one batch: drop the old one and a few
 * expired ones, note the pulled sources the reader draws from, store the newest `size` posts of the
 * pull query (at least HOME_TIMELINE_SIZE), and set the floor to the oldest of them (or to the bottom
 * when the feed holds fewer). Posts written after the batch reach it through the fan-out queue (which
 * reads the timelines as they are when it runs) or the pulled sources; the batch is one transaction.
 */
export function homeTimelineBuild(readerId: string, size: number): { sql: string; params: unknown[] }[] {
  const rows = Math.max(HOME_TIMELINE_SIZE, size);
  return [
    {
      sql: `DELETE FROM home_timelines WHERE user_id = ?1 OR user_id IN (
        SELECT user_id FROM home_timelines WHERE expires_at <= ${NOW_MS} ORDER BY expires_at LIMIT ?2)`,
      params: [readerId, HOME_TIMELINE_COLLECT],
    },
    {
      // With the pulled sources the reader draws from (hybrid.ts): their posts are merged in at read time.
      sql: `${READER_AUTHORS_CTE}
        INSERT INTO home_timelines (user_id, expires_at, floor_at, floor_id, pulls) VALUES (?1, ${NOW_MS} + ?2, 0, '', ${READER_PULLS_SQL})`,
      params: [readerId, HOME_TIMELINE_TTL_MS],
    },
    {
      sql: `INSERT INTO home_timeline_entries (user_id, created_at, post_id) SELECT ?1, created_at, id FROM (${HOME_FEED_SQL})`,
      params: [readerId, Number.MAX_SAFE_INTEGER, '', rows],
    },
    {
      sql: `UPDATE home_timelines SET (floor_at, floor_id) = (
        SELECT created_at, post_id FROM home_timeline_entries WHERE user_id = ?1 ORDER BY created_at, post_id LIMIT 1)
      WHERE user_id = ?1 AND (SELECT COUNT(*) FROM home_timeline_entries WHERE user_id = ?1) >= ?2`,
      params: [readerId, rows],
    },
  ];
}

/** {@link homeTimelineBuild} as prepared statements, to run before the page in one batch. */
export function buildHomeTimeline(db: D1Client, readerId: string, size: number): D1PreparedStatement[] {
  return homeTimelineBuild(readerId, size).map(({ sql, params }) => db.prepare(sql).bind(...params));
}
