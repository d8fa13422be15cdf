import { and, eq } from 'drizzle-orm';
import { postPath, purgeEdgePaths } from '../../lib/edge-cache';
import type { Context } from 'hono';
import { mapRow } from '../../db/client';
import { comments, type AutoReason, type CommentHold, type CommentRow, type PostRow } from '../../db/schema';
import { screenText } from '../../policy/content-rules';
import { silencedTowards, silencedTowardsSql } from '../../policy/reach';
import { visibleCommentSql } from '../../policy/visibility';
import { insertAutoReport } from '../moderation/reports.store';
import { spamStatements, spamVerdict } from '../moderation/spam';
import { isStaffRole } from '../../middleware/require-staff';
import { ApiError } from '../../lib/errors';
import { createdAndGone, createdBefore, createOrTaken, type IdempotentCreate, recordCreate } from '../../lib/idempotency';
import { newId } from '../../lib/ids';
import { OLDEST_FIRST, timeKeyCursor, toPage } from '../../lib/pagination';
import type { AppEnv } from '../../lib/types';
import { emitEvent } from '../notifications/events';
import { assertNotBanned } from '../communities/bans';
import { isModerator } from '../communities/roles';
import { emitMentions, getVisiblePost, postToClear } from '../posts/posts.service';
import { whoMaySeePost } from '../notifications/delivery';
import { commentNotices, forgetContent } from '../notifications/removed-content';
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
    ...(row.held ? { held: true as const } : {}),
  };
}

/** Whether the caller is site staff (who see held comments). */
const staffCaller = (c: Context<AppEnv>) => (isStaffRole(c.get('auth')?.role) ? 1 : 0);

/**
 * A comment the viewer may see ({@link visibleCommentSql}), on `postId` when given: 404 otherwise,
 * naming `field`, as for a comment that does not exist. It does not check the post: callers do.
 */
export async function findVisibleComment(c: Context<AppEnv>, viewerId: string | null, commentId: string, options: { postId?: string; field?: string } = {}): Promise<CommentRow> {
  const raw = await c.var.d1
    .prepare(`SELECT * FROM comments k WHERE k.id = ?1 AND (?2 IS NULL OR k.post_id = ?2) AND ${visibleCommentSql('?3', 'k', '?4')}`)
    .bind(commentId, options.postId ?? null, viewerId ?? '', staffCaller(c))
    .first<Record<string, unknown>>();
  if (!raw) {
    const detail = options.postId ? 'No such comment on this post.' : 'No such comment.';
    throw new ApiError('not_found', detail, options.field ? { errors: [{ field: options.field, message: 'is not a comment on this post' }] } : {});
  }
  return mapRow(comments, raw);
}

/**
 * Top-level comments (or the replies to `parentId`), oldest first. The post must be visible to the
 * viewer, and so must the parent (404 naming `parent_id` otherwise: the thread under a hidden comment
 * is hidden with it); comments by suspended accounts or by people on either side of a block with the
 * viewer are left out, and so are held comments except to their author and staff.
 */
export async function listComments(c: Context<AppEnv>, viewerId: string | null, postId: string, parentId: string | undefined, limit: number, cursor?: string) {
  await getVisiblePost(c, viewerId, postId);
  if (parentId) await findVisibleComment(c, viewerId, parentId, { postId, field: 'parent_id' });
  const [ts, id] = timeKeyCursor(cursor, OLDEST_FIRST);
  const { results } = await c.var.d1.prepare(
    `SELECT * FROM comments c
     WHERE post_id = ?1 AND parent_id IS ?2 AND (created_at, id) > (?3, ?4) AND ${visibleCommentSql('?6', 'c', '?7')}
     ORDER BY created_at ASC, id ASC LIMIT ?5`,
  )
    .bind(postId, parentId ?? null, ts, id, limit + 1, viewerId ?? '', staffCaller(c))
    .all<Record<string, unknown>>();
  const rows = results.map((raw) => mapRow(comments, raw));
  const authors = await loadUsersByIds(c.get('db'), rows.map((r) => r.authorId));
  const baseUrl = c.get('baseUrl');
  return toPage(rows, limit, (r) => [r.createdAt.getTime(), r.id], (r) => present(r, authors.get(r.authorId)!, baseUrl));
}

