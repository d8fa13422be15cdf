import { z } from 'zod';
import { forEachLimit } from '../lib/concurrency';
import { issuesReason, queueLog } from './queue-log';
import { pushPostToTimelines } from '../modules/feeds/hybrid';
import { purgeMediaCopies } from '../modules/media/media.service';
import { SIGNED_OUT_CLOSE_CODE } from '../modules/auth/sessions.service';
import { postNotice } from '../modules/notifications/delivery';
import { NOTIFICATION_TYPES } from '../modules/notifications/notifications.schemas';
import { type Delivery, type InboxApi, inboxOf } from '../modules/notifications/user-inbox';
import { type AccountForgetMessage, type AccountStandingMessage, FAN_OUT_CHUNK, type FanOutMessage, FORGET_COMMENT_IDS, queueDeliveries } from './fanout.producer';

/**
 * The fan-out queue's consumer (kith-fanout; producers in ./fanout.producer.ts).
 *
 * - `post.fanout`: pushes the post into the timelines of its pushed audience (src/modules/feeds/hybrid.ts)
 *   and, with `notify`, its `new_post` notification: delivered right here to an audience of at most
 *   {@link FAN_OUT_CHUNK}, else split into `inbox.deliver` messages.
 * - `inbox.deliver`: one delivery to up to FAN_OUT_CHUNK inboxes.
 * - `account.forget`: a deleted account leaves up to FAN_OUT_CHUNK rooms and inboxes, and its own inbox
 *   is emptied (src/modules/users/account-erasure.ts). Queued before the D1 delete: while the account
 *   is still in D1 the message is retried, so nothing is erased for a deletion that has not committed.
 *   Every object call is idempotent.
 * - `account.standing`: a suspension or its lift reaches up to FAN_OUT_CHUNK rooms and inboxes of the
 *   account's traces, each of which re-reads the account from D1 (so a redelivered message, or a
 *   suspension's arriving after its lift, leaves them as D1 has it). Queued before the D1 change: while
 *   D1 does not show what the message says, it is retried, up to {@link STANDING_PATIENCE} attempts
 *   (the change may not have committed yet); then its objects are told anyway (the change failed, or a
 *   later one won: they re-read D1 either way). Nothing for an account deleted since.
 *
 * - `content.forget`: removed content (a post, deleted comments, a message) leaves up to FAN_OUT_CHUNK
 *   inboxes (UserInbox.forget, idempotent): what a removal's request left past its first chunk.
 *
 * Every inbox call of a batch shares one pool of {@link FAN_OUT_CONCURRENCY} in flight. Deliveries are
 * idempotent: each carries a key (`new_post:<post id>`, or one minted per event) that every inbox
 * remembers, and timeline rows are keyed, so a redelivered message changes nothing twice. A message
 * that failed is retried after an exponential backoff ({@link retryDelaySeconds}); once its retries
 * run out (wrangler.toml max_retries) Queues moves it to the dead-letter queue. A message that fails
 * validation can never succeed: it goes to the dead-letter queue at once, with its reason logged.
 */

/** Inbox calls in flight at once within one batch. */
export const FAN_OUT_CONCURRENCY = 50;

/** Backoff before retry `attempts` (1-based): 2, 4, 8, … seconds, at most 5 minutes. */
export function retryDelaySeconds(attempts: number): number {
  return Math.min(300, 2 ** Math.max(1, attempts));
}

/** Attempts an `account.standing` message waits for D1 to show what it says before its objects are told anyway. */
export const STANDING_PATIENCE = 3;

const Id = z.string().min(1).max(64);

const DeliverySchema = z.object({
  type: z.enum(NOTIFICATION_TYPES as [string, ...string[]]),
  data: z.record(z.string(), z.unknown()),
  groupKey: z.string().max(200).optional(),
  actor: z.record(z.string(), z.unknown()).optional(),
  source: z.string().max(200).optional(),
  quietMs: z.number().int().min(0).optional(),
  at: z.number().int().min(0).optional(),
  floodFrom: Id.optional(),
  key: z.string().max(200).optional(),
});

