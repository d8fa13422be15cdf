/**
 * The audit chain's hash, shared by the worker and `npm run admin` (Node runs this file as is: it uses
 * only type annotations and Web Crypto, so keep it free of imports and non-erasable syntax).
 */

/** The `prev_hash` of the first entry. */
export const GENESIS_HASH = '0'.repeat(64);

/** The fields an entry's hash covers, as stored (data as its parsed JSON). */
export interface HashedEntry {
  id: string;
  action: string;
  actor_id: string | null;
  subject_type: string | null;
  subject_id: string | null;
  ip: string | null;
  data: unknown;
  created_at: number;
  prev_hash: string;
}

/** JSON with object keys sorted at every depth and no whitespace (RFC 8785 style), so equal data hash alike. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item === undefined ? null : item)).join(',')}]`;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record)
    .filter((key) => record[key] !== undefined)
    .sort();
  return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key])}`).join(',')}}`;
}

/** SHA-256 (hex) over the entry's canonical JSON, which includes the previous entry's hash. */
export async function entryHash(entry: HashedEntry): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(canonicalJson(entry)));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}
