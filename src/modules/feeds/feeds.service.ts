import type { Context } from 'hono';
import { openCursor } from '../../lib/pagination';
import type { AppEnv } from '../../lib/types';
import { type LoadedPage, type LoadOptions, loadSkeleton, renderPostsById } from '../posts/post-pipeline';
import { postCursor, postListCursor, presentPostPage } from '../posts/posts.service';
import { DISCOVER_CANDIDATES_SQL, HOME_FEED_SQL, TOPIC_AFFINITY_SQL } from './feeds.queries';
import { buildHomeTimeline, HOME_TIMELINE_FLOOR_SQL, HOME_TIMELINE_SQL, isBottomFloor, type TimelineFloor } from './home-timeline';

/**
 * Home feed: the caller's own posts and those of accounts they follow or are friends with, newest
 * first. Keyset on (created_at, id): a cursor stays valid while new posts arrive (they sort before it),
 * so paging never repeats or skips a post. Served from the caller's materialised timeline when they
 * have a live one and it can fill the page, and from the pull query below its floor. Without a live
 * timeline, one is built in the same batch as the page (see home-timeline.ts).
 */
export async function listHomeFeed(c: Context<AppEnv>, viewerId: string, limit: number, cursor?: string) {
  const [ts, id] = await postCursor(c, cursor);
  const params = [viewerId, ts, id, limit + 1];
  const fromTimeline = (options: LoadOptions) => loadSkeleton(c, viewerId, HOME_TIMELINE_SQL, params, options);
  const pulled = (options: LoadOptions = {}) => loadSkeleton(c, viewerId, HOME_FEED_SQL, params, options);
  const timeline = await fromTimeline({ extra: HOME_TIMELINE_FLOOR_SQL });
  const floor = typeof timeline.extra === 'string' ? (JSON.parse(timeline.extra) as TimelineFloor) : null;
  let page: LoadedPage;
  if (floor && (timeline.rows.length > limit || isBottomFloor(floor))) page = timeline;
  else if (floor) page = await pulled();
  else {
    // The build holds the newest limit + 1 posts at least, so a first page comes straight out of it
    // (the pull query runs once, inside the build); a deeper page needs the pull query itself.
    const before = buildHomeTimeline(c.var.d1, viewerId, limit + 1);
    page = await (cursor ? pulled({ before }) : fromTimeline({ before })).catch((err: unknown) => {
      // The timeline is only a cache: without it the page is still right, just dearer.
      console.error('home timeline build failed', err);
      return pulled();
    });
  }
  return presentPostPage(c, page, limit, { hideMuted: true, context: 'home' });
}

/** Discover looks back this far, at the newest this many public posts (both bounds keep it index-only). */
export const DISCOVER_WINDOW_MS = 7 * 24 * 60 * 60 * 1000;
export const DISCOVER_CANDIDATES = 500;

/** A discover candidate as DISCOVER_CANDIDATES_SQL returns it: what the score needs. */
interface CandidateRow {
  id: string;
  author_id: string;
  topic: string | null;
  like_count: number;
  comment_count: number;
  created_at: number;
  friend_of_friend: number;
  liked_by_friend: number;
  is_friend: number;
}

interface Candidate {
  row: CandidateRow;
  score: number;
}

/**
 * The discover score, documented in the OpenAPI description of GET /feed/discover:
 * score = (1 + likes + 2·comments) / (age_hours + 2)^1.5
 *         × (1 + 0.5·friend_of_friend + 0.5·liked_by_a_friend + 0.25·friend)
 *         × (1 + topic_share)
 * where topic_share is the fraction of the caller's recent likes that went to posts of that topic.
 */
export function discoverScore(
  post: { like_count: number; comment_count: number; created_at: number; topic: string | null },
  signals: { friend_of_friend: number; liked_by_friend: number; is_friend: number },
  topicShare: Map<string, number>,
  now: number,
): number {
  const engagement = 1 + post.like_count + 2 * post.comment_count;
  const ageHours = Math.max(0, now - post.created_at) / 3_600_000;
  const recency = 1 / Math.pow(ageHours + 2, 1.5);
  const proximity = 1 + 0.5 * signals.friend_of_friend + 0.5 * signals.liked_by_friend + 0.25 * signals.is_friend;
  const affinity = 1 + (post.topic ? (topicShare.get(post.topic) ?? 0) : 0);
  return engagement * recency * proximity * affinity;
}

/**
 * Discover: public posts from the last week ranked by {@link discoverScore}. The cursor pins the
 * snapshot time, so later pages rank the same candidates with the same clock.
 */
export async function listDiscoverFeed(c: Context<AppEnv>, viewerId: string | null, topic: string | undefined, limit: number, cursor?: string) {
  const [snapshot, afterScore, afterId] = cursor
    ? ((await openCursor(c.env.JWT_SECRET, cursor, ['number', 'number', 'string'])) as [number, number, string])
    : [Date.now(), Number.POSITIVE_INFINITY, ''];
  const db = c.var.d1;
  const viewer = viewerId ?? '';
  const [candidates, affinity] = await Promise.all([
    db.prepare(DISCOVER_CANDIDATES_SQL).bind(viewer, snapshot - DISCOVER_WINDOW_MS, snapshot, DISCOVER_CANDIDATES, topic ?? null).all<CandidateRow>(),
    viewerId ? db.prepare(TOPIC_AFFINITY_SQL).bind(viewerId).all<{ topic: string; n: number }>() : Promise.resolve({ results: [] }),
  ]);
  const total = affinity.results.reduce((sum, r) => sum + r.n, 0);
  const topicShare = new Map(affinity.results.map((r) => [r.topic, total ? r.n / total : 0]));

  const ranked: Candidate[] = candidates.results
    .map((row) => ({ row, score: discoverScore(row, row, topicShare, snapshot) }))
    .sort((a, b) => b.score - a.score || (a.row.id < b.row.id ? 1 : -1));
  const after = ranked.filter((r) => r.score < afterScore || (r.score === afterScore && r.row.id < afterId));
  const page = after.slice(0, limit);
  const last = page[page.length - 1];
  return {
    data: await renderPostsById(c, viewerId, page.map((r) => r.row.id), { hideMuted: true, context: 'discover' }),
    next_cursor: after.length > limit && last ? await postListCursor(c, [snapshot, last.score, last.row.id]) : null,
  };
}
