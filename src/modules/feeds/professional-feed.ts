import type { Context } from 'hono';
import { openCursor } from '../../lib/pagination';
import type { AppEnv } from '../../lib/types';
import { renderPostsById } from '../posts/post-pipeline';
import { postListCursor } from '../posts/posts.service';
import { READER_AUTHORS_CTE, TOPIC_AFFINITY_SQL } from './feeds.queries';
import { discoverScore } from './feeds.service';
import { blockedEitherSql } from '../../policy/visibility';

/**
 * The professional feed: posts with `space = 'professional'` only (they never reach a home feed), in
 * two tiers. First the caller's connections (accounts they follow, their friends, and their own
 * posts, as far as each may see them), then everyone else's public professional posts (public
 * accounts only). `sort=new` orders each tier newest first, through any depth; `sort=top` ranks each
 * tier's posts of the last 30 days with the discover score. The ids go through the same post pipeline
 * as every feed (hydration, rules, presentation). Blocked and muted authors never appear.
 */

export const PROFESSIONAL_SORTS = ['top', 'new'] as const;
export type ProfessionalSort = (typeof PROFESSIONAL_SORTS)[number];

/** `sort=top` ranks the newest this many posts of each tier from this far back. */
export const PROFESSIONAL_TOP_WINDOW_MS = 30 * 24 * 60 * 60 * 1000;
export const PROFESSIONAL_TOP_CANDIDATES = 500;

/** What a tier query returns per post: what the ranking needs. */
interface TierRow {
  id: string;
  topic: string | null;
  like_count: number;
  comment_count: number;
  created_at: number;
}

const TIER_COLUMNS = 'p.id, p.topic, p.like_count, p.comment_count, p.created_at';

/**
 * Tier 0, connections: one seek per account of the partial index posts_professional_author_idx (it
 * carries visibility and topic, so no row is read to filter). Parameters: ?1 viewer, ?2 cursor
 * created_at, ?3 cursor id, ?4 limit, ?5 oldest created_at, ?6 topic or NULL.
 */
export const PROFESSIONAL_CONNECTIONS_SQL = `${READER_AUTHORS_CTE}
SELECT ${TIER_COLUMNS} FROM authors a JOIN posts p ON p.rowid IN (
  SELECT q.rowid FROM posts q
  WHERE q.author_id = a.id AND q.space = 'professional' AND (q.created_at, q.id) < (?2, ?3) AND q.created_at >= ?5
    AND (?6 IS NULL OR q.topic = ?6)
    AND (a.level = 2 OR q.visibility = 'public' OR (a.level = 1 AND q.visibility = 'friends'))
  ORDER BY q.created_at DESC, q.id DESC LIMIT ?4
)
ORDER BY p.created_at DESC, p.id DESC LIMIT ?4`;

/**
 * Tier 1, everyone else: public professional posts of public accounts that are not the caller's
 * connections, newest first, through posts_professional_visibility_idx (or posts_professional_topic_idx
 * with a topic). Same parameters as the connections tier; ?1 is '' for an anonymous caller.
 */
export const professionalOthersSql = (byTopic: boolean) => `
SELECT ${TIER_COLUMNS} FROM posts p JOIN users u ON u.id = p.author_id
WHERE p.space = 'professional' AND p.visibility = 'public' ${byTopic ? 'AND p.topic = ?6' : 'AND ?6 IS NULL'}
  AND (p.created_at, p.id) < (?2, ?3) AND p.created_at >= ?5
  AND u.visibility = 'public' AND p.author_id != ?1
  AND NOT EXISTS (SELECT 1 FROM follows f WHERE f.follower_id = ?1 AND f.followee_id = p.author_id AND f.status = 'accepted')
  AND NOT EXISTS (SELECT 1 FROM friendships k WHERE k.user_id = ?1 AND k.friend_id = p.author_id)
  AND NOT ${blockedEitherSql('?1', 'p.author_id')}
  AND NOT EXISTS (SELECT 1 FROM mutes m WHERE m.muter_id = ?1 AND m.muted_id = p.author_id)
ORDER BY p.created_at DESC, p.id DESC LIMIT ?4`;

type Tier = 0 | 1;

