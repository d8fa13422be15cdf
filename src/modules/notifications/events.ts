import type { Context } from 'hono';
import type { AppEnv } from '../../lib/types';
import type { ModerationWarningData, ReportResolvedData } from '../moderation/moderation.schemas';
import type { PublicUser } from '../users/users.schemas';

/**
 * Everything the notifications issue will deliver, as one typed union. Every producer calls
 * {@link emitEvent}; wiring delivery (per-user inboxes) touches only that function.
 */
export type SocialEvent =
  | { type: 'new_follower'; actorId: string; recipientId: string }
  | { type: 'follow_request'; actorId: string; recipientId: string }
  | { type: 'friend_request'; actorId: string; recipientId: string; requestId: string }
  | { type: 'friend_accepted'; actorId: string; recipientId: string }
  | { type: 'new_post'; actorId: string; postId: string }
  | { type: 'wall_post'; actorId: string; recipientId: string; postId: string }
  | { type: 'post_like'; actorId: string; recipientId: string; postId: string }
  | { type: 'post_comment'; actorId: string; recipientId: string; postId: string; commentId: string }
  | { type: 'comment_reply'; actorId: string; recipientId: string; postId: string; commentId: string; parentId: string }
  | { type: 'mention'; actorId: string; recipientId: string; postId: string; commentId?: string }
  /** To a community's owner and moderators: someone applied to join. */
  | { type: 'community_join_request'; actorId: string; communityId: string; recipientIds: string[] }
  /** To an applicant: a moderator approved them. */
  | { type: 'community_join_approved'; actorId: string; recipientId: string; communityId: string }
  /** To people a group add made a message request for: their one notification until they accept it. */
  | { type: 'conversation_invite'; actorId: string; recipientIds: string[]; conversationId: string; title: string | null }
  /** To the members who are not looking at the conversation (no socket open on it), never the sender. */
  | { type: 'new_message'; actorId: string; conversationId: string; messageId: string; seq: number; recipientIds: string[]; sender: PublicUser | null; content: string; createdAt: string }
  /** To callees with no socket open on the conversation: a call rings for them (retracted when the call ends). */
  | { type: 'call_incoming'; actorId: string; recipientIds: string[]; conversationId: string; callId: string; media: 'audio' | 'video'; caller: PublicUser }
  /** To callees who never answered a call that rang for them. */
  | { type: 'missed_call'; actorId: string; recipientIds: string[]; conversationId: string; callId: string; media: 'audio' | 'video'; caller: PublicUser }
  /** To a reporter: their report was resolved (the outcome, never who resolved it). Sent by the system. */
  | { type: 'report_resolved'; actorId: typeof SYSTEM_ACTOR; recipientId: string; data: ReportResolvedData }
  /** To an account staff warned or silenced, with the reason. Sent by the system. */
  | { type: 'moderation_warning'; actorId: typeof SYSTEM_ACTOR; recipientId: string; data: ModerationWarningData };

/** The actor of notifications from the site itself: no user is named, and blocks do not apply. */
export const SYSTEM_ACTOR = 'system';

/** What a listener may need beyond the event: the bindings, and the origin for absolute URLs. */
export interface EventContext {
  env: Env;
  baseUrl: string;
  /** When the event happened (ms), stamped by {@link publishEvent}: flood control orders it against retractions. */
  at?: number;
}

export type SocialEventListener = (event: SocialEvent, context: EventContext) => void | Promise<void>;

const listeners = new Set<SocialEventListener>();

/** Subscribes to every emitted event (delivery, and tests observing the seam); returns the unsubscribe. */
export function onSocialEvent(listener: SocialEventListener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/**
 * The one place social events go out, from a request or from a Durable Object. A user's own actions
 * never notify themselves; delivery runs in the background (`waitUntil`) so a slow inbox never slows
 * the action that caused it.
 */
export function publishEvent(event: SocialEvent, context: EventContext, waitUntil: (promise: Promise<unknown>) => void): void {
  if ('recipientId' in event && event.recipientId === event.actorId) return;
  if ('recipientIds' in event && event.recipientIds.filter((id) => id !== event.actorId).length === 0) return;
  const stamped = { ...context, at: context.at ?? Date.now() };
  const deliveries = [...listeners].map(async (listener) => {
    try {
      await listener(event, stamped);
    } catch (err) {
      console.error(JSON.stringify({ level: 'error', message: 'event delivery failed', type: event.type, error: String(err) }));
    }
  });
  waitUntil(Promise.all(deliveries));
}

/** {@link publishEvent} from a request handler. */
export function emitEvent(c: Context<AppEnv>, event: SocialEvent): void {
  publishEvent(event, { env: c.env, baseUrl: c.get('baseUrl') }, (promise) => {
    try {
      c.executionCtx.waitUntil(promise);
    } catch {
      // No execution context (app.request from a script): the promise still runs.
    }
  });
}
