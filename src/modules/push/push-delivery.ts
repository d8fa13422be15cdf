import { RELATION, relationFlagsSql } from '../graph/relations';
import type { PushMessage } from '../notifications/inbox-push';
import type { Notification } from '../notifications/notifications.schemas';
import { inboxOf } from '../notifications/user-inbox';
import type { Bindings } from '../../lib/types';
import { activeUserSql } from '../../policy/visibility';
import { toBase64Url } from '../../lib/encoding';
import { pushActorId, pushPayload, pushRule } from './push-content';
import { type PushOutcome, sendPush, type VapidConfig, vapidConfig } from './web-push';

/** Deliveries tried per notification and subscription (the first and the retries). */
export const MAX_PUSH_ATTEMPTS = 5;
/**
 * Failed deliveries in a row (refused, or still failing at the last attempt) after which a subscription
 * is deleted: an endpoint that never takes a push is not knocked on forever.
 */
export const MAX_PUSH_FAILURES = 5;
const DEFAULT_RETRY_BASE_SECONDS = 30;

type Subscription = { id: string; endpoint: string; p256dh: string; auth: string; alerts: string; policy: string; live: number; actor_flags: number; actor_active: number; request: number };

/** Retry n (from 0) waits base · 4ⁿ seconds (30 s, 2 min, 8 min, 32 min by default), or what the push service asked. */
export function retryDelay(env: Bindings, attempt: number, retryAfter?: number): number {
  const base = Number(env.PUSH_RETRY_BASE_SECONDS) || DEFAULT_RETRY_BASE_SECONDS;
  return Math.min(12 * 60 * 60, Math.max(retryAfter ?? 0, base * 4 ** attempt));
}

/** The Topic header of a call's pushes: the missed call replaces an undelivered ring (≤ 32 base64url characters). */
async function callTopic(notification: Notification): Promise<string | undefined> {
  if (notification.type !== 'call_incoming' && notification.type !== 'missed_call') return undefined;
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(`${notification.data.conversation_id}:${notification.data.call_id}`));
  return toBase64Url(new Uint8Array(digest)).slice(0, 32);
}

/** Whether the subscription's policy lets a notification through, given the recipient's relation flags to its actor (null: the site itself, which passes all but `none`). */
function policyAllows(policy: string, actorFlags: number | null): boolean {
  if (policy === 'none') return false;
  if (policy === 'all' || actorFlags === null) return true;
  if (policy === 'friends') return (actorFlags & RELATION.friend) !== 0;
  return (actorFlags & (RELATION.friend | RELATION.following)) !== 0; // followed
}

/**
 * Pushes one notification to its user's subscriptions: those of live sessions whose alerts and policy let
 * it through (subscriptions of ended sessions are deleted on the way), unless its actor is now suspended,
 * blocked either way or muted by the user, or it is no longer unread in the inbox; a message
 * request's text stays out. Each delivery has its own timeout;
 * 404/410 delete the subscription; a timeout, 429 or 5xx is queued again for just that subscription,
 * after a growing delay, until {@link MAX_PUSH_ATTEMPTS} or the notification's TTL is past; after
 * {@link MAX_PUSH_FAILURES} failed deliveries in a row the subscription is deleted.
 */
