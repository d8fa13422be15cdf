import { newId } from '../lib/ids';

/**
 * The dead-letter queues' consumer (kith-fanout-dlq): messages that failed validation (sent here by
 * their consumer, wrapped with the reason) or ran out of retries (moved here by Queues, unwrapped). Each
 * is logged and kept in D1 (queue_dead_letters) for an operator to inspect and, if it was our fault,
 * replay; none is retried automatically.
 */

/** Stored bodies are cut to this many characters (a message is at most 128 KB). */
const BODY_LIMIT = 16_000;

interface Wrapped {
  queue: string;
  message_id: string;
  reason: string;
  attempts: number;
  body: unknown;
}

const isWrapped = (body: unknown): body is Wrapped =>
  typeof body === 'object' && body !== null && typeof (body as Wrapped).reason === 'string' && typeof (body as Wrapped).queue === 'string' && 'body' in body;

/** The queue a dead-letter queue collects for: `kith-fanout-dlq` → `kith-fanout`. */
const sourceOf = (dlq: string) => dlq.replace(/-dlq$/, '');

export async function consumeDeadLetters(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const now = Date.now();
  const rows = batch.messages.map((message) => {
    const wrapped = isWrapped(message.body) ? message.body : null;
    const row = {
      id: newId(now),
      queue: wrapped?.queue ?? sourceOf(batch.queue),
      reason: wrapped?.reason ?? 'retries exhausted',
      body: JSON.stringify(wrapped ? wrapped.body : message.body) ?? 'null',
      attempts: wrapped?.attempts ?? message.attempts,
    };
    console.error(JSON.stringify({ level: 'error', message: 'dead letter', queue: row.queue, id: wrapped?.message_id ?? message.id, reason: row.reason }));
    return row;
  });
  await env.DB.batch(
    rows.map((row) =>
      env.DB.prepare('INSERT INTO queue_dead_letters (id, queue, reason, body, attempts, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)').bind(
        row.id,
        row.queue,
        row.reason,
        row.body.slice(0, BODY_LIMIT),
        row.attempts,
        now,
      ),
    ),
  );
  batch.ackAll();
}
