import { type MailerKind, mailerKind, type MailQueueMessage } from '../../lib/mailer';
import type { Bindings } from '../../lib/types';

/** A sender holds a row this long while it talks to the provider; a redelivery meanwhile waits. */
const LOCK_MS = 60_000;
/** Every call to a mail provider gives up after this long (and is retried later). */
export const MAIL_SEND_TIMEOUT_MS = 10_000;
/** The sweeper re-queues a row never queued after this long, or queued this long ago and still unsent. */
const SWEEP_UNQUEUED_AFTER_MS = 60_000;
const SWEEP_LOST_AFTER_MS = 2 * 60 * 60 * 1000;
const SWEEP_BATCH = 100;
/**
 * Delivered (or given-up) rows are deleted this long after: long enough to answer "was my mail sent?",
 * not so long that the outbox becomes an archive of everyone's mail (and the links in them).
 */
export const KEEP_DELIVERED_MAIL_MS = 7 * 24 * 60 * 60 * 1000;
const PRUNE_BATCH = 500;

interface OutboxRow {
  id: string;
  to_address: string;
  subject: string;
  body_text: string;
  body_html: string | null;
}

/** What became of one delivery attempt. */
export type DeliveryOutcome =
  /** Handed to the provider now, or already sent / given up before: acknowledge. */
  | { status: 'done' }
  /** The provider refused it for good (a bad address): recorded, acknowledge. */
  | { status: 'rejected'; error: string }
  /** Worth another try later (a provider fault, a timeout, or another sender holding it). */
  | { status: 'retry'; error: string };

class PermanentMailError extends Error {}

/** A mail transport hands one message to a provider, throwing on failure (PermanentMailError: do not retry). */
type Transport = (env: Bindings, mail: OutboxRow) => Promise<void>;

/**
 * `MAILER=http`: POST `MAIL_HTTP_URL` a Resend-compatible JSON body `{ from, to: [..], subject, text,
 * html }` with `Authorization: Bearer MAIL_HTTP_TOKEN` and `Idempotency-Key: <outbox id>` (providers that
 * honour it never deliver one row twice, even if we lose their answer). 2xx = sent; 429 and 5xx are
 * retried; any other 4xx is a permanent refusal.
 */
const httpTransport: Transport = async (env, mail) => {
  if (!env.MAIL_HTTP_URL || !env.MAIL_HTTP_TOKEN) throw new Error('MAILER=http needs MAIL_HTTP_URL and the MAIL_HTTP_TOKEN secret');
  const res = await fetch(env.MAIL_HTTP_URL, {
    method: 'POST',
    headers: { Authorization: `Bearer ${env.MAIL_HTTP_TOKEN}`, 'Content-Type': 'application/json', 'Idempotency-Key': mail.id },
    body: JSON.stringify({ from: env.MAIL_FROM, to: [mail.to_address], subject: mail.subject, text: mail.body_text, html: mail.body_html ?? undefined }),
    signal: AbortSignal.timeout(MAIL_SEND_TIMEOUT_MS),
  });
  const detail = (await res.text().catch(() => '')).slice(0, 300);
  if (res.ok) return;
  const message = `mail API answered ${res.status}: ${detail}`;
  if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) throw new PermanentMailError(message);
  throw new Error(message);
};

/** `MAILER=send_email`: Cloudflare's `send_email` binding (`EMAIL`), both parts, without building MIME by hand. */
const sendEmailTransport: Transport = async (env, mail) => {
  if (!env.EMAIL) throw new Error('MAILER=send_email needs a [[send_email]] binding named EMAIL');
  await Promise.race([
    env.EMAIL.send({ from: env.MAIL_FROM, to: mail.to_address, subject: mail.subject, text: mail.body_text, html: mail.body_html ?? undefined }),
    new Promise((_, reject) => setTimeout(() => reject(new Error('send_email timed out')), MAIL_SEND_TIMEOUT_MS)),
  ]);
};

const TRANSPORTS: Record<Exclude<MailerKind, 'outbox'>, Transport> = { http: httpTransport, send_email: sendEmailTransport };

/**
 * Delivers one outbox row, at most once: the row is claimed (locked for a minute, attempt counted)
 * only while unsent, so a redelivered or duplicated queue message finds it sent, or held, and sends
 * nothing. Sent rows get `sent_at`; a permanent refusal gets `failed_at`; a failure releases the lock.
 */
