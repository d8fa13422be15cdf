import type { Context } from 'hono';
import { mapRow } from '../../db/client';
import { posts as postsTable, users as usersTable, type CommunityRole, type PostRow } from '../../db/schema';
import type { AppEnv } from '../../lib/types';
import { RELATION, relationFlagsSql, relationsFromFlags } from '../graph/relations';
import { canViewPost, type CommunityAccess } from '../posts/post-pipeline';
import { activeUserSql, blockedEitherSql } from '../../policy/visibility';
import { presentPublicUser } from '../users/users.presenter';
import type { EventContext, SocialEvent } from './events';
import { queueDeliveries } from '../../queues/fanout.producer';
import { commentSource, type Delivery, inboxOf, REPEAT_WINDOW_MS, type Retraction } from './user-inbox';

/** How many inbox deliveries run at once when a fan-out is made inline. */
export const FAN_OUT_BATCH = 50;
/** Audiences larger than this go through the fan-out queue (src/queues/fanout.ts). */
export const FAN_OUT_INLINE = 100;
const SNIPPET = 80;


async function publicUser(ctx: EventContext, userId: string) {
  const raw = await ctx.env.DB.prepare('SELECT * FROM users WHERE id = ?1').bind(userId).first<Record<string, unknown>>();
  return raw ? presentPublicUser(mapRow(usersTable, raw), ctx.baseUrl) : null;
}

/** The `{ id, slug, name }` a community notification carries, or null once the community is gone. */
async function communitySummary(env: Env, communityId: string) {
  return env.DB.prepare('SELECT id, slug, name FROM communities WHERE id = ?1').bind(communityId).first<{ id: string; slug: string; name: string }>();
}

/**
 * The recipients who may be notified (no block either way with the actor, not muting the actor, never
 * the actor), each with whether they neither follow nor are friends with the actor: such strangers'
 * notifications from one actor are capped per hour by their inbox. Nobody, once the actor is suspended
 * (or gone): an action that passed its checks just before the suspension notifies nobody after it.
 */
async function audience(env: Env, actorId: string, recipients: string[]): Promise<Map<string, { stranger: boolean }>> {
  const candidates = [...new Set(recipients)].filter((id) => id !== actorId);
  if (candidates.length === 0) return new Map();
  const { results } = await env.DB.prepare(`SELECT j.value AS id, ${relationFlagsSql('j.value', '?1')} AS r FROM json_each(?2) j WHERE ${activeUserSql('?1')}`)
    .bind(actorId, JSON.stringify(candidates))
    .all<{ id: string; r: number }>();
  return new Map(
    results.filter((row) => (row.r & (RELATION.blocked | RELATION.muted)) === 0).map((row) => [row.id, { stranger: (row.r & (RELATION.friend | RELATION.following)) === 0 }]),
  );
}

/** Delivers one notification to recipients, after blocks, with flood control for strangers (src/modules/notifications/user-inbox.ts). */
async function deliverTo(env: Env, actorId: string, recipients: string[], delivery: Delivery): Promise<void> {
  const known = await audience(env, actorId, recipients);
  const connected = [...known].filter(([, r]) => !r.stranger).map(([id]) => id);
  const strangers = [...known].filter(([, r]) => r.stranger).map(([id]) => id);
  await Promise.all([fanOut(env, connected, delivery), fanOut(env, strangers, { ...delivery, floodFrom: actorId })]);
}

/** How a notification's cause is named for retraction, and how long a repeat of it stays silent. */
const SOURCES = {
  friend_request: (actorId: string) => ({ source: `friend_request:${actorId}`, quietMs: REPEAT_WINDOW_MS }),
  follow_request: (actorId: string) => ({ source: `follow_request:${actorId}`, quietMs: REPEAT_WINDOW_MS }),
  new_follower: (actorId: string) => ({ source: `new_follower:${actorId}`, quietMs: REPEAT_WINDOW_MS }),
  post_like: (actorId: string, postId: string) => ({ source: `post_like:${postId}:${actorId}` }),
  community_join_request: (actorId: string, communityId: string) => ({ source: `community_join_request:${communityId}:${actorId}`, quietMs: REPEAT_WINDOW_MS }),
};

/** The source a call's `call_incoming` carries, so the room can retract it when the call ends. */
export const callSource = (callId: string) => `call_incoming:${callId}`;

