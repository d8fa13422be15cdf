import type { CallMedia } from './room.types';

export type CallState = 'ringing' | 'active' | 'ended';
/** A party's place in a call: rung and not yet answered, in it, gone (hung up or removed), declined, or never answered in time. */
export type PartyStatus = 'ringing' | 'joined' | 'left' | 'rejected' | 'missed';

export type CallRow = {
  call_id: string;
  media: CallMedia;
  caller_id: string;
  state: CallState;
  /** The caller's offer (its SDP), replayed to a callee who connects while it rings; emptied when the call ends. */
  offer: string;
  /** The caller's candidates sent to everyone before anyone answered (JSON), replayed with the offer; emptied when the call ends. */
  offer_candidates: string;
  started_at: number;
  answered_at: number | null;
  ended_at: number | null;
  reason: string | null;
};

export type PartyRow = {
  call_id: string;
  user_id: string;
  role: 'caller' | 'callee';
  status: PartyStatus;
  /** call_incoming went to this callee (to be retracted when the call ends). */
  notified: number;
  /** missed_call went to this callee. */
  missed_sent: number;
};

/** Ended calls are kept this long (so a late frame about one gets 409, not 404), then pruned. */
const KEEP_ENDED_MS = 24 * 60 * 60 * 1000;
/** Caller candidates kept for replay. */
const MAX_KEPT_CANDIDATES = 100;

/** The calls of one conversation in its room's storage: at most one ringing or active at a time. */
export class CallStore {
  constructor(private readonly sql: SqlStorage) {
    this.createSchema();
  }

  createSchema(): void {
    this.sql.exec(`
      CREATE TABLE IF NOT EXISTS calls (
        call_id TEXT PRIMARY KEY, media TEXT NOT NULL, caller_id TEXT NOT NULL, state TEXT NOT NULL, offer TEXT NOT NULL,
        offer_candidates TEXT NOT NULL DEFAULT '[]', started_at INTEGER NOT NULL, answered_at INTEGER, ended_at INTEGER, reason TEXT);
      CREATE TABLE IF NOT EXISTS call_parties (
        call_id TEXT NOT NULL, user_id TEXT NOT NULL, role TEXT NOT NULL, status TEXT NOT NULL,
        notified INTEGER NOT NULL DEFAULT 0, missed_sent INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (call_id, user_id));
      CREATE TABLE IF NOT EXISTS held_candidates (call_id TEXT NOT NULL, user_id TEXT NOT NULL, candidates TEXT NOT NULL, PRIMARY KEY (call_id, user_id));
    `);
  }

  get(callId: string): CallRow | undefined {
    return this.sql.exec<CallRow>('SELECT * FROM calls WHERE call_id = ?', callId).toArray()[0];
  }

  /** The call ringing or running now, if any. */
  live(): CallRow | undefined {
    return this.sql.exec<CallRow>("SELECT * FROM calls WHERE state != 'ended' LIMIT 1").toArray()[0];
  }

  create(call: { callId: string; media: CallMedia; callerId: string; offer: string; at: number }, calleeIds: string[]): void {
    this.sql.exec('DELETE FROM call_parties WHERE call_id IN (SELECT call_id FROM calls WHERE ended_at < ?)', call.at - KEEP_ENDED_MS);
    this.sql.exec('DELETE FROM calls WHERE ended_at < ?', call.at - KEEP_ENDED_MS);
    this.sql.exec("INSERT INTO calls (call_id, media, caller_id, state, offer, started_at) VALUES (?, ?, ?, 'ringing', ?, ?)", call.callId, call.media, call.callerId, call.offer, call.at);
    this.sql.exec("INSERT INTO call_parties (call_id, user_id, role, status) VALUES (?, ?, 'caller', 'joined')", call.callId, call.callerId);
    for (const id of calleeIds) this.sql.exec("INSERT INTO call_parties (call_id, user_id, role, status) VALUES (?, ?, 'callee', 'ringing')", call.callId, id);
  }

  parties(callId: string): PartyRow[] {
    return this.sql.exec<PartyRow>('SELECT * FROM call_parties WHERE call_id = ? ORDER BY rowid', callId).toArray();
  }

