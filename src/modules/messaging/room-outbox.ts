import { keyOfMediaUrl } from '../media/media.keys';
import { insertReport, type NewReport } from '../moderation/reports.store';
import type { RoomAlarms } from './room-alarms';
import type { RoomStore } from './room-store';
import type { MessageMedia } from './room.types';

/** Index retries back off from 1 s to 5 min. */
const retryDelay = (attempt: number) => Math.min(300_000, 1000 * 2 ** Math.min(attempt, 9));
/** The alarm job that retries whatever the outbox still owes D1. */
export const OUTBOX_JOB = 'outbox';
/** Released messages whose message_media rows one flush deletes (a bound JSON array of ids stays small). */
const RELEASES_PER_FLUSH = 500;

/**
 * What a ConversationRoom owes D1: its conversation index (last message, activity time, each member's
 * unread count and read position), kept current through a durable "index dirty" version retried from
 * the room's alarm, so the index converges even when D1 writes fail; the message_media rows of messages
 * that stopped carrying their attachments, deleted with the index; and the automatic reports about
 * flagged messages, kept in the room until D1 has them.
 */
export class RoomOutbox {
  /** The flush loop in progress, joined by every caller that needs the index current. */
  private flushRun: Promise<void> | null = null;
  private safetyScheduled = false;

  constructor(
    private readonly ctx: DurableObjectState,
    private readonly env: Env,
    private readonly store: RoomStore,
    private readonly sql: SqlStorage,
    private readonly alarms: RoomAlarms,
  ) {
    this.createSchema();
  }

  createSchema(): void {
    this.sql.exec('CREATE TABLE IF NOT EXISTS pending_reports (id INTEGER PRIMARY KEY, report TEXT NOT NULL)');
    // Messages that no longer carry their attachments, until D1's message_media forgets them.
    this.sql.exec('CREATE TABLE IF NOT EXISTS released_media (message_id TEXT PRIMARY KEY)');
  }

  /** The alarm ran the outbox job: the safety net is spent, and both halves are retried. */
  async retry(): Promise<void> {
    this.safetyScheduled = false;
    await this.requestFlush();
    await this.flushReports();
  }

  // ------------------------------------------------------------------ the D1 index

  markIndexDirty(): void {
    this.store.set('index_version', String(Number(this.store.get('index_version') ?? '0') + 1));
    // If the object is evicted before a flush completes, the alarm finds the index still dirty.
    if (!this.safetyScheduled) {
      this.safetyScheduled = true;
      this.alarms.schedule(OUTBOX_JOB, Date.now() + 30_000);
    }
  }

  private indexDirty(): boolean {
    return (this.store.get('index_version') ?? '0') !== (this.store.get('index_synced') ?? '0');
  }

  /**
   * Starts a flush loop, or joins the one running: it resolves once the index reflects every write made
   * before it finishes (or a failure has scheduled the retry). Coalesces bursts of messages into a few
   * D1 batches.
   */
  requestFlush(): Promise<void> {
    if (!this.flushRun) {
      this.flushRun = (async () => {
        try {
          while (this.indexDirty()) if (!(await this.flushIndex())) return;
        } finally {
          this.flushRun = null;
        }
      })();
      this.ctx.waitUntil(this.flushRun);
    }
    return this.flushRun;
  }

