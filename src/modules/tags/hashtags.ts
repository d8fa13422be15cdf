/**
 * Hashtags: `#word` in a post's content, where word is 1 to 50 letters, digits or underscores
 * (`[\p{L}\p{N}_]{1,50}`, the contract's tag syntax) with at least one that is not a digit (so `#1` in
 * "my #1 fan" is no tag), preceded by the start or by a character that cannot be part of a word, an
 * address or an entity (`a#b`, `example.com/#top` and `&#38;` carry none). Tags are stored lower case
 * (NFC), each once per post.
 */

/** The characters of a tag, for building patterns. */
export const HASHTAG_BODY = '[\\p{L}\\p{N}_]{1,50}';
const TAG_PATTERN = new RegExp(`^${HASHTAG_BODY}$`, 'u');
const IN_CONTENT = new RegExp(`(?:^|[^\\p{L}\\p{N}\\p{M}_&/#])#([\\p{L}\\p{N}_]+)`, 'gu');

/** A post carries at most this many tags (the first ones in its text). */
export const MAX_POST_TAGS = 20;

/**
 * The stored form of a tag (NFC, lower case), or null when `raw` is not a tag. Lower-casing a few
 * letters adds a combining mark (`İ` → `i̇`); such marks are dropped so the tag stays in the syntax.
 */
export function normalizeTag(raw: string): string | null {
  const lower = raw.normalize('NFC').toLowerCase().normalize('NFC');
  const tag = TAG_PATTERN.test(lower) ? lower : lower.replace(/\p{M}/gu, '');
  return TAG_PATTERN.test(tag) ? tag : null;
}

/** The tags of a text, in order of first appearance. */
export function extractHashtags(text: string): string[] {
  const found = new Set<string>();
  for (const match of text.normalize('NFC').matchAll(IN_CONTENT)) {
    const body = match[1]!;
    if (/^\p{N}+$/u.test(body)) continue;
    const tag = normalizeTag(body);
    if (tag) found.add(tag);
    if (found.size === MAX_POST_TAGS) break;
  }
  return [...found];
}
