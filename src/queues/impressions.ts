import { z } from 'zod';
import { forEachLimit } from '../lib/concurrency';
import { issuesReason, queueLog } from './queue-log';
import { mergePostViews, type PerPostBatch, type PostViews, viewsPerPost } from '../modules/insights/post-impressions';
import { impressionShard, impressionShardOf } from '../modules/insights/impression-counter';
import { retryDelaySeconds, type DeadLetter } from './fanout';
import { IMPRESSIONS_PER_MESSAGE, IMPRESSIONS_PER_VIEW, type ImpressionsMessage } from './impressions.producer';

/** Counter shards called at once per batch. */
const CONCURRENCY = 20;

const Viewer = z.string().regex(/^[0-9a-f]{16}$/);
const PostId = z.string().min(1).max(64);
const PostIds = z.array(PostId).min(1).max(IMPRESSIONS_PER_VIEW);
const Key = z.string().min(1).max(64);
const At = z.number().int().nonnegative();

const ImpressionsMessageSchema = z.union([
  z.object({
    type: z.literal('post.impressions'),
    key: Key,
    posts: z
      .array(z.tuple([PostId, z.number().int().min(1), z.array(Viewer).min(1)]))
      .min(1)
      .refine((posts) => posts.reduce((n, p) => n + 1 + p[2].length, 0) <= IMPRESSIONS_PER_MESSAGE, `at most ${IMPRESSIONS_PER_MESSAGE} posts and viewers in all`),
    at: At,
  }),
  // The shapes producers sent before (still accepted, so messages queued across a deployment are
  // counted): one entry per view of an isolate's second, and one message per view.
  z
    .object({
      type: z.literal('post.impressions'),
      key: Key,
      views: z
        .array(z.object({ viewer: Viewer, post_ids: PostIds }))
        .min(1)
        .refine((views) => views.reduce((n, v) => n + v.post_ids.length, 0) <= IMPRESSIONS_PER_MESSAGE, `at most ${IMPRESSIONS_PER_MESSAGE} post ids in all`),
      at: At,
    })
    .transform(({ views, ...rest }): ImpressionsMessage => ({ ...rest, posts: viewsPerPost(views) })),
  z
    .object({ type: z.literal('post.impressions'), key: Key, viewer: Viewer, post_ids: PostIds, at: At })
    .transform(({ viewer, post_ids, ...rest }): ImpressionsMessage => ({ ...rest, posts: viewsPerPost([{ viewer, post_ids }]) })),
]);

const log = queueLog('kith-impressions');

/**
 * The kith-impressions consumer: keeps the views of posts that still exist (one D1 read), then hands each
 * counter shard (src/modules/insights/impression-counter.ts) all of its posts' views in one call. A shard
 * remembers each message key, so a batch delivered again counts nothing twice; a message that fails
 * validation goes to the dead-letter queue with its reason.
 */
export async function consumeImpressionsBatch(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const valid: { message: Message<unknown>; body: ImpressionsMessage }[] = [];
  for (const message of batch.messages) {
    const parsed = ImpressionsMessageSchema.safeParse(message.body);
    if (parsed.success) {
      valid.push({ message, body: parsed.data });
      continue;
    }
    const reason = issuesReason(parsed.error);
    log('error', { message: 'invalid message sent to the dead-letter queue', id: message.id, reason });
    try {
      await env.IMPRESSIONS_DLQ.send({ queue: batch.queue, message_id: message.id, reason, attempts: message.attempts, body: message.body } satisfies DeadLetter, { contentType: 'json' });
      message.ack();
    } catch (err) {
      log('error', { message: 'dead-letter send failed', id: message.id, error: String(err) });
      message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
    }
  }
  if (valid.length === 0) return;

  const ids = [...new Set(valid.flatMap((v) => v.body.posts.map((p) => p[0])))];
  const { results } = await env.DB.prepare('SELECT id FROM posts WHERE id IN (SELECT value FROM json_each(?1))')
    .bind(JSON.stringify(ids))
    .all<{ id: string }>();
  const shardOf = new Map(results.map((r) => [r.id, impressionShardOf(r.id)]));
  // Per shard, each message's posts of that shard (under the message's key).
  const byShard = new Map<number, { batches: PerPostBatch[]; messages: Set<Message<unknown>> }>();
  // A message delivered twice in one batch is counted from its first copy (the other is acknowledged).
  const keys = new Set<string>();
  for (const { message, body } of valid) {
    if (keys.has(body.key)) continue;
    keys.add(body.key);
    const perShard = new Map<number, PostViews[]>();
    for (const post of body.posts) {
      const shard = shardOf.get(post[0]);
      if (shard === undefined) continue;
      const posts = perShard.get(shard);
      if (posts) posts.push(post);
      else perShard.set(shard, [post]);
    }
    for (const [shard, posts] of perShard) {
      const entry = byShard.get(shard) ?? { batches: [], messages: new Set() };
      entry.batches.push({ key: body.key, posts });
      entry.messages.add(message);
      byShard.set(shard, entry);
    }
  }
  const failed = new Set<Message<unknown>>();
  // One call per shard with the batch's views summed; per message only when the shard asks (some of
  // the messages were counted before: a retry beside new ones), so each is still counted once.
  const errors = await forEachLimit([...byShard], CONCURRENCY, async ([shard, { batches }]) => {
    const counter = impressionShard(env, shard);
    const counted = batches.length === 1 ? null : await counter.recordSummed(batches.map((b) => b.key), mergePostViews(batches.flatMap((b) => b.posts)));
    if (counted === null) await counter.record(batches);
  });
  for (const { item, error } of errors) {
    log('error', { message: 'impressions not recorded', shard: item[0], error: String(error) });
    for (const message of item[1].messages) failed.add(message);
  }
  // A failed message is retried whole: the shards that already counted it skip it by its key.
  for (const { message } of valid) {
    if (failed.has(message)) message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
    else message.ack();
  }
}
