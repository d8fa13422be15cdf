import type { Database } from '../db/client';
import { mailOutbox } from '../db/schema';
import { newId } from './ids';

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  /** What the mail is for (`password_reset`, ...), so a sender or a test can pick it out. */
  kind: string;
}

/** Everything that sends mail goes through this interface. */
export interface Mailer {
  send(message: MailMessage): Promise<void>;
}

/**
 * Records each message in the D1 `mail_outbox` table. Locally that is the whole delivery (tests read it);
 * in production a sender drains rows whose `sent_at` is null into a mail provider.
 */
export class OutboxMailer implements Mailer {
  constructor(private readonly db: Database) {}

  async send(message: MailMessage): Promise<void> {
    await this.db.insert(mailOutbox).values({
      id: newId(),
      toAddress: message.to,
      subject: message.subject,
      bodyText: message.text,
      kind: message.kind,
    });
  }
}

/** Picks the mailer named by the `MAILER` variable. */
export function createMailer(kind: string | undefined, db: Database): Mailer {
  switch (kind ?? 'outbox') {
    case 'outbox':
      return new OutboxMailer(db);
    default:
      throw new Error(`Unknown MAILER "${kind}"`);
  }
}
