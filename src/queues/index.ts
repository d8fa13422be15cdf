import type { Bindings } from '../lib/types';
import { consumeDeadLetters } from './dead-letters';
import { consumeExportBatch } from './exports';
import { consumeFanOutBatch } from './fanout';
import { consumeImpressionsBatch } from './impressions';
import type { MailQueueMessage } from '../lib/mailer';
import { consumeMailBatch, consumeMailDeadLetters } from './mail';
import { consumeNewsBatch, type NewsFetchMessage } from './news';
import { consumePush } from './push';
import type { PushMessage } from '../modules/notifications/inbox-push';

/** Queue name (wrangler.toml `[[queues.consumers]]`) → its consumer. */
const CONSUMERS: Record<string, (batch: MessageBatch<never>, env: Bindings, ctx: ExecutionContext) => Promise<void>> = {
  'kith-news': (batch, env) => consumeNewsBatch(batch as MessageBatch<NewsFetchMessage>, env),
  'kith-fanout': (batch, env) => consumeFanOutBatch(batch, env),
  'kith-fanout-dlq': (batch, env) => consumeDeadLetters(batch, env),
  'kith-impressions': (batch, env) => consumeImpressionsBatch(batch, env),
  'kith-impressions-dlq': (batch, env) => consumeDeadLetters(batch, env),
  'kith-push': (batch, env) => consumePush(batch as MessageBatch<PushMessage>, env),
  'kith-mail': (batch, env) => consumeMailBatch(batch as MessageBatch<MailQueueMessage>, env),
  'kith-exports': (batch, env) => consumeExportBatch(batch, env),
  'kith-mail-dlq': (batch, env) => consumeMailDeadLetters(batch as MessageBatch<MailQueueMessage>, env),
};

/** The worker's `queue` handler: hands each batch to the consumer of its queue. */
export async function handleQueue(batch: MessageBatch<unknown>, env: Bindings, ctx: ExecutionContext): Promise<void> {
  const consumer = CONSUMERS[batch.queue];
  if (!consumer) {
    console.error(JSON.stringify({ level: 'error', message: `no consumer for queue ${batch.queue}` }));
    batch.retryAll();
    return;
  }
  await consumer(batch as MessageBatch<never>, env, ctx);
}
