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

/**
 * A deleted account's traces outside D1, for at most {@link FAN_OUT_CHUNK} objects in all: each inbox
 * forgets it (UserInbox.forgetUser), each conversation's room erases it (ConversationRoom.forgetAccount),
 * and with `own_inbox` (the first message) its own inbox is emptied (UserInbox.erase).
 */
export interface AccountForgetMessage {
  type: 'account.forget';
  user_id: string;
  inboxes: string[];
  conversations: string[];
  own_inbox?: boolean;
}

export type FanOutMessage = PostFanOutMessage | InboxDeliverMessage | AccountForgetMessage;

/** Queues a post's fan-out. Awaited by the request: once it answers, the post will reach its audience. */
export async function queuePostFanOut(env: Env, message: Omit<PostFanOutMessage, 'type'>): Promise<void> {
  await env.FANOUT_QUEUE.send({ type: 'post.fanout', ...message } satisfies FanOutMessage, { contentType: 'json' });
}

/** How long account.forget messages wait in the queue: by then the D1 delete they follow has committed. */
const FORGET_DELAY_SECONDS = 1;

/**
 * Queues the clean-up of a deleted account (see AccountForgetMessage): rooms first, then inboxes,
 * {@link FAN_OUT_CHUNK} objects a message. Sent before the account's D1 rows go, so a failed send fails
 * the deletion instead of losing the clean-up; delivered {@link FORGET_DELAY_SECONDS} later, and retried
 * should the account still be in D1 then.
 */
export async function queueAccountForget(env: Env, userId: string, targets: { conversations: string[]; inboxes: string[] }): Promise<void> {
  const all = [...targets.conversations.map((id) => ({ room: true, id })), ...targets.inboxes.map((id) => ({ room: false, id }))];
  const messages: MessageSendRequest<FanOutMessage>[] = [];
  // The first message also empties the account's own inbox: there is one even with nothing else to clean.
  for (let i = 0; i === 0 || i < all.length; i += FAN_OUT_CHUNK) {
    const part = all.slice(i, i + FAN_OUT_CHUNK);
    const body: AccountForgetMessage = { type: 'account.forget', user_id: userId, conversations: part.filter((t) => t.room).map((t) => t.id), inboxes: part.filter((t) => !t.room).map((t) => t.id), ...(i === 0 ? { own_inbox: true } : {}) };
    messages.push({ body, contentType: 'json', delaySeconds: FORGET_DELAY_SECONDS });
  }
  await sendInBatches(env, messages);
}

/** Sends messages {@link SEND_BATCH} a call. */
async function sendInBatches(env: Env, messages: MessageSendRequest<FanOutMessage>[]): Promise<void> {
  for (let i = 0; i < messages.length; i += SEND_BATCH) await env.FANOUT_QUEUE.sendBatch(messages.slice(i, i + SEND_BATCH));
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
  await sendInBatches(env, messages);
}
