import type { Bindings } from '../lib/types';
import { refreshSource } from '../modules/news/news.service';

/** The one kind of message on the news queue: fetch this source now. */
export interface NewsFetchMessage {
  type: 'news.fetch';
  source_id: string;
}

/**
 * Consumes a batch of due sources, fetching them side by side. Each message is settled on its own:
 * a feed's failure is recorded on its source and acknowledged (the source's back-off decides when to
 * try again); only a fault of ours (D1) retries the message.
 */
export async function consumeNewsBatch(batch: MessageBatch<NewsFetchMessage>, env: Bindings): Promise<void> {
  await Promise.all(
    batch.messages.map(async (message) => {
      try {
        await refreshSource(env, message.body.source_id);
        message.ack();
      } catch (err) {
        console.error(JSON.stringify({ level: 'error', queue: batch.queue, source_id: message.body.source_id, message: String((err as Error)?.message ?? err) }));
        message.retry({ delaySeconds: 60 });
      }
    }),
  );
}
