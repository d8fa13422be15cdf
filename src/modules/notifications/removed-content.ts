import type { D1Client } from '../../db/client';
import { impressionCounterOf } from '../insights/impression-counter';
import { accountsNamedIn } from '../posts/mentions';
import { FAN_OUT_CHUNK, queueContentForget } from '../../queues/fanout.producer';
import { type ForgetRef, inboxOf } from './user-inbox';

/**
 * Removed content leaves the inboxes it was announced to (UserInbox.forget). Who those are is read from
 * D1 before the rows go: a post's audience, and for comments the post's author (`post_comment`), the
 * authors of the comments they answered (`comment_reply`) and the accounts their mentions notified
 * (`comments.mentioned_ids`, or, for a comment from before that record, the names in its text).
 */

/** Texts read again at most, for the mentions of comments announced before they were recorded. */
const MENTION_TEXTS = 1000;

/**
 * Removes the notifications about a removed post, deleted comments or a removed message from the
 * inboxes that got them (UserInbox.forget); a post's impression counters go too. The first
 * {@link FAN_OUT_CHUNK} inboxes are cleared here, so the answer reflects it for a usual audience; the
 * rest through the fan-out queue (`content.forget`, retried until done), so a large audience is reached
 * whole without holding the request up. A failure is logged, never turned into an error for a removal
 * that succeeded.
 */
export async function forgetContent(env: Env, ref: ForgetRef, recipients: string[]): Promise<void> {
  try {
    if (ref.postId) await impressionCounterOf(env, ref.postId).forget(ref.postId);
    const unique = [...new Set(recipients)];
    if (unique.length > FAN_OUT_CHUNK) await queueContentForget(env, ref, unique.slice(FAN_OUT_CHUNK));
    await Promise.all(unique.slice(0, FAN_OUT_CHUNK).map((id) => inboxOf(env, id).forget(ref)));
  } catch (err) {
    console.error(JSON.stringify({ level: 'error', message: 'removed content: inboxes not cleared', error: String(err) }));
  }
}

/** What deleting comments must withdraw: their ids (published ones: a held comment notified nobody) and who may hold notifications about them. */
export interface CommentNotices {
  commentIds: string[];
  recipients: string[];
}

/**
 * The notices of one comment and its replies (`commentId`), or of every comment on a post (none),
 * read before they are deleted.
 */
export async function commentNotices(db: D1Client, postId: string, commentId: string | null): Promise<CommentNotices> {
  const scope = 'k.post_id = ?1 AND (?2 IS NULL OR k.id = ?2 OR k.parent_id = ?2) AND k.held = 0';
  const [ids, recipients, texts] = await db.batch<{ id?: string; content?: string }>([
    db.prepare(`SELECT k.id FROM comments k WHERE ${scope}`).bind(postId, commentId),
    db
      .prepare(
        `SELECT p.author_id AS id FROM posts p WHERE p.id = ?1 AND EXISTS (SELECT 1 FROM comments k WHERE ${scope})
         UNION SELECT r.author_id FROM comments k JOIN comments r ON r.id = k.parent_id WHERE ${scope}
         UNION SELECT m.value FROM comments k, json_each(k.mentioned_ids) m WHERE ${scope}`,
      )
      .bind(postId, commentId),
    db.prepare(`SELECT k.content FROM comments k WHERE ${scope} AND k.mentioned_ids IS NULL AND instr(k.content, '@') > 0 LIMIT ?3`).bind(postId, commentId, MENTION_TEXTS),
  ]);
  const named = await accountsNamedIn(db, (texts?.results ?? []).map((r) => r.content!));
  return {
    commentIds: (ids?.results ?? []).map((r) => r.id!),
    recipients: [...new Set([...(recipients?.results ?? []).map((r) => r.id!), ...named])],
  };
}

/**
 * Everyone a post's removal must reach, read before it goes: who its comments notified (see
 * commentNotices) and those it mentioned, then its audience (its author's friends and accepted
 * followers, who got its `new_post`) and its wall owner.
 */
export async function postRemovalAudience(db: D1Client, postId: string): Promise<string[]> {
  const [notices, audience] = await Promise.all([
    commentNotices(db, postId, null),
    db
      .prepare(
        `SELECT p.content, p.target_user_id AS id FROM posts p WHERE p.id = ?1
         UNION ALL SELECT NULL, friend_id FROM friendships WHERE user_id = (SELECT author_id FROM posts WHERE id = ?1)
         UNION ALL SELECT NULL, follower_id FROM follows WHERE followee_id = (SELECT author_id FROM posts WHERE id = ?1) AND status = 'accepted'`,
      )
      .bind(postId)
      .all<{ content: string | null; id: string | null }>(),
  ]);
  const mentioned = await accountsNamedIn(db, audience.results.flatMap((r) => (r.content ? [r.content] : [])));
  return [...new Set([...notices.recipients, ...mentioned, ...audience.results.flatMap((r) => (r.id ? [r.id] : []))])];
}
