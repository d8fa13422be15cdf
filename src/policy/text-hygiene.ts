import { z } from '@hono/zod-openapi';
import { ApiError } from '../lib/errors';

/**
 * Text hygiene: the one check every write of user text passes, from REST bodies (the zod helpers
 * below) and from socket frames ({@link cleanText}). Stored text is NFC-normalised.
 *
 * - Single-line fields (names, titles, headlines) refuse every control character and the bidi
 *   override and isolate characters, which let `abc\u202Egnp.exe` display as `abcexe.png`.
 * - Multi-line text (bios, posts, comments, messages, descriptions) refuses NUL and every control
 *   character other than tab, line feed and carriage return, and a bidi embedding, override or isolate
 *   left open at the end of its line (so none can reverse what a client shows after the text).
 * - Neither takes more than {@link MAX_COMBINING_MARKS} combining marks on one character.
 */
export type TextKind = 'single_line' | 'multi_line';

export const MAX_COMBINING_MARKS = 10;

/** U+202A–U+202E (embeddings and overrides) and U+2066–U+2069 (isolates). */
const BIDI_CONTROL = /[\u202A-\u202E\u2066-\u2069]/;
const ANY_CONTROL = /\p{Cc}/u;
const CONTROL_EXCEPT_WHITESPACE = /(?![\t\n\r])\p{Cc}/u;
const TOO_MANY_MARKS = new RegExp(`\\p{M}{${MAX_COMBINING_MARKS + 1},}`, 'u');

export const TEXT_RULES: Record<TextKind, string> = {
  single_line: 'one line of text: no control characters, no bidi override or isolate characters (U+202A–U+202E, U+2066–U+2069), at most 10 combining marks on a character; stored NFC-normalised',
  multi_line: 'text: no NUL or control characters other than tab, line feed and carriage return, no bidi embedding, override or isolate left open at the end of a line, at most 10 combining marks on a character; stored NFC-normalised',
};

/** True when a line opens more bidi embeddings, overrides or isolates than it closes (PDF U+202C, PDI U+2069). */
function leavesBidiOpen(text: string): boolean {
  for (const line of text.split(/\r\n|[\n\r\u2029]/)) {
    let embeddings = 0;
    let isolates = 0;
    for (const ch of line) {
      if (ch >= '\u202A' && ch <= '\u202E' && ch !== '\u202C') embeddings += 1;
      else if (ch === '\u202C') embeddings = Math.max(0, embeddings - 1);
      else if (ch >= '\u2066' && ch <= '\u2068') isolates += 1;
      else if (ch === '\u2069') isolates = Math.max(0, isolates - 1);
    }
    if (embeddings > 0 || isolates > 0) return true;
  }
  return false;
}

/** Why `text` is refused as `kind`, or null when it is clean. Expects NFC text. */
export function textProblem(text: string, kind: TextKind): string | null {
  if (kind === 'single_line') {
    if (ANY_CONTROL.test(text)) return 'must not contain control characters (a single line of text)';
    if (BIDI_CONTROL.test(text)) return 'must not contain bidirectional override or isolate characters (U+202A–U+202E, U+2066–U+2069)';
  } else {
    if (CONTROL_EXCEPT_WHITESPACE.test(text)) return 'must not contain NUL or control characters other than tab, line feed and carriage return';
    if (leavesBidiOpen(text)) return 'must close every bidirectional embedding, override or isolate (U+202A–U+202E, U+2066–U+2068) on the line it opens';
  }
  if (TOO_MANY_MARKS.test(text)) return `must not stack more than ${MAX_COMBINING_MARKS} combining marks on one character`;
  return null;
}

/** The plain form, for socket frames: the NFC text (trimmed, for a single line), or why it is refused. */
export function cleanText(text: string, kind: TextKind): { ok: true; value: string } | { ok: false; message: string } {
  const nfc = text.normalize('NFC');
  const value = kind === 'single_line' ? nfc.trim() : nfc;
  const problem = textProblem(value, kind);
  return problem ? { ok: false, message: problem } : { ok: true, value };
}

/** The NFC text, or a 400 naming `field`. */
export function assertCleanText(field: string, text: string, kind: TextKind): string {
  const result = cleanText(text, kind);
  if (!result.ok) throw ApiError.field(field, result.message);
  return result.value;
}

function hygienicString(kind: TextKind) {
  const nfc = z.string().normalize('NFC');
  // A single line is trimmed first: surrounding whitespace (a trailing newline, say) is dropped, not refused.
  return (kind === 'single_line' ? nfc.trim() : nfc)
    .superRefine((value, ctx) => {
      const problem = textProblem(value, kind);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .openapi({ description: `Normalised to NFC. ${TEXT_RULES[kind].replace(/^./, (c) => c.toUpperCase())}.` });
}

/**
 * Adds the hygiene check (and NFC) to a string schema that already has its own rules, e.g. one from
 * `trimmedText()`; the field's documented description is kept and the rules are appended to it.
 */
export function withTextHygiene<T extends z.ZodString>(schema: T, kind: TextKind): T {
  return schema.normalize('NFC').superRefine((value, ctx) => {
    const problem = textProblem(value, kind);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  }) as T;
}

/**
 * A zod string for a single-line field (display names, community names, titles, headlines): NFC, then
 * trimmed, then refused with a 400 naming the field if it holds control or bidi override/isolate
 * characters. Chain the field's own rules after it: `singleLineText().min(1).max(50)`.
 */
export const singleLineText = () => hygienicString('single_line');

/** A zod string for multi-line text (bios, posts, comments, messages, descriptions); see {@link singleLineText}. */
export const multiLineText = () => hygienicString('multi_line');

/**
 * Text Kith did not get from a user's own typing but stores and shows (a provider's profile name, a
 * User-Agent): made a clean single line instead of refused. Line breaks and tabs become spaces, other
 * control characters and the bidi embedding, override and isolate characters are dropped, combining
 * marks past {@link MAX_COMBINING_MARKS} on a character are dropped, runs of whitespace become one
 * space, and it is cut to `max` characters; null when nothing is left.
 */
export function singleLineFrom(text: string | null | undefined, max: number): string | null {
  if (!text) return null;
  const stripped = text
    .normalize('NFC')
    .replace(/[\t\n\v\f\r\u0085\u2028\u2029]/g, ' ')
    .replace(new RegExp(`${ANY_CONTROL.source}|${BIDI_CONTROL.source}`, 'gu'), '')
    .replace(new RegExp(`(\\p{M}{${MAX_COMBINING_MARKS}})\\p{M}+`, 'gu'), '$1')
    .replace(/\s+/g, ' ')
    .trim();
  const result = cleanText(Array.from(stripped).slice(0, max).join(''), 'single_line');
  return result.ok && result.value ? result.value : null;
}
