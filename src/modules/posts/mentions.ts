import type { D1Client } from '../../db/client';

const MENTION = /(^|[^\w@])@([A-Za-z0-9_]{3,30})\b/g;
const MAX_MENTIONS = 10;

/** The distinct @usernames a text mentions (lower-cased), at most MAX_MENTIONS: the ones it notifies. */
function mentionedNames(text: string): string[] {
  return [...new Set([...text.matchAll(MENTION)].map((m) => m[2]!.toLowerCase()))].slice(0, MAX_MENTIONS);
}

/**
 * The accounts the @usernames of these texts name now (one query however many texts): whom their
 * mentions may have notified, for texts whose recipients were not recorded.
 */
export async function accountsNamedIn(db: D1Client, texts: string[]): Promise<string[]> {
  const names = new Set(texts.flatMap(mentionedNames));
  if (names.size === 0) return [];
  const { results } = await db.prepare('SELECT id FROM users WHERE username IN (SELECT value FROM json_each(?1))').bind(JSON.stringify([...names])).all<{ id: string }>();
  return results.map((r) => r.id);
}