export async function pushNotification(env: Bindings, message: PushMessage, vapid: VapidConfig): Promise<void> {
  const { notification, user_id: userId } = message;
  const attempt = message.attempt ?? 0;
  const rule = pushRule(notification.type);
  if (!rule) return;
  if (Date.now() - Date.parse(notification.created_at) > rule.ttl * 1000) return; // no longer worth delivering
  // Every attempt comes after the delivery (the first one a queue batch later, a retry up to half an
  // hour later): the inbox says whether the notification is still there, unread and shown (not retracted,
  // as a message unsent right after a slip is, read in the app, or hidden by a suspension meanwhile).
  if (!(await inboxOf(env, userId).pushable(notification.id))) return;
  const actorId = pushActorId(notification);
  const conversationId = notification.type === 'new_message' ? notification.data.conversation_id : null;
  // One statement: the subscriptions, and how the recipient stands to whoever caused the notification now
  // (not when it was made: a push may wait in the queue, or be retried, for half an hour).
  const { results } = await env.DB.prepare(
    `SELECT p.id, p.endpoint, p.p256dh, p.auth, p.alerts, p.policy,
       (s.revoked_at IS NULL AND s.expires_at > ?2 AND u.suspended_at IS NULL) AS live,
       ${relationFlagsSql('?1', '?4')} AS actor_flags, ${activeUserSql('?4')} AS actor_active,
       EXISTS (SELECT 1 FROM conversation_members cm WHERE cm.conversation_id = ?5 AND cm.user_id = ?1 AND cm.request = 1) AS request
     FROM push_subscriptions p JOIN sessions s ON s.id = p.session_id JOIN users u ON u.id = p.user_id
     WHERE p.user_id = ?1 AND (?3 IS NULL OR p.id IN (SELECT value FROM json_each(?3)))`,
  )
    .bind(userId, Date.now(), message.subscription_ids ? JSON.stringify(message.subscription_ids) : null, actorId ?? '', conversationId)
    .all<Subscription>();
  const ended = results.filter((s) => !s.live).map((s) => s.id);
  if (ended.length > 0) await forget(env, userId, ended);
  const standing = results[0];
  if (!standing) return;
  // Nothing from an account that is suspended or gone, or that the recipient blocks, is blocked by, or mutes.
  if (actorId !== null && (!standing.actor_active || (standing.actor_flags & (RELATION.blocked | RELATION.muted)) !== 0)) return;
  const flags = actorId === null ? null : standing.actor_flags;
  const targets = results.filter((s) => s.live && (JSON.parse(s.alerts) as Record<string, boolean>)[notification.type] !== false && policyAllows(s.policy, flags));
  if (targets.length === 0) return;

  const payload = pushPayload(notification, env.APP_URL, { request: standing.request === 1 });
  const options = { ttl: rule.ttl, urgency: rule.urgency, topic: await callTopic(notification) };
  const outcomes = await Promise.all(targets.map(async (s) => [s, await sendPush(env, vapid, s, payload, options)] as const));
  const now = Date.now();
  const lastAttempt = attempt + 1 >= MAX_PUSH_ATTEMPTS;
  const statements = outcomes.flatMap(([s, outcome]) =>
    outcome.kind === 'delivered'
      ? [env.DB.prepare('UPDATE push_subscriptions SET last_delivered_at = ?2, failures = 0 WHERE id = ?1').bind(s.id, now)]
      : outcome.kind === 'refused' || (outcome.kind === 'retry' && lastAttempt)
        ? [env.DB.prepare('UPDATE push_subscriptions SET failures = failures + 1 WHERE id = ?1 RETURNING id, failures').bind(s.id)]
        : [],
  );
  const counted = statements.length > 0 ? await env.DB.batch<{ id: string; failures?: number }>(statements) : [];
  const worn = counted.flatMap((r) => r.results).filter((r) => (r.failures ?? 0) >= MAX_PUSH_FAILURES).map((r) => r.id);
  const gone = outcomes.filter(([, o]) => o.kind === 'gone').map(([s]) => s.id);
  if (gone.length + worn.length > 0) await forget(env, userId, [...gone, ...worn]);
  for (const [s, o] of outcomes) if (o.kind !== 'delivered') log(o, s.id, notification.id, attempt);

  const retry = outcomes.filter((entry): entry is readonly [Subscription, Extract<PushOutcome, { kind: 'retry' }>] => entry[1].kind === 'retry');
  if (retry.length > 0 && !lastAttempt) {
    const delaySeconds = retryDelay(env, attempt, Math.max(0, ...retry.map(([, o]) => o.retryAfter ?? 0)));
    await env.PUSH_QUEUE.send({ ...message, subscription_ids: retry.map(([s]) => s.id), attempt: attempt + 1 } satisfies PushMessage, { delaySeconds });
  }
}

/** Deletes subscriptions (gone at the push service, failing for good, or of an ended session) and tells the inbox. */
async function forget(env: Bindings, userId: string, ids: string[]): Promise<void> {
  await env.DB.prepare('DELETE FROM push_subscriptions WHERE id IN (SELECT value FROM json_each(?1))').bind(JSON.stringify(ids)).run();
  await inboxOf(env, userId).setPushTargets(userId, ids, false);
}

function log(outcome: PushOutcome, subscriptionId: string, notificationId: string, attempt: number): void {
  console.error(JSON.stringify({ level: outcome.kind === 'gone' ? 'info' : 'warn', message: `push ${outcome.kind}`, status: 'status' in outcome ? outcome.status : null, subscription_id: subscriptionId, notification_id: notificationId, attempt }));
}

/** The push queue's consumer: every message of the batch side by side; a fault of ours (D1) retries the message. */
export async function consumePushBatch(batch: MessageBatch<PushMessage>, env: Bindings): Promise<void> {
  const vapid = await vapidConfig(env);
  await Promise.all(
    batch.messages.map(async (message) => {
      if (!vapid) {
        message.ack(); // push is not configured: nothing can be sent, now or later
        return;
      }
      try {
        await pushNotification(env, message.body, vapid);
        message.ack();
      } catch (err) {
        console.error(JSON.stringify({ level: 'error', queue: batch.queue, notification_id: message.body.notification?.id, message: String((err as Error)?.message ?? err) }));
        message.retry({ delaySeconds: retryDelay(env, message.attempts - 1) });
      }
    }),
  );
}
