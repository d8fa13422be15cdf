import type { D1Client } from '../../db/client';
import type { Context } from 'hono';
import { ApiError } from '../../lib/errors';
import { newId } from '../../lib/ids';
import type { AppEnv } from '../../lib/types';
import { canonicalJson, entryHash, GENESIS_HASH } from './audit-hash';

/** Every action the audit log records (the contract's list; OAuth, MFA and session events arrive with their features). */
export const AUDIT_ACTIONS = [
  'auth.register',
  'auth.login',
  'auth.login_failed',
  'auth.refresh_reuse',
  'auth.password_changed',
  'auth.password_reset',
  'auth.email_verified',
  'auth.email_change_requested',
  'auth.mfa_enabled',
  'auth.mfa_disabled',
  'oauth.linked',
  'oauth.unlinked',
  'session.revoked',
  'account.deleted',
  'role.changed',
  'report.created',
  'report.resolved',
  'account.action',
  'keyword_rule.changed',
  'community.owner_changed',
  'community.member_banned',
  'community.member_unbanned',
  'account.export_requested',
  'account.export_downloaded',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** The events a user reads about their own account at GET /me/security_events: sign-in, sessions, credentials, role. */
export const SECURITY_ACTIONS: readonly AuditAction[] = AUDIT_ACTIONS.filter(
  (action) => (/^(auth|oauth|session)\./.test(action) && action !== 'auth.register') || action === 'role.changed' || action.startsWith('account.export_'),
);

export type AuditSubjectType = 'user' | 'post' | 'comment' | 'message' | 'community' | 'report' | 'keyword_rule' | 'session';

/**
 * One audit entry. `data` must never hold a password, token or code: it is readable by admins and,
 * for security events, by the account itself.
 */
export interface AuditEntry {
  action: AuditAction;
  /** Who did it (null: the system, an anonymous caller, or the command line). */
  actorId: string | null;
  subjectType?: AuditSubjectType | null;
  subjectId?: string | null;
  /** The client address (CF-Connecting-IP), when a request caused it. */
  ip: string | null;
  data?: Record<string, unknown>;
  /**
   * Record the entry only if this SQL condition holds when the batch commits: for a change that may
   * lose a race and then change nothing (a conditional UPDATE). Its `?1..?n` are `params`. Entries of
   * one call that carry a condition must all carry the same one.
   */
  when?: { sql: string; params: unknown[] };
}

/** Attempts at one audited batch before giving up with a 503 (each retry follows another isolate's commit). */
const MAX_ATTEMPTS = 20;
/** A writer waits at most this long for this isolate's previous audited batch before going ahead anyway. */
const LOCK_WAIT_MS = 5_000;

/**
 * Whether this isolate has an audited batch in flight. Writers of one isolate take turns (polling this
 * flag: a request must never await a promise made by another request), so they never conflict with
 * each other; only writers in different isolates can, and those retry.
 */
let writing = false;

async function takeTurn(): Promise<() => void> {
  const started = Date.now();
  while (writing && Date.now() - started < LOCK_WAIT_MS) await new Promise((resolve) => setTimeout(resolve, 1));
  writing = true;
  return () => {
    writing = false;
  };
}

/** The client address of a request, for {@link AuditEntry.ip}. */
export function requestIp(c: Context<AppEnv>): string | null {
  return c.req.header('CF-Connecting-IP') ?? null;
}

async function chainHead(db: D1Client): Promise<string> {
  const row = await db.prepare('SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1').first<{ hash: string }>();
  return row?.hash ?? GENESIS_HASH;
}

async function entryStatements(db: D1Client, entries: AuditEntry[], head: string): Promise<D1PreparedStatement[]> {
  const now = Date.now();
  const out: D1PreparedStatement[] = [];
  let prev = head;
  for (const entry of entries) {
    const record = {
      id: newId(now),
      action: entry.action,
      actor_id: entry.actorId,
      subject_type: entry.subjectType ?? null,
      subject_id: entry.subjectId ?? null,
      ip: entry.ip,
      data: entry.data ?? {},
      created_at: now,
      prev_hash: prev,
    };
    const hash = await entryHash(record);
    const when = entry.when ?? { sql: '1', params: [] };
    const n = when.params.length;
    const marks = Array.from({ length: 10 }, (_, i) => `?${n + i + 1}`).join(', ');
    out.push(
      db
        .prepare(
          `INSERT INTO audit_log (id, action, actor_id, subject_type, subject_id, ip, data, created_at, prev_hash, hash)
           SELECT ${marks} WHERE ${when.sql}`,
        )
        .bind(...when.params, record.id, record.action, record.actor_id, record.subject_type, record.subject_id, record.ip, canonicalJson(record.data), now, prev, hash),
    );
    prev = hash;
  }
  return out;
}

const isChainConflict = (err: unknown) => /audit chain conflict/.test(String((err as Error)?.message ?? err) + String((err as Error)?.cause ?? ''));

/**
 * The one way to write the audit log: runs `statements` (the change being recorded) and the entries in
 * ONE D1 batch, so the change and its record commit together or not at all. Returns the results of
 * `statements`, in order.
 *
 * The hash chain under concurrent writers: each entry's hash covers the previous entry's hash, which is
 * read just before the batch. Within an isolate, audited batches take turns. Between isolates it is
 * optimistic: a trigger aborts an insert whose `prev_hash` is no longer the head (another writer
 * committed in between), which rolls back the whole batch; it is then rebuilt on the new head and run
 * again, after a short random pause. No gap, no fork, never a change without its entry.
 *
 * @example
 * await audit(c.var.d1, { action: 'oauth.linked', actorId: userId, subjectType: 'user', subjectId: userId, ip: requestIp(c), data: { provider } }, [insertIdentity]);
 */
export async function audit(db: D1Client, entries: AuditEntry | AuditEntry[], statements: D1PreparedStatement[] = []): Promise<D1Result[]> {
  const list = Array.isArray(entries) ? entries : [entries];
  const release = await takeTurn();
  try {
    for (let attempt = 1; ; attempt++) {
      const built = await entryStatements(db, list, await chainHead(db));
      try {
        const results = await db.batch([...statements, ...built]);
        return results.slice(0, statements.length);
      } catch (err) {
        if (!isChainConflict(err)) throw err;
        if (attempt >= MAX_ATTEMPTS) {
          throw new ApiError('service_unavailable', 'The audit log is busy; retry in a moment.', { headers: { 'Retry-After': '1' } });
        }
        await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(50, 2 * attempt)));
      }
    }
  } finally {
    release();
  }
}
