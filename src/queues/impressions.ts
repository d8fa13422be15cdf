import { z } from 'zod';
import { forEachLimit } from '../lib/concurrency';
import type { PerPostBatch, PostViews } from '../modules/insights/post-impressions';
import { inboxOf } from '../modules/notifications/user-inbox';
import { retryDelaySeconds, type DeadLetter } from './fanout';
import { IMPRESSIONS_PER_MESSAGE, IMPRESSIONS_PER_VIEW, type ImpressionsMessage } from './impressions.producer';

/** Author inboxes called at once per batch. */
const CONCURRENCY = 20;

const Viewer = z.string().regex(/^[0-9a-f]{16}$/);
const PostIds = z.array(z.string().min(1).max(64)).min(1).max(IMPRESSIONS_PER_VIEW);
const ImpressionsMessageSchema = z.union([
  z.object({
    type: z.literal('post.impressions'),
    key: z.string().min(1).max(64),
    views: z
      .array(z.object({ viewer: Viewer, post_ids: PostIds }))
      .min(1)
      .refine((views) => views.reduce((n, v) => n + v.post_ids.length, 0) <= IMPRESSIONS_PER_MESSAGE, `at most ${IMPRESSIONS_PER_MESSAGE} post ids in all`),
    at: z.number().int().nonnegative(),
  }),
  // A message of one view, as the producer sent them before views were gathered per isolate (still
  // accepted, so messages queued across a deployment are counted).
  z
    .object({ type: z.literal('post.impressions'), key: z.string().min(1).max(64), viewer: Viewer, post_ids: PostIds, at: z.number().int().nonnegative() })
    .transform(({ viewer, post_ids, ...rest }): ImpressionsMessage => ({ ...rest, views: [{ viewer, post_ids }] })),
]);

function log(level: 'error' | 'warn', fields: Record<string, unknown>): void {
  console[level](JSON.stringify({ level, queue: 'kith-impressions', ...fields }));
}

/** Several messages' views of one author's posts as one list: per post, the times served and the distinct viewers. */
function sumPerPost(batches: PerPostBatch[]): PostViews[] {
  const posts = new Map<string, { served: number; viewers: Set<string> }>();
  for (const batch of batches) {
    for (const [id, served, viewers] of batch.posts) {
      const post = posts.get(id);
      if (!post) posts.set(id, { served, viewers: new Set(viewers) });
      else {
        post.served += served;
        for (const viewer of viewers) post.viewers.add(viewer);
      }
    }
  }
  return [...posts].map(([id, { served, viewers }]) => [id, served, [...viewers]]);
}

/**
 * The kith-impressions consumer: looks up the authors of every post in the batch (one D1 read), then
 * hands each author's inbox all of that author's views in one call. Posts that no longer exist are
 * dropped. An inbox remembers each message key, so a batch delivered again counts nothing twice; a
 * message that fails validation goes to the dead-letter queue with its reason.
 */
export async function consumeImpressionsBatch(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const valid: { message: Message<unknown>; body: ImpressionsMessage }[] = [];
  for (const message of batch.messages) {
    const parsed = ImpressionsMessageSchema.safeParse(message.body);
    if (parsed.success) {
      valid.push({ message, body: parsed.data });
      continue;
    }
    const reason = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(body)'}: ${issue.message}`).join('; ');
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

  const ids = [...new Set(valid.flatMap((v) => v.body.views.flatMap((view) => view.post_ids)))];
  const { results } = await env.DB.prepare('SELECT id, author_id FROM posts WHERE id IN (SELECT value FROM json_each(?1))')
    .bind(JSON.stringify(ids))
    .all<{ id: string; author_id: string }>();
  const authorOf = new Map(results.map((r) => [r.id, r.author_id]));
  // Per author, each message's views of that author's posts (under the message's key), summed per post:
  // how many views served it, and the distinct viewers (a reader who came back is one viewer).
  const byAuthor = new Map<string, { batches: PerPostBatch[]; messages: Set<Message<unknown>> }>();
  for (const { message, body } of valid) {
    const perAuthor = new Map<string, Map<string, { served: number; viewers: Set<string> }>>();
    for (const view of body.views) {
      // A post twice in one view was served once.
      for (const id of new Set(view.post_ids)) {
        const author = authorOf.get(id);
        if (!author) continue;
        let posts = perAuthor.get(author);
        if (!posts) perAuthor.set(author, (posts = new Map()));
        const post = posts.get(id);
        if (post) {
          post.served++;
          post.viewers.add(view.viewer);
        } else posts.set(id, { served: 1, viewers: new Set([view.viewer]) });
      }
    }
    for (const [author, posts] of perAuthor) {
      const entry = byAuthor.get(author) ?? { batches: [], messages: new Set() };
      entry.batches.push({ key: body.key, posts: [...posts].map(([id, { served, viewers }]) => [id, served, [...viewers]]) });
      entry.messages.add(message);
      byAuthor.set(author, entry);
    }
  }
  const failed = new Set<Message<unknown>>();
  // One call per author with the batch's views summed; per message only when the inbox asks (some of
  // the messages were counted before: a retry beside new ones), so each is still counted once.
  const errors = await forEachLimit([...byAuthor], CONCURRENCY, async ([author, { batches }]) => {
    const inbox = inboxOf(env, author);
    const counted = batches.length === 1 ? null : await inbox.recordSummedImpressions(batches.map((b) => b.key), sumPerPost(batches));
    if (counted === null) await inbox.recordImpressions(batches);
  });
  for (const { item, error } of errors) {
    log('error', { message: 'impressions not recorded', author: item[0], error: String(error) });
    for (const message of item[1].messages) failed.add(message);
  }
  // A failed message is retried whole: the inboxes that already counted it skip it by its key.
  for (const { message } of valid) {
    if (failed.has(message)) message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
    else message.ack();
  }
}