  party(callId: string, userId: string): PartyRow | undefined {
    return this.sql.exec<PartyRow>('SELECT * FROM call_parties WHERE call_id = ? AND user_id = ?', callId, userId).toArray()[0];
  }

  setStatus(callId: string, userId: string, status: PartyStatus): void {
    this.sql.exec('UPDATE call_parties SET status = ? WHERE call_id = ? AND user_id = ?', status, callId, userId);
  }

  /** Someone answered or joined: the call is under way from its first answer. */
  join(callId: string, userId: string, at: number): void {
    this.setStatus(callId, userId, 'joined');
    this.sql.exec("UPDATE calls SET state = 'active', answered_at = COALESCE(answered_at, ?) WHERE call_id = ?", at, callId);
  }

  markNotified(callId: string, userIds: string[]): void {
    for (const id of userIds) this.sql.exec('UPDATE call_parties SET notified = 1 WHERE call_id = ? AND user_id = ?', callId, id);
  }

  /** Everyone still ringing missed it; returns who, among them and earlier misses, still needs a missed_call. */
  missRinging(callId: string): string[] {
    this.sql.exec("UPDATE call_parties SET status = 'missed' WHERE call_id = ? AND status = 'ringing'", callId);
    const due = this.sql
      .exec<{ user_id: string }>("SELECT user_id FROM call_parties WHERE call_id = ? AND status = 'missed' AND missed_sent = 0", callId)
      .toArray()
      .map((r) => r.user_id);
    this.sql.exec("UPDATE call_parties SET missed_sent = 1 WHERE call_id = ? AND status = 'missed'", callId);
    return due;
  }

  keepOfferCandidates(callId: string, candidates: unknown[]): void {
    const call = this.get(callId);
    if (!call) return;
    const kept = [...(JSON.parse(call.offer_candidates) as unknown[]), ...candidates].slice(0, MAX_KEPT_CANDIDATES);
    this.sql.exec('UPDATE calls SET offer_candidates = ? WHERE call_id = ?', JSON.stringify(kept), callId);
  }

  /**
   * How many of `callerId`'s calls started since `since` went unanswered, counting only those after the
   * last call here that someone answered or someone else started (a call back clears the slate).
   */
  unansweredBy(callerId: string, since: number): number {
    return this.sql
      .exec<{ n: number }>(
        `SELECT COUNT(*) AS n FROM calls WHERE caller_id = ?1 AND answered_at IS NULL AND state = 'ended' AND started_at > ?2
           AND started_at > (SELECT COALESCE(MAX(started_at), 0) FROM calls WHERE answered_at IS NOT NULL OR caller_id != ?1)`,
        callerId,
        since,
      )
      .one().n;
  }

  /** Candidates a direct call's callee sent while it rang, kept (at most {@link MAX_KEPT_CANDIDATES}) until they answer. */
  holdCandidates(callId: string, userId: string, candidates: unknown[]): void {
    const row = this.sql.exec<{ candidates: string }>('SELECT candidates FROM held_candidates WHERE call_id = ? AND user_id = ?', callId, userId).toArray()[0];
    const kept = [...(row ? (JSON.parse(row.candidates) as unknown[]) : []), ...candidates].slice(0, MAX_KEPT_CANDIDATES);
    this.sql.exec('INSERT INTO held_candidates (call_id, user_id, candidates) VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET candidates = excluded.candidates', callId, userId, JSON.stringify(kept));
  }

  /** The held candidates of a callee who answers (forgotten here). */
  takeHeldCandidates(callId: string, userId: string): unknown[] {
    const row = this.sql.exec<{ candidates: string }>('DELETE FROM held_candidates WHERE call_id = ? AND user_id = ? RETURNING candidates', callId, userId).toArray()[0];
    return row ? (JSON.parse(row.candidates) as unknown[]) : [];
  }

  /**
   * The call is over. What carried addresses (the offer, the caller's kept candidates, candidates nobody
   * answered with) is dropped at once: only the record stays, {@link KEEP_ENDED_MS}.
   */
  end(callId: string, reason: string, at: number): void {
    this.sql.exec("UPDATE calls SET state = 'ended', reason = ?, ended_at = ?, offer = '', offer_candidates = '[]' WHERE call_id = ?", reason, at, callId);
    this.sql.exec('DELETE FROM held_candidates WHERE call_id = ?', callId);
  }
}
