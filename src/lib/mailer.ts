import { eq } from 'drizzle-orm';
import { html } from 'hono/html';
import type { D1Client, Database } from '../db/client';
import { mailOutbox } from '../db/schema';
import { newId } from './ids';
import type { Bindings } from './types';

export interface MailMessage {
  to: string;
  subject: string;
  /** The plain-text part. */
  text: string;
  /** The HTML part (the same content). */
  html: string;
  /** What the mail is for (`password_reset`, `email_verification`, ...), so a sender or a test can pick it out. */
  kind: string;
}

/** Everything that sends mail goes through this interface. */
export interface Mailer {
  send(message: MailMessage): Promise<void>;
}

/** How mail leaves: `outbox` keeps it in D1 (local and tests), the others deliver it through the mail queue. */
export const MAILER_KINDS = ['outbox', 'http', 'send_email'] as const;
export type MailerKind = (typeof MAILER_KINDS)[number];

/** The mail queue's first kind of message: deliver this outbox row. */
export interface MailSendMessage {
  type: 'mail.send';
  id: string;
}

/** Mails asked for without an account (a reset link, a verification link resent), made after the answer. */
export const MAIL_REQUEST_KINDS = ['password_reset', 'email_verification'] as const;
export type MailRequestKind = (typeof MAIL_REQUEST_KINDS)[number];

/**
 * The mail queue's second kind: make the mail an address asked for (look the account up, mint the link,
 * write the outbox row) again, after the work left for after the answer failed (src/modules/mail/mail-requests.ts).
 */
export interface MailRequestMessage {
  type: 'mail.request';
  kind: MailRequestKind;
  email: string;
}

export type MailQueueMessage = MailSendMessage | MailRequestMessage;

/** What making a transactional mail needs: D1, the mailer, and the app's address for its links. */
export interface MailDeps {
  db: D1Client;
  mailer: Mailer;
  appUrl: string;
}

/** The configured mailer kind; an unknown `MAILER` is a configuration fault, not something to guess about. */
export function mailerKind(env: Pick<Bindings, 'MAILER'>): MailerKind {
  const kind = env.MAILER || 'outbox';
  if (!(MAILER_KINDS as readonly string[]).includes(kind)) throw new Error(`Unknown MAILER "${kind}" (expected ${MAILER_KINDS.join(', ')})`);
  return kind as MailerKind;
}

/**
 * Records each message durably in the D1 `mail_outbox` table first. With `MAILER=outbox` that is the
 * whole delivery (tests and local development read the table); with a delivering mailer the row is
 * also put on the mail queue, whose consumer (src/queues/mail.ts) hands it to the provider. A row whose
 * queue message could not be sent is picked up by the Cron sweeper, so nothing is lost either way.
 */
export class OutboxMailer implements Mailer {
  constructor(
    private readonly db: Database,
    private readonly queue?: Queue<MailQueueMessage>,
  ) {}

  async send(message: MailMessage): Promise<void> {
    const id = newId();
    await this.db.insert(mailOutbox).values({
      id,
      toAddress: message.to,
      subject: message.subject,
      bodyText: message.text,
      bodyHtml: message.html,
      kind: message.kind,
      queuedAt: this.queue ? new Date() : null,
    });
    if (!this.queue) return;
    try {
      await this.queue.send({ type: 'mail.send', id });
    } catch (err) {
      // Marked never queued, so the per-minute sweeper queues it within a minute or two instead of
      // treating it as in flight for hours (src/modules/mail/mail-delivery.ts).
      console.error(JSON.stringify({ level: 'warn', message: 'mail queue send failed', outbox_id: id, error: String((err as Error)?.message ?? err) }));
      await this.db.update(mailOutbox).set({ queuedAt: null }).where(eq(mailOutbox.id, id));
    }
  }
}

/** The mailer for this deployment's `MAILER`. */
export function createMailer(env: Pick<Bindings, 'MAILER' | 'MAIL_QUEUE'>, db: Database): Mailer {
  return new OutboxMailer(db, mailerKind(env) === 'outbox' ? undefined : env.MAIL_QUEUE);
}

/**
 * A transactional mail with one call to action, in both parts: a greeting line, paragraphs, the link,
 * and closing paragraphs. The HTML part escapes every value.
 */
export function composeMail(parts: { to: string; kind: string; subject: string; intro: string[]; link?: { url: string; label: string }; outro?: string[] }): MailMessage {
  const { intro, link, outro = [] } = parts;
  const text = [...intro, ...(link ? [`${link.label}:\n${link.url}`] : []), ...outro].join('\n\n');
  const paragraphs = (lines: string[]) => lines.map((line) => html`<p>${line}</p>`);
  const body = html`<!doctype html>
<html><body style="font-family:system-ui,sans-serif;line-height:1.5;color:#1f2328">
${paragraphs(intro)}${link ? html`<p><a href="${link.url}">${link.label}</a></p><p style="font-size:12px;color:#57606a">${link.url}</p>` : ''}${paragraphs(outro)}
</body></html>`;
  return { to: parts.to, kind: parts.kind, subject: parts.subject, text, html: body.toString() };
}
