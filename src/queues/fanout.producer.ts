import { chunk } from '../lib/concurrency';
import type { Delivery, ForgetRef } from '../modules/notifications/user-inbox';
import type { AccountTraces } from '../modules/users/account-erasure';

/**
 * The fan-out queue's messages and the functions that send them (the consumer is ./fanout.ts). A
 * leaf: modules import it to produce without importing the consumer and everything it reaches.
 */

/** Recipients per `inbox.deliver` message. A batch (wrangler.toml max_batch_size 10) is then at most 500 inbox calls. */
export const FAN_OUT_CHUNK = 50;
/** Messages per `sendBatch` call (the Queues limit is 100 messages and 256 KB a call). */
const SEND_BATCH = 50;

/** What sending needs of the bindings. */
type Producer = Pick<Env, 'FANOUT_QUEUE'>;
/** The rooms and inboxes an account message reaches: an account's traces (src/modules/users/account-erasure.ts). */
type AccountTargets = Pick<AccountTraces, 'conversations' | 'inboxes'>;

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

/**
 * A suspension or its lift, for at most {@link FAN_OUT_CHUNK} of the rooms and inboxes that show the
 * account: each re-reads its standing from D1 (ConversationRoom.refreshSuspension,
 * UserInbox.refreshStanding). `suspended` is what the action did; D1, not the message, decides.
 */
export interface AccountStandingMessage {
  type: 'account.standing';
  user_id: string;
  suspended: boolean;
  inboxes: string[];
  conversations: string[];
}

/**
 * Removed content (a post, deleted comments, a message) leaves up to {@link FAN_OUT_CHUNK} inboxes that
 * were told about it (UserInbox.forget, idempotent): the part of a removal's audience past its first
 * chunk, which the request clears itself (src/modules/notifications/removed-content.ts).
 */
export interface ContentForgetMessage {
  type: 'content.forget';
  ref: ForgetRef;
  inboxes: string[];
}

/** Comment ids one `content.forget` message carries at most (a thread's replies beyond go in more messages). */
export const FORGET_COMMENT_IDS = 500;

export type FanOutMessage = PostFanOutMessage | InboxDeliverMessage | AccountForgetMessage | AccountStandingMessage | ContentForgetMessage;

/** Queues a post's fan-out. Awaited by the request: once it answers, the post will reach its audience. */
export async function queuePostFanOut(env: Env, message: Omit<PostFanOutMessage, 'type'>): Promise<void> {
  await env.FANOUT_QUEUE.send({ type: 'post.fanout', ...message } satisfies FanOutMessage, { contentType: 'json' });
}

/**
 * How long account messages wait in the queue: they are sent before the D1 change they follow, which
 * has committed by then (the consumer re-checks D1 and retries should it not have).
 */
const COMMIT_DELAY_SECONDS = 1;

/** The rooms and inboxes of an account's traces, rooms first, {@link FAN_OUT_CHUNK} objects a part. */
function accountParts(traces: AccountTargets): { conversations: string[]; inboxes: string[] }[] {
  const all = [...traces.conversations.map(({ id }) => ({ room: true, id })), ...traces.inboxes.map((id) => ({ room: false, id }))];
  return chunk(all, FAN_OUT_CHUNK).map((part) => ({ conversations: part.filter((t) => t.room).map((t) => t.id), inboxes: part.filter((t) => !t.room).map((t) => t.id) }));
}

/** Sends account messages, each delivered {@link COMMIT_DELAY_SECONDS} later. */
async function sendAccountMessages(env: Producer, bodies: FanOutMessage[]): Promise<void> {
  await sendInBatches(env, bodies.map((body) => ({ body, contentType: 'json', delaySeconds: COMMIT_DELAY_SECONDS })));
}

/**
 * Queues the clean-up of a deleted account (see AccountForgetMessage) over its traces
 * (src/modules/users/account-erasure.ts). Sent before the account's D1 rows go, so a failed send fails
 * the deletion instead of losing the clean-up; retried by the consumer should the account still be in D1.
 */
export async function queueAccountForget(env: Producer, userId: string, traces: AccountTargets): Promise<void> {
  // The first message also empties the account's own inbox: there is one even with nothing else to clean.
  const [first = { conversations: [], inboxes: [] }, ...rest] = accountParts(traces);
  await sendAccountMessages(env, [
    { type: 'account.forget', user_id: userId, ...first, own_inbox: true },
    ...rest.map((part): AccountForgetMessage => ({ type: 'account.forget', user_id: userId, ...part })),
  ]);
}

/**
 * Queues a suspension or its lift (see AccountStandingMessage) to the rooms and inboxes of the account's
 * traces, the same ones a deletion cleans. Sent before the change commits, so a failed send fails the
 * action instead of leaving rooms and inboxes behind; a message the change never follows (the batch
 * failed, a later action won) leaves them as D1 has it.
 */
export async function queueAccountStanding(env: Producer, userId: string, suspended: boolean, traces: AccountTargets): Promise<void> {
  await sendAccountMessages(env, accountParts(traces).map((part): AccountStandingMessage => ({ type: 'account.standing', user_id: userId, suspended, ...part })));
}

/** Sends messages {@link SEND_BATCH} a call. */
async function sendInBatches(env: Producer, messages: MessageSendRequest<FanOutMessage>[]): Promise<void> {
  for (let i = 0; i < messages.length; i += SEND_BATCH) await env.FANOUT_QUEUE.sendBatch(messages.slice(i, i + SEND_BATCH));
}

/**
 * Queues removed content's retraction to `inboxes`, {@link FAN_OUT_CHUNK} a message (and
 * {@link FORGET_COMMENT_IDS} comment ids a message).
 */
export async function queueContentForget(env: Producer, ref: ForgetRef, inboxes: string[]): Promise<void> {
  const refs = ref.commentIds && ref.commentIds.length > FORGET_COMMENT_IDS ? chunk(ref.commentIds, FORGET_COMMENT_IDS).map((commentIds) => ({ ...ref, commentIds })) : [ref];
  const messages = refs.flatMap((part) => chunk(inboxes, FAN_OUT_CHUNK).map((recipients): MessageSendRequest<FanOutMessage> => ({ body: { type: 'content.forget', ref: part, inboxes: recipients }, contentType: 'json' })));
  await sendInBatches(env, messages);
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
