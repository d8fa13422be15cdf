import type { Context } from 'hono';
import { createDb } from '../../db/client';
import { createMailer, MAIL_REQUEST_KINDS, type MailDeps, type MailRequestKind, type MailRequestMessage } from '../../lib/mailer';
import type { AppEnv, Bindings } from '../../lib/types';
import { afterResponse } from '../../middleware/after-response';
import { requestPasswordReset } from '../auth/auth.service';
import { resendVerification } from '../auth/email.service';

/** What a request's mail needs, from its services (its D1 session, its mailer). */
export const mailDeps = (c: Context<AppEnv>): MailDeps => ({ db: c.var.d1, mailer: c.get('mailer'), appUrl: c.env.APP_URL });

/** The same outside a request (the mail queue's consumer). */
const mailDepsOfEnv = (env: Bindings): MailDeps => ({ db: env.DB, mailer: createMailer(env, createDb(env.DB)), appUrl: env.APP_URL });

/** How each mail asked for by address is made: the account looked up, the link minted, the outbox row written. */
const MAKERS: Record<MailRequestKind, (deps: MailDeps, email: string) => Promise<void>> = {
  password_reset: requestPasswordReset,
  email_verification: resendVerification,
};

/** How long the mail queue waits before its first try of a mail whose after-answer making failed. */
export const MAIL_REQUEST_RETRY_SECONDS = 5;

/**
 * Makes the mail an address asked for after the answer (`afterResponse`), so the answer's time and
 * content say nothing of whether the address has an account. Should that fail (D1 unavailable, say),
 * the request goes to the mail queue (`mail.request`), whose consumer makes it again with backoff and
 * retries: the caller had its 202, and the mail must not be lost.
 */
export function mailAfterAnswer(c: Context<AppEnv>, kind: MailRequestKind, email: string): void {
  afterResponse(c, kind, async () => {
    try {
      await MAKERS[kind](mailDeps(c), email);
    } catch (err) {
      console.error(JSON.stringify({ level: 'warn', message: 'requested mail failed; retried through the mail queue', kind, error: String((err as Error)?.message ?? err) }));
      await c.env.MAIL_QUEUE.send({ type: 'mail.request', kind, email } satisfies MailRequestMessage, { delaySeconds: MAIL_REQUEST_RETRY_SECONDS });
    }
  });
}

/** Whether a queue body is a well-formed `mail.request`. */
export function isMailRequest(body: unknown): body is MailRequestMessage {
  const m = body as Partial<MailRequestMessage> | null;
  return (
    m?.type === 'mail.request' &&
    (MAIL_REQUEST_KINDS as readonly unknown[]).includes(m.kind) &&
    typeof m.email === 'string' &&
    m.email.length > 0 &&
    m.email.length <= 254
  );
}

/** The mail queue's `mail.request`: makes the mail (throws to be retried). */
export async function makeRequestedMail(env: Bindings, message: MailRequestMessage): Promise<void> {
  await MAKERS[message.kind](mailDepsOfEnv(env), message.email);
}
