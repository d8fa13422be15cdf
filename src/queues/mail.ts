import type { MailQueueMessage } from '../lib/mailer';
import type { Bindings } from '../lib/types';
import { deliverOutboxMail, giveUpOnMail } from '../modules/mail/mail-delivery';
import { isMailRequest, makeRequestedMail } from '../modules/mail/mail-requests';

/** Retry delays grow 30 s, 1, 2, 4, 8 minutes (wrangler.toml: max_retries = 5, then the dead-letter queue). */
export function retryDelaySeconds(attempts: number): number {
  return Math.min(30 * 2 ** Math.max(0, attempts - 1), 3600);
}

/**
 * Delivers each outbox row named by the batch (`mail.send`), or makes a mail an address asked for whose
 * making after the answer failed (`mail.request`, src/modules/mail/mail-requests.ts), side by side,
 * settling each message on its own: sent (or nothing left to do) and permanent refusals are
 * acknowledged; failures are retried with backoff.
 */
export async function consumeMailBatch(batch: MessageBatch<MailQueueMessage>, env: Bindings): Promise<void> {
  await Promise.all(
    batch.messages.map(async (message) => {
      if (message.body?.type === 'mail.request') {
        if (!isMailRequest(message.body)) {
          console.error(JSON.stringify({ level: 'error', queue: batch.queue, message: 'invalid mail.request dropped' }));
          return message.ack();
        }
        try {
          await makeRequestedMail(env, message.body);
          message.ack();
        } catch (err) {
          console.error(JSON.stringify({ level: 'warn', queue: batch.queue, kind: message.body.kind, attempts: message.attempts, message: String((err as Error)?.message ?? err) }));
          message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
        }
        return;
      }
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
    if (message.body?.type === 'mail.request') {
      console.error(JSON.stringify({ level: 'error', queue: batch.queue, kind: message.body.kind, message: 'requested mail gave up after its retries' }));
      message.ack();
      continue;
    }
    const id = message.body?.id;
    if (typeof id === 'string') {
      await giveUpOnMail(env, id);
      console.error(JSON.stringify({ level: 'error', queue: batch.queue, outbox_id: id, message: 'mail delivery gave up after its retries' }));
    }
    message.ack();
  }
}