async function tierRows(c: Context<AppEnv>, tier: Tier, viewer: string, topic: string | null, after: [number, string], limit: number, since: number): Promise<TierRow[]> {
  if (tier === 0 && !viewer) return [];
  const sql = tier === 0 ? PROFESSIONAL_CONNECTIONS_SQL : professionalOthersSql(topic !== null);
  const { results } = await c.var.d1.prepare(sql).bind(viewer, after[0], after[1], limit, since, topic).all<TierRow>();
  return results;
}

const TOP: [number, string] = [Number.MAX_SAFE_INTEGER, ''];

/** `sort=new`: the connections tier newest first, then the others newest first; cursor [tier, created_at, id]. */
async function newestPage(c: Context<AppEnv>, viewer: string, topic: string | null, limit: number, cursor?: string) {
  const [startTier, ts, id] = cursor ? ((await openCursor(c.env.JWT_SECRET, cursor, ['number', 'number', 'string'])) as [Tier, number, string]) : [0 as Tier, ...TOP];
  const picked: { tier: Tier; row: TierRow }[] = [];
  for (let tier = startTier; tier <= 1 && picked.length <= limit; tier++) {
    const after: [number, string] = tier === startTier ? [ts, id] : TOP;
    const rows = await tierRows(c, tier as Tier, viewer, topic, after, limit + 1 - picked.length, 0);
    picked.push(...rows.map((row) => ({ tier: tier as Tier, row })));
  }
  const page = picked.slice(0, limit);
  const last = page.at(-1);
  return {
    ids: page.map((p) => p.row.id),
    next_cursor: picked.length > limit && last ? await postListCursor(c, [last.tier, last.row.created_at, last.row.id]) : null,
  };
}

/** `sort=top`: each tier's recent posts ranked by the discover score; cursor [snapshot, tier, score, id]. */
async function topPage(c: Context<AppEnv>, viewer: string, topic: string | null, limit: number, cursor?: string) {
  const [snapshot, afterTier, afterScore, afterId] = cursor
    ? ((await openCursor(c.env.JWT_SECRET, cursor, ['number', 'number', 'number', 'string'])) as [number, Tier, number, string])
    : [Date.now(), 0 as Tier, Number.POSITIVE_INFINITY, ''];
  const since = snapshot - PROFESSIONAL_TOP_WINDOW_MS;
  const upTo: [number, string] = [snapshot + 1, ''];
  const [connections, others, affinity] = await Promise.all([
    tierRows(c, 0, viewer, topic, upTo, PROFESSIONAL_TOP_CANDIDATES, since),
    tierRows(c, 1, viewer, topic, upTo, PROFESSIONAL_TOP_CANDIDATES, since),
    viewer ? c.var.d1.prepare(TOPIC_AFFINITY_SQL).bind(viewer).all<{ topic: string; n: number }>() : Promise.resolve({ results: [] }),
  ]);
  const total = affinity.results.reduce((sum, r) => sum + r.n, 0);
  const topicShare = new Map(affinity.results.map((r) => [r.topic, total ? r.n / total : 0]));
  const none = { friend_of_friend: 0, liked_by_friend: 0, is_friend: 0 };
  const rank = (rows: TierRow[], tier: Tier) =>
    rows
      .map((row) => ({ tier, row, score: discoverScore(row, none, topicShare, snapshot) }))
      .sort((a, b) => b.score - a.score || (a.row.id < b.row.id ? 1 : -1));
  const ranked = [...rank(connections, 0), ...rank(others, 1)];
  const after = ranked.filter((r) => r.tier > afterTier || (r.tier === afterTier && (r.score < afterScore || (r.score === afterScore && r.row.id < afterId))));
  const page = after.slice(0, limit);
  const last = page.at(-1);
  return {
    ids: page.map((p) => p.row.id),
    next_cursor: after.length > limit && last ? await postListCursor(c, [snapshot, last.tier, last.score, last.row.id]) : null,
  };
}

/** GET /feed/professional. */
export async function listProfessionalFeed(c: Context<AppEnv>, viewerId: string | null, options: { topic?: string; sort: ProfessionalSort; limit: number; cursor?: string }) {
  const viewer = viewerId ?? '';
  const topic = options.topic ?? null;
  const { ids, next_cursor } = options.sort === 'new' ? await newestPage(c, viewer, topic, options.limit, options.cursor) : await topPage(c, viewer, topic, options.limit, options.cursor);
  return { data: await renderPostsById(c, viewerId, ids, { hideMuted: true }), next_cursor };
}