/** The account, and the rooms and inboxes an account message names. */
const accountTargets = { user_id: Id, inboxes: z.array(Id).max(FAN_OUT_CHUNK), conversations: z.array(Id).max(FAN_OUT_CHUNK) };
/** An account message names 1 to FAN_OUT_CHUNK rooms and inboxes in all (0 with `own_inbox`: a deletion's first). */
const targetsFit = (m: { inboxes: string[]; conversations: string[]; own_inbox?: boolean }) =>
  (m.own_inbox ? 0 : 1) <= m.inboxes.length + m.conversations.length && m.inboxes.length + m.conversations.length <= FAN_OUT_CHUNK;
const TARGETS_FIT = { message: `names 1 to ${FAN_OUT_CHUNK} inboxes and conversations in all (0 with own_inbox)`, path: ['inboxes'] };

export const FanOutMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('post.fanout'), post_id: Id, base_url: z.url(), notify: z.boolean() }),
  z.object({ type: z.literal('inbox.deliver'), key: z.string().min(1).max(200), recipients: z.array(Id).min(1).max(FAN_OUT_CHUNK), delivery: DeliverySchema }),
  z.object({ type: z.literal('account.forget'), ...accountTargets, own_inbox: z.boolean().optional() }).refine(targetsFit, TARGETS_FIT),
  z.object({ type: z.literal('account.standing'), ...accountTargets, suspended: z.boolean() }).refine(targetsFit, TARGETS_FIT),
  z.object({
    type: z.literal('content.forget'),
    ref: z
      .strictObject({ postId: Id.optional(), messageId: Id.optional(), commentIds: z.array(Id).min(1).max(FORGET_COMMENT_IDS).optional(), at: z.number().int().nonnegative().optional() })
      .refine((r) => r.postId !== undefined || r.messageId !== undefined || r.commentIds !== undefined, { message: 'names a post, a message or comments' }),
    inboxes: z.array(Id).min(1).max(FAN_OUT_CHUNK),
  }),
]);

/** What the dead-letter queue receives: the original body, where it came from, and why. */
export interface DeadLetter {
  queue: string;
  message_id: string;
  reason: string;
  attempts: number;
  body: unknown;
}

/** The reason a body is not a valid fan-out message (field paths and messages), or null when it is. */
export function invalidReason(body: unknown): string | null {
  const parsed = FanOutMessageSchema.safeParse(body);
  if (parsed.success) return null;
  return issuesReason(parsed.error);
}

const log = queueLog('kith-fanout');

/** One object call of a batch, for one of its messages. */
interface WorkItem {
  message: Message<unknown>;
  target: string;
  run: () => Promise<void>;
}

/** One inbox delivery as a work item of a batch. */
function deliverTo(env: Env, message: Message<unknown>, recipient: string, delivery: Delivery): WorkItem {
  return { message, target: `inbox ${recipient}`, run: () => inboxOf(env, recipient).deliver(delivery) };
}

/**
 * The object calls of an account message, once D1 shows it is due (else it throws, and the message is
 * retried): `account.forget` once the account is gone from D1, `account.standing` once D1 shows what it
 * says or its patience ran out.
 */