/** What was undone: a friend request cancelled, a follow (or follow request) withdrawn, a like taken back, an application withdrawn. */
export type UndoneAction =
  | { type: 'friend_request'; actorId: string; recipientId: string }
  | { type: 'follow'; actorId: string; recipientId: string }
  | { type: 'post_like'; actorId: string; recipientId: string; postId: string }
  | { type: 'community_join_request'; actorId: string; recipientId: string; communityId: string };

/**
 * Retracts the notification an undone action caused (list, unread count, and a `notification.removed`
 * frame on open sockets). Awaited, so the answer to the undo already reflects it; a failure is logged,
 * never turned into an error for an action that succeeded.
 */
export async function retractEvent(c: Context<AppEnv>, undone: UndoneAction): Promise<void> {
  if (undone.actorId === undone.recipientId) return;
  const at = Date.now();
  const retractions: Retraction[] =
    undone.type === 'friend_request'
      ? [{ ...SOURCES.friend_request(undone.actorId), at }]
      : undone.type === 'follow'
        ? [
            { ...SOURCES.follow_request(undone.actorId), at },
            { ...SOURCES.new_follower(undone.actorId), groupKey: 'new_follower', actorId: undone.actorId, at },
          ]
        : undone.type === 'community_join_request'
          ? [{ ...SOURCES.community_join_request(undone.actorId, undone.communityId), at }]
          : [{ ...SOURCES.post_like(undone.actorId, undone.postId), groupKey: `post_like:${undone.postId}`, actorId: undone.actorId, at }];
  const inbox = inboxOf(c.env, undone.recipientId);
  try {
    for (const { source, groupKey, actorId } of retractions) await inbox.retract({ source, groupKey, actorId, at });
  } catch (err) {
    console.error(JSON.stringify({ level: 'error', message: 'retraction failed', type: undone.type, error: String(err) }));
  }
}

/**
 * After a block: each side's inbox forgets the other (their profile and their words; see
 * UserInbox.forgetUser). Awaited, so the block's answer already reflects it; a failure is logged, never
 * turned into an error for a block that succeeded.
 */
export async function forgetEachOther(env: Env, a: string, b: string): Promise<void> {
  try {
    await Promise.all([inboxOf(env, a).forgetUser(b), inboxOf(env, b).forgetUser(a)]);
  } catch (err) {
    console.error(JSON.stringify({ level: 'error', message: 'block: inboxes not cleared', error: String(err) }));
  }
}

/**
 * Delivers to many inboxes. Small audiences go inline, FAN_OUT_BATCH at a time; larger ones go through
 * the fan-out queue (src/queues/fanout.ts), in chunks under one idempotency key, so no single
 * invocation makes more subrequests than the platform allows, failures retry with backoff, and a
 * redelivered chunk never notifies twice.
 */
export async function fanOut(env: Env, recipients: string[], delivery: Delivery): Promise<void> {
  if (recipients.length > FAN_OUT_INLINE) {
    await queueDeliveries(env, recipients, delivery);
    return;
  }
  for (let i = 0; i < recipients.length; i += FAN_OUT_BATCH) {
    await Promise.all(recipients.slice(i, i + FAN_OUT_BATCH).map((id) => inboxOf(env, id).deliver(delivery)));
  }
}

/**
 * The audience of a new post, before the rules: the author's friends and accepted followers — nobody
 * for a private post, friends only for a friends post, and only the members among them for a post in a
 * private community. {@link whoMaySeePost} then keeps those the rules stage lets see it.
 */
async function postAudience(env: Env, postId: string): Promise<{ post: PostRow; recipients: string[] } | null> {
  const raw = await env.DB.prepare('SELECT p.*, k.visibility AS community_visibility FROM posts p LEFT JOIN communities k ON k.id = p.community_id WHERE p.id = ?1')
    .bind(postId)
    .first<Record<string, unknown>>();
  if (!raw) return null;
  const post = mapRow(postsTable, raw);
  if (post.visibility === 'private') return null;
  const friendsOnly = post.visibility === 'friends';
  const membersOnly = raw.community_visibility === 'private';
  const { results } = await env.DB.prepare(
    `SELECT id FROM (SELECT friend_id AS id FROM friendships WHERE user_id = ?1
       ${friendsOnly ? '' : "UNION SELECT follower_id FROM follows WHERE followee_id = ?1 AND status = 'accepted'"})
     ${membersOnly ? "WHERE id IN (SELECT user_id FROM community_members WHERE community_id = ?2 AND role != 'pending')" : ''}`,
  )
    .bind(post.authorId, ...(membersOnly ? [post.communityId] : []))
    .all<{ id: string }>();
  return { post, recipients: results.map((r) => r.id) };
}

