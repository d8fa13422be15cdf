import type { D1Client } from '../../db/client';
import { ACCOUNT_CONVERSATIONS_SQL } from '../messaging/messaging.service';
import { accountsNamedIn } from '../posts/mentions';

/** Posts and comments holding an "@" read at most for the people they mentioned. */
const MENTION_TEXTS = 5_000;

/**
 * What of an account lives outside D1, read from D1 before the account's rows cascade away: the
 * conversations whose rooms hold its messages and profile, and the inboxes that may hold
 * notifications naming it.
 */
export interface AccountTraces {
  /** Conversations it is a member of, or left (it may have written there before leaving: declines and departures). */
  conversations: { id: string; kind: 'direct' | 'group' | 'community' }[];
  /**
   * Everyone it could have notified, by the relation each notification needs (notifications/delivery.ts):
   * friends and followers (`new_post`, `friend_accepted`), people it follows or asked to follow or
   * befriend (`new_follower`, `follow_request`, `friend_request`), wall owners it wrote to (`wall_post`),
   * authors of posts it liked or commented on and of comments it answered (`post_like`, `post_comment`,
   * `comment_reply`), people its posts and comments mention (`mention`), its co-members in direct and
   * group conversations (`new_message`, calls, `conversation_invite`), the owners and moderators of its
   * communities (`community_join_request`) and the members of approval communities it moderates
   * (`community_join_approved`). A community chat notifies nobody, so its members are not listed. A
   * relation undone before the deletion (an unfollow, a deleted comment) leaves nothing in D1 to find.
   */
  inboxes: string[];
}

export async function accountTraces(db: D1Client, userId: string): Promise<AccountTraces> {
  // D1 allows at most 5 terms in a compound SELECT: the relations come in three statements.
  const [graph, content, memberships, texts, conversations] = await db.batch<Record<string, unknown>>([
    db
      .prepare(
        `SELECT friend_id AS id FROM friendships WHERE user_id = ?1
         UNION SELECT follower_id FROM follows WHERE followee_id = ?1
         UNION SELECT followee_id FROM follows WHERE follower_id = ?1
         UNION SELECT to_user_id FROM friend_requests WHERE from_user_id = ?1
         UNION SELECT from_user_id FROM friend_requests WHERE to_user_id = ?1`,
      )
      .bind(userId),
    db
      .prepare(
        `SELECT target_user_id AS id FROM posts WHERE author_id = ?1 AND target_user_id IS NOT NULL
         UNION SELECT p.author_id FROM likes l JOIN posts p ON p.id = l.post_id WHERE l.user_id = ?1
         UNION SELECT p.author_id FROM comments k JOIN posts p ON p.id = k.post_id WHERE k.author_id = ?1
         UNION SELECT r.author_id FROM comments k JOIN comments r ON r.id = k.parent_id WHERE k.author_id = ?1`,
      )
      .bind(userId),
    db
      .prepare(
        `SELECT o.user_id AS id FROM conversation_members mine
           JOIN conversations c ON c.id = mine.conversation_id AND c.kind != 'community'
           JOIN conversation_members o ON o.conversation_id = mine.conversation_id
           WHERE mine.user_id = ?1
         UNION SELECT o.user_id FROM community_members mine
           JOIN community_members o ON o.community_id = mine.community_id AND o.role IN ('owner', 'moderator')
           WHERE mine.user_id = ?1
         UNION SELECT o.user_id FROM community_members mine
           JOIN communities k ON k.id = mine.community_id AND k.join_policy = 'approval'
           JOIN community_members o ON o.community_id = mine.community_id AND o.role != 'pending'
           WHERE mine.user_id = ?1 AND mine.role IN ('owner', 'moderator')`,
      )
      .bind(userId),
    db
      .prepare(
        `SELECT content FROM posts WHERE author_id = ?1 AND instr(content, '@') > 0
         UNION ALL SELECT content FROM comments WHERE author_id = ?1 AND instr(content, '@') > 0
         LIMIT ?2`,
      )
      .bind(userId, MENTION_TEXTS),
    db.prepare(ACCOUNT_CONVERSATIONS_SQL).bind(userId),
  ]);
  const mentioned = await accountsNamedIn(db, (texts?.results ?? []).map((row) => row.content as string));
  const related = [graph, content, memberships].flatMap((result) => (result?.results ?? []).map((r) => r.id as string));
  const inboxes = new Set([...related, ...mentioned]);
  inboxes.delete(userId);
  return { conversations: (conversations?.results ?? []) as AccountTraces['conversations'], inboxes: [...inboxes] };
}