  /**
   * Brings D1's index to the room's current state. Values are absolute, computed from this room's
   * storage at flush time, so applying twice or out of order cannot drift. On failure the alarm
   * retries with backoff.
   */
  async flushIndex(): Promise<boolean> {
    const { store } = this;
    const conversationId = store.conversationId();
    const version = store.get('index_version') ?? '0';
    if (!conversationId) return false; // not configured yet: nothing to index
    if (version === (store.get('index_synced') ?? '0')) return true;
    const last = store.lastLiveMessage();
    const lastAny = store.lastActivity();
    const activity = lastAny.at ?? Date.now();
    const members = store.members();
    const released = this.sql.exec<{ message_id: string }>('SELECT message_id FROM released_media LIMIT ?', RELEASES_PER_FLUSH).toArray().map((r) => r.message_id);
    const db = this.env.DB;
    // Messages sent since the last flush count towards the admin stats' messages_1d (hourly buckets).
    const counted = Number(store.get('stats_seq') ?? '0');
    const fresh = Math.max(0, (lastAny.seq ?? 0) - counted);
    const stats = fresh
      ? [
          db
            .prepare("INSERT INTO stats_hourly (metric, hour, count) VALUES ('messages', ?1, ?2) ON CONFLICT (metric, hour) DO UPDATE SET count = count + excluded.count")
            .bind(Math.floor(Date.now() / 3_600_000), fresh),
        ]
      : [];
    try {
      await db.batch([
        ...stats,
        db
          .prepare('UPDATE conversations SET last_seq = ?2, last_message = ?3, last_activity_at = MAX(last_activity_at, ?4) WHERE id = ?1')
          .bind(conversationId, lastAny.seq ?? 0, last ? JSON.stringify(store.present(last)) : null, activity),
        // Every member's row in one statement, however large the conversation. A reply accepts a request
        // (the room only ever clears `request`; D1 sets it when someone is added).
        db
          .prepare(
            `UPDATE conversation_members
             SET unread_count = json_extract(j.value, '$.u'), last_read_seq = json_extract(j.value, '$.r'), last_activity_at = MAX(last_activity_at, ?3),
                 request = request AND json_extract(j.value, '$.q')
             FROM json_each(?2) AS j
             WHERE conversation_members.conversation_id = ?1 AND conversation_members.user_id = json_extract(j.value, '$.id')`,
          )
          .bind(
            conversationId,
            JSON.stringify(members.map((m) => ({ id: m.userId, u: store.unreadFor(m.userId, m.lastReadSeq), r: m.lastReadSeq, q: m.request ? 1 : 0 }))),
            activity,
          ),
        // Their images stop being in use by these messages (a trigger withdraws those nothing else uses).
        ...(released.length > 0
          ? [db.prepare('DELETE FROM message_media WHERE conversation_id = ?1 AND message_id IN (SELECT value FROM json_each(?2))').bind(conversationId, JSON.stringify(released))]
          : []),
      ]);
    } catch (err) {
      const attempt = Number(store.get('index_attempts') ?? '0') + 1;
      store.set('index_attempts', String(attempt));
      this.alarms.schedule(OUTBOX_JOB, Date.now() + retryDelay(attempt));
      console.error(JSON.stringify({ level: 'warn', message: 'index update deferred', conversation_id: conversationId, attempt, error: String(err) }));
      return false;
    }
    // Only what was flushed is marked synced: a write that landed meanwhile keeps the index dirty.
    store.set('index_synced', version);
    if (fresh) store.set('stats_seq', String(counted + fresh));
    store.set('index_attempts', '0');
    if (released.length > 0) {
      this.sql.exec('DELETE FROM released_media WHERE message_id IN (SELECT value FROM json_each(?))', JSON.stringify(released));
      // More than one flush takes (an account's thousands of messages): the loop goes round again.
      if (released.length === RELEASES_PER_FLUSH) this.markIndexDirty();
    }
    return true;
  }

  // ------------------------------------------------------------------ message attachments in D1

  /**
   * Notes in D1 that a message about to be stored carries these uploads, so GET /media/{key} keeps
   * serving them: before the message exists, so no moment shows a message whose image is withdrawn. A
   * failure fails the send (nothing stored); a send that stops after this leaves a row that only keeps
   * the image public longer (it goes with the conversation). Uploads deleted meanwhile are skipped.
   */
  async recordMedia(messageId: string, media: MessageMedia[]): Promise<void> {
    if (media.length === 0) return;
    await this.env.DB.prepare(
      `INSERT OR IGNORE INTO message_media (conversation_id, message_id, media_id, created_at)
       SELECT ?1, ?2, m.id, ?3 FROM media m WHERE m.id IN (SELECT value FROM json_each(?4)) AND EXISTS (SELECT 1 FROM conversations WHERE id = ?1)`,
    )
      .bind(this.store.conversationId(), messageId, Date.now(), JSON.stringify(media.map((m) => m.id)))
      .run();
  }

  /**
   * Inside the caller's transaction (with {@link markIndexDirty}): the message no longer carries its
   * attachments, so the next flush deletes its message_media rows. Returns the keys of its images,
   * whose edge copies the caller purges (one may be withdrawn now).
   */
  releaseMedia(messageId: string, media: MessageMedia[]): string[] {
    if (media.length === 0) return [];
    this.sql.exec('INSERT OR IGNORE INTO released_media (message_id) VALUES (?)', messageId);
    return media.map((m) => keyOfMediaUrl(m.url));
  }

  // ------------------------------------------------------------------ flagged messages

  /** Keeps an automatic report about a flagged message in this room's storage (inside the caller's transaction). */
  queueReport(reason: NonNullable<NewReport['auto']>, messageId: string, senderId: string, content: string, media: MessageMedia[]): void {
    const report: NewReport = {
      reporterId: null,
      subjectType: 'message',
      subjectId: messageId,
      subjectUserId: senderId,
      conversationId: this.store.conversationId(),
      category: 'other',
      auto: reason,
      snapshot: { author: this.store.member(senderId)?.user ?? null, content, media: media as unknown as Record<string, unknown>[] },
    };
    this.sql.exec('INSERT INTO pending_reports (report) VALUES (?)', JSON.stringify(report));
  }

  /** Writes queued reports to D1 (each at most once: the unique index drops repeats); retried by the alarm on failure. */
  async flushReports(): Promise<void> {
    const rows = this.sql.exec<{ id: number; report: string }>('SELECT id, report FROM pending_reports ORDER BY id LIMIT 50').toArray();
    if (rows.length === 0) return;
    try {
      await this.env.DB.batch(rows.map((r) => insertReport(this.env.DB, JSON.parse(r.report) as NewReport).statement));
      this.sql.exec('DELETE FROM pending_reports WHERE id <= ?', rows.at(-1)!.id);
    } catch (err) {
      console.error(JSON.stringify({ level: 'warn', message: 'flagged message report deferred', error: String(err) }));
      this.alarms.schedule(OUTBOX_JOB, Date.now() + 60_000);
    }
  }
}
