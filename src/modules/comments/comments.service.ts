import { eq } from 'drizzle-orm';
import type { Context } from 'hono';
import { mapRow } from '../../db/client';
import { comments, type CommentRow } from '../../db/schema';
import { ApiError } from '../../lib/errors';
import { newId } from '../../lib/ids';
import { OLDEST_FIRST, timeKeyCursor, toPage } from '../../lib/pagination';
import type { AppEnv } from '../../lib/types';
import { isBlockedEither } from '../graph/relations';
import { emitEvent } from '../notifications/events';
import { isModerator } from '../communities/roles';
import { emitMentions, getVisiblePost } from '../posts/posts.service';
import { presentPublicUser } from '../users/users.presenter';
import { loadUsersByIds } from '../users/users.service';
import type { Comment } from '../posts/posts.schemas';

function present(row: CommentRow, author: Parameters<typeof presentPublicUser>[0], baseUrl: string): Comment {
  return {
    id: row.id,
    post_id: row.postId,
    parent_id: row.parentId,
    author: presentPublicUser(author, baseUrl),
    content: row.content,
    reply_count: row.replyCount,
    created_at: row.createdAt.toISOString(),
  };
}

/**
 * Top-level comments (or the replies to `parentId`), oldest first. The post must be visible to the
 * viewer; comments by people on either side of a block with the viewer are left out.
 */
export async function listComments(c: Context<AppEnv>, viewerId: string | null, postId: string, parentId: string | undefined, limit: number, cursor?: string) {
  await getVisiblePost(c, viewerId, postId);
  const [ts, id] = timeKeyCursor(cursor, OLDEST_FIRST);
  const { results } = await c.env.DB.prepare(
    `SELECT * FROM comments c
     WHERE post_id = ?1 AND parent_id IS ?2 AND (created_at, id) > (?3, ?4)
       AND NOT EXISTS (SELECT 1 FROM blocks b WHERE (b.blocker_id = ?6 AND b.blocked_id = c.author_id) OR (b.blocker_id = c.author_id AND b.blocked_id = ?6))
     ORDER BY created_at ASC, id ASC LIMIT ?5`,
  )
    .bind(postId, parentId ?? null, ts, id, limit + 1, viewerId ?? '')
    .all<Record<string, unknown>>();
  const rows = results.map((raw) => mapRow(comments, raw));
  const authors = await loadUsersByIds(c.get('db'), rows.map((r) => r.authorId));
  const baseUrl = c.get('baseUrl');
  return toPage(rows, limit, (r) => [r.createdAt.getTime(), r.id], (r) => present(r, authors.get(r.authorId)!, baseUrl));
}

/** Comments on a post the viewer can see; a reply must answer a top-level comment of the same post. */
export async function createComment(c: Context<AppEnv>, authorId: string, postId: string, content: string, parentId: string | null | undefined): Promise<Comment> {
  const { row: post } = await getVisiblePost(c, authorId, postId);
  const db = c.get('db');
  let parent: CommentRow | undefined;
  if (parentId) {
    parent = await db.select().from(comments).where(eq(comments.id, parentId)).get();
    if (!parent || parent.postId !== postId || (await isBlockedEither(c.env.DB, authorId, parent.authorId))) {
      throw new ApiError('not_found', 'No such comment on this post.', { errors: [{ field: 'parent_id', message: 'is not a comment on this post' }] });
    }
    if (parent.parentId) throw ApiError.field('parent_id', 'replies can only answer a top-level comment');
  }
  const id = newId();
  await db.insert(comments).values({ id, postId, authorId, parentId: parent?.id ?? null, content });
  const row = (await db.select().from(comments).where(eq(comments.id, id)).get())!;
  const author = (await loadUsersByIds(db, [authorId])).get(authorId)!;

  emitEvent(c, { type: 'post_comment', actorId: authorId, recipientId: post.authorId, postId, commentId: id });
  if (parent && parent.authorId !== post.authorId) {
    emitEvent(c, { type: 'comment_reply', actorId: authorId, recipientId: parent.authorId, postId, commentId: id, parentId: parent.id });
  }
  await emitMentions(c, authorId, content, post, { commentId: id });
  return present(row, author, c.get('baseUrl'));
}

/** The comment's author, the post's author or the community's moderators may delete it; replies go with a top-level comment. */
export async function deleteComment(c: Context<AppEnv>, viewerId: string, commentId: string): Promise<void> {
  const db = c.get('db');
  const row = await db.select().from(comments).where(eq(comments.id, commentId)).get();
  if (!row) throw new ApiError('not_found', 'No such comment.');
  const { row: post, communityRole } = await getVisiblePost(c, viewerId, row.postId).catch(() => {
    throw new ApiError('not_found', 'No such comment.');
  });
  if (row.authorId !== viewerId && post.authorId !== viewerId && !isModerator(communityRole)) {
    throw new ApiError('forbidden', "Only the comment's author, the post's author or the community's moderators can delete it.");
  }
  await db.delete(comments).where(eq(comments.id, commentId));
}
