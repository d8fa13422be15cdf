import type { D1Client } from '../../db/client';
import { ApiError } from '../../lib/errors';
import { throttleRefusal, throttleRelease, throttleTake, type ThrottleWindow } from '../../lib/throttle';

/**
 * Mails that go to an address anyone can type (a link to confirm an address, or to reset a password):
 * at most 3 an hour from one account, and 3 of each kind an hour to one address, whichever accounts ask.
 * Counted in `auth_throttles` under keys that outlive the accounts (deleting one and signing up again
 * with someone's address does not start a new count).
 */
export const MAIL_CAP: ThrottleWindow = { max: 3, ms: 60 * 60 * 1000 };

/** An account's hourly allowances: `links` (verification and change links share one) and `reset`. */
const ALLOWANCES = ['links', 'reset'] as const;

export interface CappedMail {
  /** The account the mail is sent for, and which of its allowances it uses. */
  accountId: string;
  allowance: (typeof ALLOWANCES)[number];
  /** The recipient, and what the mail is (its outbox `kind`). */
  to: string;
  kind: string;
}

const accountKey = (allowance: CappedMail['allowance'], accountId: string) => `mail:from:${allowance}:${accountId}`;

/** An account's own allowance counters, to delete with it (the addresses' counters outlive it on purpose). */
export const mailAllowanceKeysOf = (accountId: string): string[] => ALLOWANCES.map((allowance) => accountKey(allowance, accountId));

/**
 * Takes the mail from the account's and the address's hourly allowance, each in one transaction
 * (throttleTake), so requests sent all at once cannot all pass: null when both had room, else the 429 to answer (with
 * Retry-After), nothing taken.
 */
export async function takeMailAllowance(db: D1Client, mail: CappedMail, now = Date.now()): Promise<ApiError | null> {
  const byAccount = accountKey(mail.allowance, mail.accountId);
  const toAddress = `mail:to:${mail.kind}:${mail.to}`;
  const fromAccount = await throttleTake(db, byAccount, MAIL_CAP, 1, { whole: true, now });
  if (!fromAccount.taken) return refusal(db, byAccount, `At most ${MAIL_CAP.max} such mails an hour per account; try again later.`, now);
  if (!(await throttleTake(db, toAddress, MAIL_CAP, 1, { whole: true, now })).taken) {
    await throttleRelease(db, byAccount, fromAccount.windowStart, 1);
    return refusal(db, toAddress, 'This address has had as many such mails as it may have this hour; try again later.', now);
  }
  return null;
}

async function refusal(db: D1Client, key: string, detail: string, now: number): Promise<ApiError> {
  return throttleRefusal(db, key, MAIL_CAP, detail, 1, now, 60);
}
