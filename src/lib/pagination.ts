import { z } from '@hono/zod-openapi';
import { openBytes, sealBytes } from './crypto';
import { ApiError } from './errors';
import { fromBase64Url, toBase64Url } from './encoding';

/** The page size when a list request names none. */
export const DEFAULT_PAGE_LIMIT = 20;

/** `?limit=` (1..100, default 20) and `?cursor=`, shared by every list route. */
export const PageQuerySchema = z.object({
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(100)
    .default(DEFAULT_PAGE_LIMIT)
    .openapi({ param: { name: 'limit', in: 'query' }, example: 20 }),
  cursor: z
    .string()
    .max(512)
    .optional()
    .openapi({ param: { name: 'cursor', in: 'query' }, example: 'WzE3OTk5OTk5OTk5OTksIjAxSkE..."XQ' }),
});

/** The list envelope `{ data, next_cursor }`, registered as a named component with an example page. */
export function pageSchema<T extends z.ZodType>(name: string, item: T, example: z.input<T>) {
  return z
    .object({ data: z.array(item), next_cursor: z.string().nullable() })
    .openapi(name, { example: { data: [example], next_cursor: 'WzE3OTUyNjE3NzIyMTUsIjAxTTdZWjFDRFFXM05NUTRBNjNWQUFONzE3Il0' } });
}

type CursorValue = string | number;

/** A cursor's content: the JSON of the last row's sort key. */
const cursorBytes = (values: CursorValue[]) => new TextEncoder().encode(JSON.stringify(values));

/** The sort key a cursor's content holds when it has the list's shape, else null. */
function cursorValues(bytes: Uint8Array, shape: ReadonlyArray<'string' | 'number'>): CursorValue[] | null {
  try {
    const values: unknown = JSON.parse(new TextDecoder().decode(bytes));
    return Array.isArray(values) && values.length === shape.length && values.every((v, i) => typeof v === shape[i]) ? (values as CursorValue[]) : null;
  } catch {
    return null;
  }
}

const invalidCursor = () => ApiError.field('cursor', 'is not a valid cursor for this list');

/** Cursors are opaque keyset positions (never offsets): base64url of the last row's sort key. */
export function encodeCursor(values: CursorValue[]): string {
  return toBase64Url(cursorBytes(values));
}

export function decodeCursor(cursor: string, shape: ReadonlyArray<'string' | 'number'>): CursorValue[] {
  let values: CursorValue[] | null = null;
  try {
    values = cursorValues(fromBase64Url(cursor), shape);
  } catch {
    // not base64url: the field error below
  }
  if (!values) throw invalidCursor();
  return values;
}

/**
 * Cursors of lists whose rows the rules may drop after the skeleton (post lists): such a cursor can name
 * a row the caller may not see (the last of a page the rules emptied), and a plain cursor would hand out
 * its id and time (search could then tell which hidden posts hold a word). Sealed with AES-GCM
 * (sealBytes) under a key derived from the deployment's secret, they say nothing; {@link openCursor}
 * reads them back.
 */
export async function sealCursor(secret: string | undefined, values: CursorValue[]): Promise<string> {
  const { iv, sealed } = await sealBytes(CURSOR_LABEL, sealingSecret(secret), cursorBytes(values));
  const out = new Uint8Array(iv.length + sealed.length);
  out.set(iv);
  out.set(sealed, iv.length);
  return toBase64Url(out);
}

/** The position a sealed cursor names (see {@link sealCursor}): 400 naming `cursor` for anything else. */
export async function openCursor(secret: string | undefined, cursor: string, shape: ReadonlyArray<'string' | 'number'>): Promise<CursorValue[]> {
  let values: CursorValue[] | null = null;
  try {
    const bytes = fromBase64Url(cursor);
    values = cursorValues(await openBytes(CURSOR_LABEL, sealingSecret(secret), bytes.slice(0, 12), bytes.slice(12)), shape);
  } catch {
    // not one Kith sealed: the field error below
  }
  if (!values) throw invalidCursor();
  return values;
}

const CURSOR_LABEL = 'kith-cursor';

function sealingSecret(secret: string | undefined): string {
  if (!secret) throw new Error('JWT_SECRET is not set: cursors cannot be sealed');
  return secret;
}

/** A keyset position on (timestamp in ms, id): how most lists here are ordered. */
export type TimeKey = [number, string];
/** Where a newest-first list starts: above every row. */
export const NEWEST_FIRST: TimeKey = [Number.MAX_SAFE_INTEGER, ''];
/** Where an oldest-first list starts: below every row. */
export const OLDEST_FIRST: TimeKey = [0, ''];

/** The position a `?cursor=` names, or the list's start when there is none. */
export function timeKeyCursor(cursor: string | undefined, start: TimeKey): TimeKey {
  return cursor ? (decodeCursor(cursor, ['number', 'string']) as TimeKey) : start;
}

/** Cuts a `limit + 1` row fetch into a page, with the cursor of the last row kept. */
export function toPage<Row, Item>(
  rows: Row[],
  limit: number,
  keyOf: (row: Row) => CursorValue[],
  present: (row: Row) => Item,
): { data: Item[]; next_cursor: string | null } {
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    data: page.map(present),
    next_cursor: rows.length > limit && last !== undefined ? encodeCursor(keyOf(last)) : null,
  };
}

/**
 * {@link toPage} with a sealed cursor ({@link sealCursor}): for lists whose sort keys say more than the
 * rows shown (a rowid's place in sign-up order, a score computed from counts the caller may not see).
 */
export async function toSealedPage<Row, Item>(
  secret: string | undefined,
  rows: Row[],
  limit: number,
  keyOf: (row: Row) => CursorValue[],
  present: (row: Row) => Item,
): Promise<{ data: Item[]; next_cursor: string | null }> {
  const page = rows.slice(0, limit);
  const last = rows.length > limit ? page.at(-1) : undefined;
  return { data: page.map(present), next_cursor: last === undefined ? null : await sealCursor(secret, keyOf(last)) };
}