/**
 * Those of `recipients` who may see the post, decided by the rules stage itself (canViewPost) on each
 * one's relations to the author and the wall owner and their role in its community (a wall post's
 * author's followers are not the wall's audience; blocks apply as everywhere, that between the author
 * and the wall owner too), and with no block either
 * way with any of `actors` (who caused the notification); with `exceptMuting`, not those who mute the
 * author. One batch however many recipients: the fan-out of a new post, mentions, replies.
 */
export async function whoMaySeePost(env: Env, post: PostRow, recipients: string[], actors: string[] = [], options: { exceptMuting?: boolean } = {}): Promise<string[]> {
  const candidates = [...new Set(recipients)];
  if (candidates.length === 0) return [];
  const [people, communities, relations, wall] = await env.DB.batch<Record<string, unknown>>([
    env.DB.prepare('SELECT * FROM users WHERE id IN (?1, ?2)').bind(post.authorId, post.targetUserId ?? post.authorId),
    env.DB.prepare('SELECT visibility FROM communities WHERE id = ?1').bind(post.communityId ?? ''),
    env.DB.prepare(
      `SELECT j.value AS id, ${relationFlagsSql('j.value', '?2')} AS ra, ${relationFlagsSql('j.value', '?3')} AS rt,
         (SELECT cm.role FROM community_members cm WHERE cm.community_id = ?4 AND cm.user_id = j.value) AS role,
         EXISTS (SELECT 1 FROM json_each(?5) a JOIN blocks b ON (b.blocker_id = j.value AND b.blocked_id = a.value) OR (b.blocker_id = a.value AND b.blocked_id = j.value)) AS blocks_actor
       FROM json_each(?1) j`,
    ).bind(JSON.stringify(candidates), post.authorId, post.targetUserId ?? '', post.communityId ?? '', JSON.stringify(actors)),
    env.DB.prepare(`SELECT ${blockedEitherSql('?1', '?2')} AS blocked`).bind(post.authorId, post.targetUserId ?? ''),
  ]);
  const users = new Map((people?.results ?? []).map((raw) => [raw.id as string, mapRow(usersTable, raw)]));
  const author = users.get(post.authorId);
  const target = post.targetUserId ? (users.get(post.targetUserId) ?? null) : null;
  if (!author || (post.targetUserId && !target)) return [];
  const community = (communities?.results[0]?.visibility as CommunityAccess['visibility'] | undefined) ?? null;
  const wallBlocked = post.targetUserId !== null && wall?.results[0]?.blocked === 1;
  return ((relations?.results ?? []) as { id: string; ra: number; rt: number; role: CommunityRole | null; blocks_actor: number }[])
    .filter((row) => {
      if (row.blocks_actor || (options.exceptMuting && (row.ra & RELATION.muted) !== 0)) return false;
      const rel = relationsFromFlags(row.id, [{ id: author.id, r: row.ra }, ...(target ? [{ id: target.id, r: row.rt }] : [])]);
      return canViewPost(post, author, target, rel, community ? { visibility: community, role: row.role } : null, wallBlocked);
    })
    .map((row) => row.id);
}

/**
 * The `new_post` notification of a post and who gets it (its audience, as far as the rules let them see
 * it), or null when it notifies nobody. The fan-out queue's consumer delivers it under the key
 * `new_post:<post id>`.
 */
export async function postNotice(ctx: EventContext, postId: string): Promise<{ recipients: string[]; delivery: Delivery } | null> {
  const audience = await postAudience(ctx.env, postId);
  if (!audience) return null;
  const { post } = audience;
  const actor = await publicUser(ctx, post.authorId);
  if (!actor) return null;
  const snippet = post.content.length > SNIPPET ? `${post.content.slice(0, SNIPPET - 1)}…` : post.content;
  const message = snippet ? `${actor.display_name} posted: “${snippet}”` : `${actor.display_name} shared a new post`;
  // Those who mute the author are not told of its posts, as of nothing else it does (see audience).
  const recipients = await whoMaySeePost(ctx.env, post, audience.recipients.filter((id) => id !== post.authorId), [], { exceptMuting: true });
  return { recipients, delivery: { type: 'new_post', data: { id: postId, author: actor, message } } };
}