async function accountCalls(env: Env, message: Message<unknown>, body: AccountForgetMessage | AccountStandingMessage): Promise<WorkItem[]> {
  const row = await env.DB.prepare('SELECT suspended_at FROM users WHERE id = ?1').bind(body.user_id).first<{ suspended_at: number | null }>();
  const rooms = (call: (room: ReturnType<Env['ROOMS']['get']>) => Promise<unknown>) =>
    body.conversations.map((id) => ({ message, target: `room ${id}`, run: async () => void (await call(env.ROOMS.get(env.ROOMS.idFromName(id)))) }));
  const inboxes = (call: (inbox: InboxApi) => Promise<void>) => body.inboxes.map((id) => ({ message, target: `inbox ${id}`, run: () => call(inboxOf(env, id)) }));
  if (body.type === 'account.forget') {
    if (row) throw new Error('the account is still in D1');
    const own = body.own_inbox ? [{ message, target: `inbox ${body.user_id}`, run: () => inboxOf(env, body.user_id).erase(SIGNED_OUT_CLOSE_CODE) }] : [];
    // Images its rooms stop showing (its messages', or every one of a conversation erased) leave the edge.
    return [...rooms(async (room) => purgeMediaCopies(await room.forgetAccount(body.user_id))), ...inboxes((inbox) => inbox.forgetUser(body.user_id)), ...own];
  }
  if (!row) return []; // deleted since: its account.forget erases what showed it
  if ((row.suspended_at !== null) !== body.suspended && message.attempts < STANDING_PATIENCE) {
    throw new Error(`D1 does not show the account ${body.suspended ? 'suspended' : 'reinstated'}`);
  }
  return [...rooms((room) => room.refreshSuspension(body.user_id)), ...inboxes((inbox) => inbox.refreshStanding(body.user_id))];
}

export async function consumeFanOutBatch(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  // Work items: one object call each, from every valid message of the batch, run in one bounded pool.
  const work: WorkItem[] = [];
  const failed = new Set<Message<unknown>>();
  const deadLettered = new Set<Message<unknown>>();
  for (const message of batch.messages) {
    const reason = invalidReason(message.body);
    if (reason !== null) {
      log('error', { message: 'invalid message sent to the dead-letter queue', id: message.id, reason });
      deadLettered.add(message);
      try {
        await env.FANOUT_DLQ.send({ queue: batch.queue, message_id: message.id, reason, attempts: message.attempts, body: message.body } satisfies DeadLetter, { contentType: 'json' });
        message.ack();
      } catch (err) {
        log('error', { message: 'dead-letter send failed', id: message.id, error: String(err) });
        message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
      }
      continue;
    }
    const body = message.body as FanOutMessage;
    if (body.type === 'inbox.deliver') {
      for (const recipient of body.recipients) work.push(deliverTo(env, message, recipient, { ...body.delivery, key: body.key }));
      continue;
    }
    if (body.type === 'content.forget') {
      for (const id of body.inboxes) work.push({ message, target: `inbox ${id}`, run: () => inboxOf(env, id).forget(body.ref) });
      continue;
    }
    if (body.type === 'account.forget' || body.type === 'account.standing') {
      try {
        work.push(...(await accountCalls(env, message, body)));
      } catch (err) {
        log('warn', { message: `${body.type} deferred`, id: message.id, user_id: body.user_id, attempts: message.attempts, error: String(err) });
        failed.add(message);
      }
      continue;
    }
    try {
      await pushPostToTimelines(env.DB, body.post_id);
      const notice = body.notify ? await postNotice({ env, baseUrl: body.base_url }, body.post_id) : null;
      const delivery = notice && { ...notice.delivery, key: `new_post:${body.post_id}` };
      if (notice && delivery && notice.recipients.length > FAN_OUT_CHUNK) await queueDeliveries(env, notice.recipients, delivery, delivery.key);
      else if (notice && delivery) for (const recipient of notice.recipients) work.push(deliverTo(env, message, recipient, delivery));
    } catch (err) {
      log('error', { message: 'post fan-out failed', id: message.id, post_id: body.post_id, attempts: message.attempts, error: String(err) });
      failed.add(message);
    }
  }
  const errors = await forEachLimit(work, FAN_OUT_CONCURRENCY, ({ run }) => run());
  for (const { item, error } of errors) {
    if (!failed.has(item.message)) log('error', { message: 'object call failed', id: item.message.id, target: item.target, attempts: item.message.attempts, error: String(error) });
    failed.add(item.message);
  }
  // A failed message is retried whole: the inboxes that already have it skip it by its key.
  for (const message of batch.messages) {
    if (deadLettered.has(message)) continue;
    if (failed.has(message)) message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
    else message.ack();
  }
}
