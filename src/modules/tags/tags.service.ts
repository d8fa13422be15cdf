import type { Context } from 'hono';
import type { AppEnv } from '../../lib/types';
import { loadSkeleton } from '../posts/post-pipeline';
import { fillVisiblePage, postCursor, postKey, postListCursor } from '../posts/posts.service';

/**
 * Skeleton of a tag's posts, newest first (post_tags_tag_created_idx, whose created_at is the post's).
 * Parameters: ?1 tag, ?2/?3 cursor (created_at, id), ?4 rows.
 */
export const TAG_POSTS_SQL = `SELECT p.* FROM post_tags t JOIN posts p ON p.id = t.post_id
WHERE t.tag = ?1 AND (t.created_at, t.post_id) < (?2, ?3) ORDER BY t.created_at DESC, t.post_id DESC LIMIT ?4`;

/**
 * GET /tags/{tag}/posts: the posts carrying the tag that the viewer may see (the rules stage decides,
 * as for every list), newest first; muted authors and the viewer's `discover` filters apply, as on
 * other public timelines.
 */
export async function listTagPosts(c: Context<AppEnv>, viewerId: string | null, tag: string, limit: number, cursor?: string) {
  const { data, next } = await fillVisiblePage(
    c,
    limit,
    await postCursor(c, cursor),
    async ([ts, id], count) => ({ ...(await loadSkeleton(c, viewerId, TAG_POSTS_SQL, [tag, ts, id, count + 1])), keyOf: postKey }),
    { hideMuted: true, context: 'discover' },
  );
  return { data, next_cursor: next ? await postListCursor(c, next) : null };
}