/** Whether a comment still stands, published (not deleted, not held). */
async function commentStands(env: Env, commentId: string): Promise<boolean> {
  return (await env.DB.prepare('SELECT 1 FROM comments WHERE id = ?1 AND held = 0').bind(commentId).first()) !== null;
}

/** Turns one social event into notifications in the recipients' inboxes (each stored, then pushed). */
export async function deliverEvent(event: SocialEvent, ctx: EventContext): Promise<void> {
  const { env } = ctx;
  // A new post reaches its audience through the fan-out queue (announcePost queues it; see postNotice).
  if (event.type === 'new_post') return;
  // Moderation notices come from the site, not a user: no actor to present, and no block filters them.
  if (event.type === 'report_resolved' || event.type === 'moderation_warning') {
    await inboxOf(env, event.recipientId).deliver({ type: event.type, data: event.data });
    return;
  }
  if (event.type === 'new_message') {
    await deliverTo(env, event.actorId, event.recipientIds, {
      type: 'new_message',
      data: { id: event.messageId, conversation_id: event.conversationId, seq: event.seq, sender: event.sender, content: event.content, created_at: event.createdAt },
    });
    return;
  }
  if (event.type === 'call_incoming' || event.type === 'missed_call') {
    const data = { call_id: event.callId, conversation_id: event.conversationId, media: event.media, from_user: event.caller };
    await deliverTo(env, event.actorId, event.recipientIds, { type: event.type, data, ...(event.type === 'call_incoming' ? { source: callSource(event.callId) } : {}) });
    return;
  }
  const actor = await publicUser(ctx, event.actorId);
  if (!actor) return;
  if (event.type === 'conversation_invite') {
    await deliverTo(env, event.actorId, event.recipientIds, { type: 'conversation_invite', data: { conversation_id: event.conversationId, title: event.title, from_user: actor, request: true } });
    return;
  }
  if (event.type === 'community_join_request') {
    const community = await communitySummary(env, event.communityId);
    if (!community) return;
    // Withdrawing the application retracts it, and applying again within a day asks nobody again.
    await deliverTo(env, event.actorId, event.recipientIds, { type: 'community_join_request', data: { community, user: actor }, ...SOURCES.community_join_request(event.actorId, event.communityId) });
    return;
  }
  const at = ctx.at ?? Date.now();
  // A comment deleted (or held) before its notifications go out notifies nobody; should it go after
  // this check, its inbox drops what arrives late (UserInbox.forget remembers the deletion).
  if ('commentId' in event && event.commentId && !(await commentStands(env, event.commentId))) return;
  if (event.type === 'community_join_approved') {
    const community = await communitySummary(env, event.communityId);
    if (community) await deliverTo(env, event.actorId, [event.recipientId], { type: 'community_join_approved', data: { community, approved_by: actor }, at });
    return;
  }
  const delivery = ((): Delivery => {
    switch (event.type) {
      case 'new_follower':
        return { type: 'new_follower', data: { follower: actor }, groupKey: 'new_follower', actor, ...SOURCES.new_follower(event.actorId) };
      case 'follow_request':
        return { type: 'follow_request', data: { from_user: actor }, ...SOURCES.follow_request(event.actorId) };
      case 'friend_request':
        return { type: 'friend_request', data: { request_id: event.requestId, from_user: actor }, ...SOURCES.friend_request(event.actorId) };
      case 'friend_accepted':
        return { type: 'friend_accepted', data: { friend: actor } };
      case 'wall_post':
        return { type: 'wall_post', data: { post_id: event.postId, author: actor } };
      case 'post_like':
        return { type: 'post_like', data: { post_id: event.postId, user: actor }, groupKey: `post_like:${event.postId}`, actor, ...SOURCES.post_like(event.actorId, event.postId) };
      case 'post_comment':
        return { type: 'post_comment', data: { post_id: event.postId, comment_id: event.commentId, user: actor }, source: commentSource(event.commentId) };
      case 'comment_reply':
        return { type: 'comment_reply', data: { post_id: event.postId, comment_id: event.commentId, parent_id: event.parentId, user: actor }, source: commentSource(event.commentId) };
      case 'mention':
        return { type: 'mention', data: { post_id: event.postId, comment_id: event.commentId ?? null, user: actor }, ...(event.commentId ? { source: commentSource(event.commentId) } : {}) };
    }
  })();
  await deliverTo(env, event.actorId, [event.recipientId], { ...delivery, at });
}
