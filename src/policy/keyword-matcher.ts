/**
 * Case- and accent-insensitive keyword matching, shared by the staff keyword rules (content-rules.ts)
 * and personal filters. One normaliser: Unicode NFKD (compatibility forms such as full-width letters
 * and ligatures fold to plain ones, accents split off), combining marks removed, lower case. A
 * whole-word keyword matches a run of whole words (`buy now` matches "Buy… NOW!" but not "buyer");
 * otherwise the keyword matches anywhere in the normalised text.
 *
 * Whole-word keywords are looked up by their first word in a hash map, so checking a text costs about
 * one lookup per word whatever the number of keywords; the others share one compiled expression.
 */

/** Folds text for matching: NFKD, no combining marks, lower case (ß → ss). */
export function foldText(text: string): string {
  return text.normalize('NFKD').replace(/\p{M}+/gu, '').toLowerCase().replaceAll('ß', 'ss');
}

/** The words of folded text: runs of letters and digits. */
function wordsOf(folded: string): string[] {
  return folded.split(/[^\p{L}\p{N}]+/u).filter(Boolean);
}

export interface Keyword<K> {
  key: K;
  keyword: string;
  wholeWord: boolean;
}

export interface KeywordMatcher<K> {
  /** Keys of the keywords found in `text`, each once, in the order the keywords were given. */
  match(text: string): K[];
  readonly size: number;
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Compiles keywords once; matching then never re-reads them. */
export function compileKeywords<K>(keywords: Keyword<K>[]): KeywordMatcher<K> {
  // First word → [rank, words] for whole-word keywords; the rank keeps results in the given order.
  const byFirstWord = new Map<string, { rank: number; words: string[] }[]>();
  const anywhere: { rank: number; text: string }[] = [];
  keywords.forEach((k, rank) => {
    const folded = foldText(k.keyword.trim());
    const words = wordsOf(folded);
    // A keyword with no letters or digits ("$$$") has no words to align on: it matches anywhere.
    if (k.wholeWord && words.length > 0) {
      const list = byFirstWord.get(words[0]!) ?? [];
      list.push({ rank, words });
      byFirstWord.set(words[0]!, list);
    } else if (folded.trim()) {
      anywhere.push({ rank, text: folded.trim().replace(/\s+/g, ' ') });
    }
  });
  // Zero-width lookahead at every position, so overlapping keywords are all seen.
  const texts = [...new Set(anywhere.map((a) => a.text))];
  const anywhereRe = texts.length ? new RegExp(`(?=(${texts.map(escapeRegExp).join('|')}))`, 'g') : null;
  const ranksOfText = new Map<string, number[]>();
  for (const a of anywhere) ranksOfText.set(a.text, [...(ranksOfText.get(a.text) ?? []), a.rank]);

  return {
    size: keywords.length,
    match(text: string): K[] {
      if (keywords.length === 0 || !text) return [];
      const folded = foldText(text);
      const hits = new Set<number>();
      if (byFirstWord.size > 0) {
        const words = wordsOf(folded);
        for (let i = 0; i < words.length; i++) {
          const candidates = byFirstWord.get(words[i]!);
          if (!candidates) continue;
          for (const { rank, words: want } of candidates) {
            let ok = i + want.length <= words.length;
            for (let j = 1; ok && j < want.length; j++) ok = words[i + j] === want[j];
            if (ok) hits.add(rank);
          }
        }
      }
      if (anywhereRe) {
        // The longest alternative wins at a position, so shorter ones starting there are checked too.
        const spaced = folded.replace(/\s+/g, ' ');
        for (const m of spaced.matchAll(anywhereRe)) {
          for (const t of texts) if (spaced.startsWith(t, m.index)) for (const rank of ranksOfText.get(t)!) hits.add(rank);
        }
      }
      return [...hits].sort((a, b) => a - b).map((rank) => keywords[rank]!.key);
    },
  };
}
