import { HASHTAG_BODY, normalizeTag } from '../tags/hashtags';

/**
 * How a search box's text becomes FTS5 queries. Nothing a client types is ever FTS5 syntax: the text
 * is cut into words (runs of letters, digits and marks, as the `unicode61` tokenizer cuts them) and
 * `#tags`, and every word goes into the query as a quoted string, so `"`, `AND`, `NEAR(`, `*`, `(`,
 * `col:x` or control characters are plain separators or plain words, never operators.
 */

/** Words of this many characters or more match as prefixes in the typeahead indexes (users, tags). */
export const PREFIX_FROM = 2;

/** At most this many words of a query are searched (the rest are ignored). */
export const MAX_QUERY_WORDS = 8;

export interface SearchTerms {
  /** Words to match, in order, NFC and lower case. */
  words: string[];
  /** `#tag`s, lower case (each also counts as a word for full-text matching). */
  tags: string[];
  /** True when the query is nothing but `#tag`s. */
  tagsOnly: boolean;
}

const TAG_IN_QUERY = new RegExp(`(?:^|[^\\p{L}\\p{N}_])#(${HASHTAG_BODY})`, 'gu');
const WORD = /[\p{L}\p{N}\p{M}\p{Co}]+/gu;
const WORD_TEST = /[\p{L}\p{N}\p{M}\p{Co}]/u;

/** Splits a query into words and tags (see the module comment). */
export function parseSearchText(q: string): SearchTerms {
  const text = q.normalize('NFC');
  const tags = [...new Set([...text.matchAll(TAG_IN_QUERY)].map((m) => normalizeTag(m[1]!)).filter((t): t is string => t !== null))];
  const words = (text.toLowerCase().match(WORD) ?? []).slice(0, MAX_QUERY_WORDS);
  const tagsOnly = tags.length > 0 && !WORD_TEST.test(text.replace(TAG_IN_QUERY, ' '));
  return { words, tags: tags.slice(0, MAX_QUERY_WORDS), tagsOnly };
}

/**
 * An FTS5 query matching rows that contain every word. With `prefixFrom`, a word at least that many
 * characters long also matches as a prefix (typeahead: `ad` finds "Ada"); shorter words match whole,
 * since a one-letter prefix would walk a large part of the index. Null when there is no word.
 */
export function ftsMatch(words: string[], prefixFrom?: number): string | null {
  if (words.length === 0) return null;
  // Words from parseSearchText hold no quote; doubling any is FTS5's escape, should one ever come.
  const quoted = (w: string) => `"${w.replaceAll('"', '""')}"`;
  return words.map((w) => (prefixFrom !== undefined && [...w].length >= prefixFrom ? `${quoted(w)}*` : quoted(w))).join(' ');
}
