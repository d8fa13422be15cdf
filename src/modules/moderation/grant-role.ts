import type { HashedEntry } from '../audit/audit-hash';

/**
 * The SQL of `npm run admin -- grant <username> <role>`: the role change and its `role.changed` audit
 * entry, as one script that wrangler runs as one batch (the audit chain's trigger refuses it whole if
 * another writer moved the head meanwhile; the command then retries). Node runs this file directly
 * (type stripping), so it imports types only; the hash function comes in from audit-hash.ts.
 */
export interface GrantInput {
  user: { id: string; role: string };
  role: 'user' | 'moderator' | 'admin';
  /** The audit chain's current head (its last hash, or the genesis hash). */
  head: string;
  /** A fresh ULID for the entry. */
  entryId: string;
  now: number;
  hash: (entry: HashedEntry) => Promise<string>;
}

const literal = (value: string | number | null): string => (value === null ? 'NULL' : typeof value === 'number' ? String(value) : `'${value.replaceAll("'", "''")}'`);

export async function grantRoleSql(input: GrantInput, canonical: (value: unknown) => string): Promise<string> {
  const entry: HashedEntry = {
    id: input.entryId,
    action: 'role.changed',
    actor_id: null,
    subject_type: 'user',
    subject_id: input.user.id,
    ip: null,
    data: { from: input.user.role, to: input.role, via: 'cli' },
    created_at: input.now,
    prev_hash: input.head,
  };
  const hash = await input.hash(entry);
  const values = [entry.id, entry.action, null, entry.subject_type, entry.subject_id, null, canonical(entry.data), entry.created_at, entry.prev_hash, hash].map(literal);
  return [
    `INSERT INTO audit_log (id, action, actor_id, subject_type, subject_id, ip, data, created_at, prev_hash, hash) VALUES (${values.join(', ')});`,
    `UPDATE users SET role = ${literal(input.role)}, updated_at = ${input.now} WHERE id = ${literal(input.user.id)};`,
  ].join('\n');
}
