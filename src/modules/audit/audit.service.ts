import type { D1Client } from '../../db/client';
import type { Context } from 'hono';
import type { AuditRow } from '../../db/schema';
import { decodeCursor, toPage } from '../../lib/pagination';
import type { AppEnv } from '../../lib/types';
import { presentPublicUser } from '../users/users.presenter';
import { loadUsersByIds } from '../users/users.service';
import { SECURITY_ACTIONS } from './audit';
import { entryHash, GENESIS_HASH } from './audit-hash';

type RawEntry = { seq: number; id: string; action: string; actor_id: string | null; subject_type: string | null; subject_id: string | null; ip: string | null; data: string; created_at: number; prev_hash: string; hash: string };

const seqCursor = (cursor?: string) => (cursor ? (decodeCursor(cursor, ['number'])[0] as number) : Number.MAX_SAFE_INTEGER);

/** A `limit + 1` row fetch as a page keyed on seq, its rows presented together. */
async function page<T>(rows: RawEntry[], limit: number, present: (rows: RawEntry[]) => Promise<T[]> | T[]) {
  const cut = toPage(rows, limit, (r) => [r.seq], (r) => r);
  return { data: await present(cut.data), next_cursor: cut.next_cursor };
}

/**
 * The audit log for admins, newest first, filtered by action, actor and subject (each has an index
 * ending in seq, so any one filter is an index range; the others are checked on its rows).
 */
export async function listAudit(c: Context<AppEnv>, q: { action?: string; actor_id?: string; subject_id?: string; limit: number; cursor?: string }) {
  const { results } = await c.var.d1.prepare(
    `SELECT * FROM audit_log WHERE seq < ?1 AND (?2 IS NULL OR action = ?2) AND (?3 IS NULL OR actor_id = ?3) AND (?4 IS NULL OR subject_id = ?4)
     ORDER BY seq DESC LIMIT ?5`,
  )
    .bind(seqCursor(q.cursor), q.action ?? null, q.actor_id ?? null, q.subject_id ?? null, q.limit + 1)
    .all<RawEntry>();
  return page(results, q.limit, async (rows) => {
    const actors = await loadUsersByIds(c.get('db'), rows.map((r) => r.actor_id).filter((id): id is string => id !== null));
    return rows.map((r) => {
      const actor = r.actor_id ? actors.get(r.actor_id) : undefined;
      return {
        id: r.id,
        action: r.action,
        actor: actor ? presentPublicUser(actor, c.get('baseUrl')) : null,
        actor_id: r.actor_id,
        subject_type: r.subject_type,
        subject_id: r.subject_id,
        ip: r.ip,
        data: JSON.parse(r.data) as Record<string, unknown>,
        created_at: new Date(r.created_at).toISOString(),
        prev_hash: r.prev_hash,
        hash: r.hash,
      };
    });
  });
}

/** A user's own security events (logins, failed logins, sessions, password changes…), newest first (audit_log_subject_idx). */
export async function listSecurityEvents(c: Context<AppEnv>, userId: string, limit: number, cursor?: string) {
  const { results } = await c.var.d1.prepare(
    `SELECT * FROM audit_log WHERE subject_id = ?1 AND seq < ?2 AND subject_type = 'user' AND action IN (SELECT value FROM json_each(?3))
     ORDER BY seq DESC LIMIT ?4`,
  )
    .bind(userId, seqCursor(cursor), JSON.stringify(SECURITY_ACTIONS), limit + 1)
    .all<RawEntry>();
  return page(results, limit, (rows) =>
    rows.map((r) => ({ id: r.id, action: r.action, ip: r.ip, data: JSON.parse(r.data) as Record<string, unknown>, created_at: new Date(r.created_at).toISOString() })),
  );
}

/** Rows verified per query; the chain is walked in this many at a time, in seq order. */
const VERIFY_CHUNK = 500;

/**
 * Walks the whole chain in order: each entry's prev_hash must be the previous entry's hash (the first's,
 * 64 zeros) and its hash must be the SHA-256 of its canonical JSON. Reports the first entry that fails.
 */
export async function verifyAudit(db: D1Client): Promise<{ ok: boolean; entries: number; first_bad_id: string | null }> {
  let prev = GENESIS_HASH;
  let after = 0;
  let entries = 0;
  for (;;) {
    const { results } = await db.prepare('SELECT * FROM audit_log WHERE seq > ?1 ORDER BY seq LIMIT ?2').bind(after, VERIFY_CHUNK).all<RawEntry>();
    for (const r of results) {
      entries++;
      let data: unknown;
      try {
        data = JSON.parse(r.data);
      } catch {
        return { ok: false, entries, first_bad_id: r.id };
      }
      const expected = await entryHash({ id: r.id, action: r.action, actor_id: r.actor_id, subject_type: r.subject_type, subject_id: r.subject_id, ip: r.ip, data, created_at: r.created_at, prev_hash: r.prev_hash });
      if (r.prev_hash !== prev || r.hash !== expected) return { ok: false, entries, first_bad_id: r.id };
      prev = r.hash;
    }
    if (results.length < VERIFY_CHUNK) return { ok: true, entries, first_bad_id: null };
    after = results.at(-1)!.seq;
  }
}

export type { AuditRow };
