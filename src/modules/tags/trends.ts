import type { D1Client } from '../../db/client';
import { anonymousVisiblePostSql } from '../posts/post-pipeline';

/** The window a trend is measured in, and the baseline before it. */
export const TREND_WINDOW_MS = 24 * 60 * 60 * 1000;
export const BASELINE_DAYS = 7;
/** Tags kept in tag_trends per refresh. */
export const TREND_LIMIT = 100;
/** A tag trends only when this many distinct accounts used it in the window. */
export const MIN_TREND_ACCOUNTS = 2;

/**
 * The trends refresh (a Cron Trigger every 10 minutes, src/scheduled.ts): from post_tags of the last
 * eight days (post_tags_created_idx), counting only posts anyone may see (the rules stage's anonymous
 * answer, anonymousVisiblePostSql: so no friends-only, private, held, private-community or silenced
 * author's post counts), per tag:
 *
 *   uses_24h     = posts carrying it in the last 24 hours
 *   accounts_24h = their distinct authors                         (observed)
 *   baseline     = distinct authors per day over the 7 days before (expected)
 *   score        = (observed − expected)² / max(expected, 1)  when observed > expected, else 0
 *
 * Accounts rather than posts, so one account posting a tag a hundred times is one voice. Tags with
 * fewer than 2 accounts in the window or no rise never trend; the best TREND_LIMIT are kept, ranked by
 * score, then accounts, then uses, then name. The table is replaced in one transaction.
 * Parameters: ?1 now, ?2 window start, ?3 baseline start.
 */
export const REFRESH_TRENDS_SQL = `
INSERT INTO tag_trends (tag, rank, uses_24h, accounts_24h, baseline, score, computed_at)
SELECT tag, ROW_NUMBER() OVER (ORDER BY score DESC, accounts DESC, uses DESC, tag), uses, accounts, baseline, score, ?1 FROM (
  SELECT tag, uses, accounts, baseline,
    CASE WHEN accounts > baseline THEN (accounts - baseline) * (accounts - baseline) / MAX(baseline, 1.0) ELSE 0 END AS score
  FROM (
    SELECT t.tag,
      SUM(t.created_at >= ?2) AS uses,
      COUNT(DISTINCT CASE WHEN t.created_at >= ?2 THEN p.author_id END) AS accounts,
      COUNT(DISTINCT CASE WHEN t.created_at < ?2 THEN p.author_id || '/' || ((t.created_at - ?3) / ${TREND_WINDOW_MS}) END) / ${BASELINE_DAYS}.0 AS baseline
    FROM post_tags t JOIN posts p ON p.id = t.post_id
    WHERE t.created_at >= ?3 AND t.created_at < ?1 AND ${anonymousVisiblePostSql('p')}
    GROUP BY t.tag
  )
  WHERE accounts >= ${MIN_TREND_ACCOUNTS}
)
WHERE score > 0
ORDER BY score DESC, accounts DESC, uses DESC, tag
LIMIT ${TREND_LIMIT}`;

/** Recomputes tag_trends as of `now` (replacing it whole, in one transaction); returns how many tags trend. */
export async function refreshTrends(db: D1Client, now: number): Promise<number> {
  const windowStart = now - TREND_WINDOW_MS;
  const baselineStart = windowStart - BASELINE_DAYS * TREND_WINDOW_MS;
  const [, inserted] = await db.batch([db.prepare('DELETE FROM tag_trends'), db.prepare(REFRESH_TRENDS_SQL).bind(now, windowStart, baselineStart)]);
  return inserted?.meta.changes ?? 0;
}

/** GET /trends/tags: rising tags first, one range of tag_trends_rank_idx. ?1 limit. */
export const TRENDS_SQL = 'SELECT tag, uses_24h, accounts_24h FROM tag_trends ORDER BY rank LIMIT ?1';

export async function listTrends(db: D1Client, limit: number) {
  const { results } = await db.prepare(TRENDS_SQL).bind(limit).all<{ tag: string; uses_24h: number; accounts_24h: number }>();
  return results;
}
