import type { Delivery } from '../modules/notifications/user-inbox';

/**
 * The fan-out queue's messages and the functions that send them (the consumer is ./fanout.ts). A
 * leaf: modules import it to produce without importing the consumer and everything it reaches.
 */

/** Recipients per `inbox.deliver` message. A batch (wrangler.toml max_batch_size 10) is then at most 500 inbox calls. */
export const FAN_OUT_CHUNK = 50;
/** Messages per `sendBatch` call (the Queues limit is 100 messages and 256 KB a call). */
const SEND_BATCH = 50;

/** A post was published (or released, or its visibility changed): push it into timelines and, with `notify`, tell its audience. */
export interface PostFanOutMessage {
  type: 'post.fanout';
  post_id: string;
  /** Origin for the absolute URLs a notification carries (avatars). */
  base_url: string;
  notify: boolean;
}

/** One notification to up to {@link FAN_OUT_CHUNK} inboxes, with the idempotency key every inbox remembers. */
export interface InboxDeliverMessage {
  type: 'inbox.deliver';
  key: string;
  recipients: string[];
  delivery: Delivery;
}

export type FanOutMessage = PostFanOutMessage | InboxDeliverMessage;

/** Queues a post's fan-out. Awaited by the request: once it answers, the post will reach its audience. */
export async function queuePostFanOut(env: Env, message: Omit<PostFanOutMessage, 'type'>): Promise<void> {
  await env.FANOUT_QUEUE.send({ type: 'post.fanout', ...message } satisfies FanOutMessage, { contentType: 'json' });
}

/**
 * Queues one delivery to many inboxes, {@link FAN_OUT_CHUNK} recipients a message, under one
 * idempotency key (`key`, or a fresh one: a redelivered message then never notifies twice).
 */
export async function queueDeliveries(env: Env, recipients: string[], delivery: Delivery, key = `${delivery.type}:${crypto.randomUUID()}`): Promise<void> {
  const messages: MessageSendRequest<FanOutMessage>[] = [];
  for (let i = 0; i < recipients.length; i += FAN_OUT_CHUNK) {
    messages.push({ body: { type: 'inbox.deliver', key, recipients: recipients.slice(i, i + FAN_OUT_CHUNK), delivery }, contentType: 'json' });
  }
  for (let i = 0; i < messages.length; i += SEND_BATCH) await env.FANOUT_QUEUE.sendBatch(messages.slice(i, i + SEND_BATCH));
}