/**
 * Comments on a post the viewer can see (not by someone banned from its community); a reply must
 * answer a top-level comment of the same post that is not held.
 * The text passes the content rules (a hold keeps the comment to its author and staff, with a report)
 * and the spam holds, whose counts ride in the comment's own batch; a silenced author's comment on the
 * post of someone who neither follows nor befriends them is held too (see `silencedTowards`).
 */
export async function createComment(
  c: Context<AppEnv>,
  authorId: string,
  postId: string,
  content: string,
  parentId: string | null | undefined,
  retry: IdempotentCreate | null = null,
): Promise<{ comment: Comment; created: boolean }> {
  // A retry (the same Idempotency-Key) gets the comment its first request made, checked and created nothing again.
  const before = retry ? await createdBefore(c.var.d1, authorId, retry) : null;
  if (before) return { comment: await commentMadeBefore(c, authorId, before), created: false };
  const verdict = await screenText(c, [{ field: 'content', text: content }], 'comment');
  const { row: post } = await getVisiblePost(c, authorId, postId);
  await assertNotBanned(c.var.d1, post.communityId, authorId);
  const db = c.get('db');
  // The parent as the author may see it: a hidden comment (blocks, suspension, a hold) takes no replies.
  // Its own author still sees a held comment, but a reply under it would be published and counted under
  // a comment nobody else sees: it takes replies once it is released.
  const parent = parentId ? await findVisibleComment(c, authorId, parentId, { postId, field: 'parent_id' }) : undefined;
  if (parent) {
    if (parent.parentId) throw ApiError.field('parent_id', 'replies can only answer a top-level comment');
    if (parent.held) throw ApiError.field('parent_id', 'is held (awaiting review, or its author is silenced): it takes replies once it is released');
  }
  const id = newId();
  const now = Date.now();
  const author = (await loadUsersByIds(db, [authorId])).get(authorId)!;
  const snapshot = () => ({ author: presentPublicUser(author, c.get('baseUrl')), content, media: [] });
  const report = (reason: AutoReason) =>
    insertAutoReport(c.var.d1, reason, { subjectType: 'comment', subjectId: id, subjectUserId: authorId, communityId: post.communityId, snapshot: snapshot() }, now).statement;
  const spam = await spamStatements(c.var.d1, authorId, content, now);
  // A hold keeps the comment to its author (and staff), uncounted and unannounced: for review (with a
  // report), or because a silenced account's comments reach only the posts of people who follow or
  // befriend it (src/policy/reach.ts; released when the silence is lifted).
  const heldFor: CommentHold | null = verdict.action === 'hold' ? 'review' : (await silencedTowards(c.var.d1, authorId, post.authorId)) ? 'silence' : null;
  const held = heldFor !== null;
  const statements = [
    ...(retry ? recordCreate(c.var.d1, authorId, retry, id, now) : []),
    c.var.d1.prepare('INSERT INTO comments (id, post_id, author_id, parent_id, content, held, held_reason, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)').bind(
      id,
      postId,
      authorId,
      parent?.id ?? null,
      content,
      held ? 1 : 0,
      heldFor,
      now,
    ),
    ...(verdict.action === 'allow' ? [] : [report(verdict.reason)]),
    spam.check,
    spam.record,
  ];
  const outcome = await createOrTaken(c.var.d1, authorId, retry, () => c.var.d1.batch<{ repeats: number; born: number | null; links: number }>(statements));
  // The same key sent twice at once: the other request's batch took it, and this one created nothing.
  if ('takenBy' in outcome) return { comment: await commentMadeBefore(c, authorId, outcome.takenBy), created: false };
  const results = outcome.done;
  const tripped = !held ? spamVerdict(spam, results.at(-2)?.results[0]) : null;
  if (tripped) await c.var.d1.batch([c.var.d1.prepare("UPDATE comments SET held = 1, held_reason = 'review' WHERE id = ?1").bind(id), report(tripped)]);
  const row = (await db.select().from(comments).where(eq(comments.id, id)).get())!;

  if (!row.held) await announceComment(c, row, post);
  return { comment: present(row, author, c.get('baseUrl')), created: true };
}

