import type { D1Client } from '../../db/client';
import type { AutoReason } from '../../db/schema';
import { foldText } from '../../policy/keyword-matcher';

/**
 * The two automatic spam holds on posts and comments: the same text more than REPEAT_LIMIT times within
 * REPEAT_WINDOW_MS from one account, and more than LINK_LIMIT links within LINK_WINDOW_MS from an
 * account younger than NEW_ACCOUNT_MS. Each write records a fingerprint (a hash of its folded text and
 * its link count) in the same batch that stores it, and reads the counts before it in that batch, so
 * the check costs no extra round trip. (Chat is left to the per-sender message limit: "ok" said four
 * times is a conversation, not spam.)
 */
export const REPEAT_LIMIT = 3;
export const REPEAT_WINDOW_MS = 10 * 60 * 1000;
export const LINK_LIMIT = 5;
export const LINK_WINDOW_MS = 24 * 60 * 60 * 1000;
export const NEW_ACCOUNT_MS = 24 * 60 * 60 * 1000;

const LINK = /\bhttps?:\/\/|\bwww\.[^\s.]/gi;

export function countLinks(text: string): number {
  return text.match(LINK)?.length ?? 0;
}

async function fingerprint(text: string): Promise<string> {
  const folded = foldText(text).replace(/\s+/g, ' ').trim();
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(folded));
  return [...new Uint8Array(digest).slice(0, 16)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

export interface SpamCheck {
  /** Reads the account's recent counts: put it in the batch BEFORE `record`. */
  check: D1PreparedStatement;
  /** Records this write's fingerprint. */
  record: D1PreparedStatement;
  links: number;
  at: number;
}

export async function spamStatements(db: D1Client, userId: string, text: string, now = Date.now()): Promise<SpamCheck> {
  const hash = await fingerprint(text);
  const links = countLinks(text);
  return {
    links,
    at: now,
    check: db
      .prepare(
        `SELECT (SELECT COUNT(*) FROM content_fingerprints WHERE user_id = ?1 AND hash = ?2 AND created_at > ?3) AS repeats,
           (SELECT created_at FROM users WHERE id = ?1) AS born,
           (SELECT COALESCE(SUM(links), 0) FROM content_fingerprints WHERE user_id = ?1 AND created_at > ?4) AS links`,
      )
      .bind(userId, hash, now - REPEAT_WINDOW_MS, now - LINK_WINDOW_MS),
    record: db.prepare('INSERT INTO content_fingerprints (user_id, hash, links, created_at) VALUES (?1, ?2, ?3, ?4)').bind(userId, hash, links, now),
  };
}

/** Whether the checked write trips a spam hold, from the `check` statement's row. */
export function spamVerdict(spam: SpamCheck, row: { repeats: number; born: number | null; links: number } | undefined): AutoReason | null {
  if (!row) return null;
  if (row.repeats >= REPEAT_LIMIT) return { kind: 'spam_repeat', action: 'hold', rule_id: null, pattern: null, field: 'content' };
  const young = row.born !== null && row.born > spam.at - NEW_ACCOUNT_MS;
  if (young && spam.links > 0 && row.links + spam.links > LINK_LIMIT) return { kind: 'spam_links', action: 'hold', rule_id: null, pattern: null, field: 'content' };
  return null;
}