export async function deliverOutboxMail(env: Bindings, id: string, now = Date.now()): Promise<DeliveryOutcome> {
  const kind = mailerKind(env);
  if (kind === 'outbox') return { status: 'done' };
  const db = env.DB;
  const claimed = await db
    .prepare(
      `UPDATE mail_outbox SET locked_until = ?2, attempts = attempts + 1
       WHERE id = ?1 AND sent_at IS NULL AND failed_at IS NULL AND (locked_until IS NULL OR locked_until <= ?3)
       RETURNING id, to_address, subject, body_text, body_html`,
    )
    .bind(id, now + LOCK_MS, now)
    .first<OutboxRow>();
  if (!claimed) {
    const row = await db.prepare('SELECT sent_at, failed_at FROM mail_outbox WHERE id = ?1').bind(id).first<{ sent_at: number | null; failed_at: number | null }>();
    // Gone, sent or given up: nothing to do. Held by another sender: look again later.
    return !row || row.sent_at !== null || row.failed_at !== null ? { status: 'done' } : { status: 'retry', error: 'held by another sender' };
  }
  try {
    await TRANSPORTS[kind](env, claimed);
  } catch (err) {
    const error = String((err as Error)?.message ?? err).slice(0, 500);
    const permanent = err instanceof PermanentMailError;
    await db
      .prepare(`UPDATE mail_outbox SET locked_until = NULL, last_error = ?2${permanent ? ', failed_at = ?3' : ''} WHERE id = ?1`)
      .bind(...(permanent ? [id, error, Date.now()] : [id, error]))
      .run();
    return permanent ? { status: 'rejected', error } : { status: 'retry', error };
  }
  await db.prepare('UPDATE mail_outbox SET sent_at = ?2, locked_until = NULL, last_error = NULL WHERE id = ?1').bind(id, Date.now()).run();
  return { status: 'done' };
}

/** The dead-letter queue's verdict: no more attempts for this row. */
export async function giveUpOnMail(env: Pick<Bindings, 'DB'>, id: string, now = Date.now()): Promise<void> {
  await env.DB.prepare("UPDATE mail_outbox SET failed_at = ?2, locked_until = NULL, last_error = COALESCE(last_error, 'gave up') WHERE id = ?1 AND sent_at IS NULL AND failed_at IS NULL")
    .bind(id, now)
    .run();
}

/**
 * The Cron sweeper (delivering mailers only): queues rows whose queue message was never sent (the
 * enqueue failed after the row was written) or seems lost (queued hours ago, still unsent, not given
 * up). Sending one twice is harmless: {@link deliverOutboxMail} sends each row once.
 */
export async function requeueUnsentMail(env: Bindings, now: number): Promise<number> {
  if (mailerKind(env) === 'outbox') return 0;
  const { results } = await env.DB.prepare(
    `UPDATE mail_outbox SET queued_at = ?1 WHERE id IN (
       SELECT id FROM mail_outbox WHERE sent_at IS NULL AND failed_at IS NULL
         AND ((queued_at IS NULL AND created_at <= ?2) OR queued_at <= ?3)
       ORDER BY created_at LIMIT ?4)
     RETURNING id`,
  )
    .bind(now, now - SWEEP_UNQUEUED_AFTER_MS, now - SWEEP_LOST_AFTER_MS, SWEEP_BATCH)
    .all<{ id: string }>();
  if (results.length > 0) await env.MAIL_QUEUE.sendBatch(results.map((r) => ({ body: { type: 'mail.send', id: r.id } satisfies MailQueueMessage })));
  return results.length;
}

/**
 * The Cron pruner (delivering mailers only; with `outbox` the rows are the mail): deletes rows sent or
 * given up more than {@link KEEP_DELIVERED_MAIL_MS} ago, at most 500 of each a minute, by the
 * `(sent_at, failed_at, created_at)` index.
 */
export async function pruneDeliveredMail(env: Bindings, now: number): Promise<void> {
  if (mailerKind(env) === 'outbox') return;
  const before = now - KEEP_DELIVERED_MAIL_MS;
  await env.DB.batch([
    env.DB.prepare('DELETE FROM mail_outbox WHERE id IN (SELECT id FROM mail_outbox WHERE sent_at < ?1 LIMIT ?2)').bind(before, PRUNE_BATCH),
    env.DB.prepare('DELETE FROM mail_outbox WHERE id IN (SELECT id FROM mail_outbox WHERE sent_at IS NULL AND failed_at < ?1 LIMIT ?2)').bind(before, PRUNE_BATCH),
  ]);
}