/** The comment an earlier request with the same Idempotency-Key made, as its author sees it now (409 once it is gone). */
async function commentMadeBefore(c: Context<AppEnv>, authorId: string, id: string): Promise<Comment> {
  const db = c.get('db');
  const row = await db.select().from(comments).where(and(eq(comments.id, id), eq(comments.authorId, authorId))).get();
  if (!row) throw createdAndGone('comment');
  return present(row, (await loadUsersByIds(db, [authorId])).get(authorId)!, c.get('baseUrl'));
}

/**
 * Notifies the post's author, the parent's author (while they may still see the post) and those
 * mentioned (recorded in `mentioned_ids`, for its deletion to withdraw): at creation, or on release
 * from a hold. The post's cached copy goes too: its `comment_count` now counts the comment (a held one
 * is not counted: migration 0032).
 */
export async function announceComment(c: Context<AppEnv>, row: CommentRow, post: PostRow): Promise<void> {
  await purgeEdgePaths('posts', [postPath(post.id)]);
  emitEvent(c, { type: 'post_comment', actorId: row.authorId, recipientId: post.authorId, postId: post.id, commentId: row.id });
  if (row.parentId) {
    const parent = await c.get('db').select({ authorId: comments.authorId }).from(comments).where(eq(comments.id, row.parentId)).get();
    if (parent && parent.authorId !== post.authorId && (await whoMaySeePost(c.env, post, [parent.authorId])).length > 0) {
      emitEvent(c, { type: 'comment_reply', actorId: row.authorId, recipientId: parent.authorId, postId: post.id, commentId: row.id, parentId: row.parentId });
    }
  }
  const mentioned = await emitMentions(c, row.authorId, row.content, post, { commentId: row.id });
  if (mentioned.length > 0) await c.var.d1.prepare('UPDATE comments SET mentioned_ids = ?2 WHERE id = ?1').bind(row.id, JSON.stringify(mentioned)).run();
}

/**
 * The statement (SQL, `id` the comment's id expression) that ends a comment's review hold: it is
 * published, unless its author's silence would have held it anyway (see createComment): then it stays
 * held for the silence alone, until that is lifted (releaseSilenceHoldsSql).
 */
export function endReviewHoldSql(id: string): string {
  const silenced = silencedTowardsSql('comments.author_id', '(SELECT p.author_id FROM posts p WHERE p.id = comments.post_id)');
  return `UPDATE comments SET held = ${silenced}, held_reason = CASE WHEN ${silenced} THEN 'silence' END WHERE id = ${id}`;
}

/**
 * The statement (SQL, `user` the author's id expression) that publishes the comments a silence held
 * once it is lifted (it checks that it is, so it may ride in the lift's batch whether the lift wins or
 * not): counted from then on like any release (trigger comments_count_held), announced to nobody, as
 * written then they would notify late (`mentioned_ids` `[]`: nothing to withdraw either). Returns the
 * posts whose counts changed.
 */
export function releaseSilenceHoldsSql(user: string): string {
  return `UPDATE comments SET held = 0, held_reason = NULL, mentioned_ids = '[]'
    WHERE author_id = ${user} AND held_reason = 'silence' AND EXISTS (SELECT 1 FROM users u WHERE u.id = ${user} AND u.silenced_at IS NULL)
    RETURNING post_id`;
}

/**
 * The comment's author, the post's author, the owner of the wall the post is on, or the community's
 * moderators may delete it; replies go with a top-level comment, and the notifications they caused
 * leave their recipients' inboxes (awaited: the answer already reflects it).
 */
export async function deleteComment(c: Context<AppEnv>, viewerId: string, commentId: string): Promise<void> {
  const db = c.get('db');
  const row = await db.select().from(comments).where(eq(comments.id, commentId)).get();
  if (!row) throw new ApiError('not_found', 'No such comment.');
  const { row: post, communityRole } = await postToClear(c, viewerId, row.postId).catch(() => {
    throw new ApiError('not_found', 'No such comment.');
  });
  if (row.authorId !== viewerId && post.authorId !== viewerId && post.targetUserId !== viewerId && !isModerator(communityRole)) {
    throw new ApiError('forbidden', "Only the comment's author, the post's author, the owner of the wall it is on or the community's moderators can delete it.");
  }
  const notices = await commentNotices(c.var.d1, row.postId, row.id);
  await db.delete(comments).where(eq(comments.id, commentId));
  await purgeEdgePaths('posts', [postPath(row.postId)]);
  await forgetContent(c.env, { commentIds: notices.commentIds, at: Date.now() }, notices.recipients);
}
