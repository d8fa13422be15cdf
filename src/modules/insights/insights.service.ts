import type { Context } from 'hono';
import { ApiError } from '../../lib/errors';
import type { AppEnv } from '../../lib/types';
import { assertModerator, resolveCommunity } from '../communities/communities.service';
import { inboxOf } from '../notifications/user-inbox';
import { impressionCounterOf } from './impression-counter';
import { combineImpressions } from './post-impressions';
import { getVisiblePost } from '../posts/posts.service';

const WEEK_MS = 7 * 24 * 60 * 60 * 1000;

/** (likes + comments) / impressions to 4 decimals; 0 before any impression. */
export const engagementRate = (likes: number, comments: number, impressions: number) => (impressions > 0 ? Math.round(((likes + comments) / impressions) * 10_000) / 10_000 : 0);

/**
 * The author's view of a post: counters from D1, impressions from the post's counter shard (queue-fed)
 * together with what the author's inbox counted before the shards.
 */
export async function postInsights(c: Context<AppEnv>, viewerId: string, postId: string) {
  const { row } = await getVisiblePost(c, viewerId, postId);
  if (row.authorId !== viewerId) throw new ApiError('forbidden', "Only the author sees a post's insights.");
  const { impressions, unique_viewers } = combineImpressions(await Promise.all([impressionCounterOf(c.env, row.id).stored(row.id), inboxOf(c.env, row.authorId).storedImpressions(row.id)]));
  return { impressions, unique_viewers, likes: row.likeCount, comments: row.commentCount, engagement_rate: engagementRate(row.likeCount, row.commentCount, impressions) };
}

/** Membership and the last 7 days of activity, for the owner and moderators; one D1 round trip. */
export async function communityInsights(c: Context<AppEnv>, viewerId: string, ref: string) {
  const community = await resolveCommunity(c, ref, viewerId);
  const member = community.myRole !== null && community.myRole !== 'pending';
  if (community.visibility === 'private' && !member) throw new ApiError('not_found', 'No such community.');
  assertModerator(community, "see this community's insights");
  const since = Date.now() - WEEK_MS;
  const counts = await c.var.d1
    .prepare(
      `SELECT
         (SELECT COUNT(*) FROM community_members WHERE community_id = ?1 AND role != 'pending') AS members,
         (SELECT COUNT(*) FROM community_members WHERE community_id = ?1 AND role != 'pending' AND created_at >= ?2) AS new_members_7d,
         (SELECT COUNT(*) FROM posts WHERE community_id = ?1 AND created_at >= ?2) AS posts_7d,
         (SELECT COUNT(*) FROM (
            SELECT author_id AS user_id FROM posts WHERE community_id = ?1 AND created_at >= ?2
            UNION SELECT cm.author_id FROM comments cm JOIN posts p ON p.id = cm.post_id WHERE p.community_id = ?1 AND cm.created_at >= ?2
            UNION SELECT l.user_id FROM likes l JOIN posts p ON p.id = l.post_id WHERE p.community_id = ?1 AND l.created_at >= ?2
          ) a WHERE EXISTS (SELECT 1 FROM community_members m WHERE m.community_id = ?1 AND m.user_id = a.user_id AND m.role != 'pending')) AS active_members_7d,
         (SELECT COUNT(*) FROM reports WHERE community_id = ?1 AND status = 'open') AS reports_open`,
    )
    .bind(community.id, since)
    .first<{ members: number; new_members_7d: number; posts_7d: number; active_members_7d: number; reports_open: number }>();
  return counts!;
}
