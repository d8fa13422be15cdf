import type { MailQueueMessage } from '../lib/mailer';
import type { Bindings } from '../lib/types';
import { deliverOutboxMail, giveUpOnMail } from '../modules/mail/mail-delivery';

/** Retry delays grow 30 s, 1, 2, 4, 8 minutes (wrangler.toml: max_retries = 5, then the dead-letter queue). */
export function retryDelaySeconds(attempts: number): number {
  return Math.min(30 * 2 ** Math.max(0, attempts - 1), 3600);
}

/**
 * Delivers each outbox row named by the batch, side by side, settling each message on its own: sent
 * (or nothing left to do) and permanent refusals are acknowledged; failures are retried with backoff.
 */
export async function consumeMailBatch(batch: MessageBatch<MailQueueMessage>, env: Bindings): Promise<void> {
  await Promise.all(
    batch.messages.map(async (message) => {
      const id = message.body?.id;
      if (typeof id !== 'string') return message.ack();
      try {
        const outcome = await deliverOutboxMail(env, id);
        if (outcome.status === 'retry') {
          console.error(JSON.stringify({ level: 'warn', queue: batch.queue, outbox_id: id, attempts: message.attempts, message: outcome.error }));
          message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
        } else {
          if (outcome.status === 'rejected') console.error(JSON.stringify({ level: 'error', queue: batch.queue, outbox_id: id, message: outcome.error }));
          message.ack();
        }
      } catch (err) {
        console.error(JSON.stringify({ level: 'error', queue: batch.queue, outbox_id: id, message: String((err as Error)?.message ?? err) }));
        message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
      }
    }),
  );
}

/** The dead-letter queue: a row whose retries ran out is marked failed (and logged), never sent later. */
export async function consumeMailDeadLetters(batch: MessageBatch<MailQueueMessage>, env: Bindings): Promise<void> {
  for (const message of batch.messages) {
    const id = message.body?.id;
    if (typeof id === 'string') {
      await giveUpOnMail(env, id);
      console.error(JSON.stringify({ level: 'error', queue: batch.queue, outbox_id: id, message: 'mail delivery gave up after its retries' }));
    }
    message.ack();
  }
}
