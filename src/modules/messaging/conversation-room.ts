import { DurableObject } from 'cloudflare:workers';
import { newId } from '../../lib/ids';
import { directSendRefusal } from '../../policy/messaging';
import { cleanText } from '../../policy/text-hygiene';
import { evaluateText } from '../../policy/content-rules';
import { insertReport, type NewReport } from '../moderation/reports.store';
import { publishEvent } from '../notifications/events';
import type { PublicUser } from '../users/users.schemas';
import {
  CLOSE_DELETED,
  CLOSE_LEFT_COMMUNITY,
  CLOSE_REMOVED,
  MAX_MESSAGE_LENGTH,
  NOT_A_MEMBER,
  type Message,
  type MessageMedia,
  type RoomMember,
  type RoomResult,
} from './room.types';

type Row = Record<string, SqlStorageValue>;
type Attachment = { userId: string };

const refuse = (status: 400 | 403 | 404 | 422 | 429, detail: string, field?: string, code?: 'messages_not_accepted') => ({ ok: false as const, status, detail, field, code });
const ok = <T>(value: T) => ({ ok: true as const, value });
/** Index retries back off from 1 s to 5 min. */
const retryDelay = (attempt: number) => Math.min(300_000, 1000 * 2 ** Math.min(attempt, 9));

/**
 * One Durable Object per conversation: the single writer of its messages. It assigns gap-free `seq`
 * (from 1), stores each message in its own SQLite storage before acknowledging or broadcasting it,
 * broadcasts to its WebSockets in seq order (hibernation API), and keeps D1's conversation index up to
 * date through a durable "index dirty" flag retried by an alarm, so the index converges even when D1
 * writes fail.
 */
export class ConversationRoom extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  /** The flush loop in progress, joined by every caller that needs the index current. */
  private flushRun: Promise<void> | null = null;
  private safetyAlarmSet = false;
  /** The room's identity, read from storage once per instance (it survives hibernation there). */
  private identity: { conversationId: string; kind: string } | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.createSchema();
    // Answered by the runtime without waking the object.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair('{"type":"ping"}', '{"type":"pong"}'));
  }

  // ------------------------------------------------------------------ state

  /** The room's tables (also after {@link dissolve} wiped them, so a late call finds an empty room). */
  private createSchema(): void {
    this.sql.exec(`
      CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT);
      CREATE TABLE IF NOT EXISTS members (user_id TEXT PRIMARY KEY, user_json TEXT NOT NULL, last_read_seq INTEGER NOT NULL DEFAULT 0);
      CREATE TABLE IF NOT EXISTS messages (
        seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, sender_id TEXT NOT NULL, content TEXT NOT NULL,
        media TEXT NOT NULL DEFAULT '[]', client_id TEXT, created_at INTEGER NOT NULL, edited_at INTEGER,
        deleted INTEGER NOT NULL DEFAULT 0);
      CREATE UNIQUE INDEX IF NOT EXISTS messages_sender_client ON messages (sender_id, client_id) WHERE client_id IS NOT NULL;
      CREATE TABLE IF NOT EXISTS pending_reports (id INTEGER PRIMARY KEY, report TEXT NOT NULL);
    `);
    // Rooms created before message requests: add the columns their members table lacks.
    const columns = new Set(this.sql.exec<{ name: string }>('PRAGMA table_info(members)').toArray().map((c) => c.name));
    // request: a message request for this member; notified: its one notification went out.
    if (!columns.has('request')) this.sql.exec('ALTER TABLE members ADD COLUMN request INTEGER NOT NULL DEFAULT 0');
    if (!columns.has('notified')) this.sql.exec('ALTER TABLE members ADD COLUMN notified INTEGER NOT NULL DEFAULT 0');
  }

  private get(key: string): string | null {
    const row = this.sql.exec<{ value: string }>('SELECT value FROM state WHERE key = ?', key).toArray()[0];
    return row ? row.value : null;
  }

  private set(key: string, value: string): void {
    this.sql.exec('INSERT INTO state (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value', key, value);
  }

  private conversationId(): string {
    this.identity ??= this.get('conversation_id') ? { conversationId: this.get('conversation_id')!, kind: this.get('kind') ?? 'group' } : null;
    return this.identity?.conversationId ?? '';
  }

  private kind(): string {
    this.conversationId();
    return this.identity?.kind ?? 'group';
  }

  private member(userId: string): { user: PublicUser; lastReadSeq: number } | null {
    const row = this.sql.exec<{ user_json: string; last_read_seq: number }>('SELECT user_json, last_read_seq FROM members WHERE user_id = ?', userId).toArray()[0];
    return row ? { user: JSON.parse(row.user_json) as PublicUser, lastReadSeq: row.last_read_seq } : null;
  }

  private lastSeq(): number {
    return this.sql.exec<{ seq: number | null }>('SELECT MAX(seq) AS seq FROM messages').one().seq ?? 0;
  }

  private present(row: Row): Message {
    const sender = this.member(row.sender_id as string)?.user ?? JSON.parse(this.get(`former:${row.sender_id}`) ?? 'null');
    return {
      id: row.id as string,
      conversation_id: this.conversationId(),
      seq: row.seq as number,
      sender,
      content: row.deleted ? '' : (row.content as string),
      media: row.deleted ? [] : (JSON.parse(row.media as string) as MessageMedia[]),
      client_id: (row.client_id as string | null) ?? null,
      created_at: new Date(row.created_at as number).toISOString(),
      edited_at: row.edited_at === null ? null : new Date(row.edited_at as number).toISOString(),
      deleted: row.deleted === 1,
    };
  }

  private messageAt(seq: number): Row | undefined {
    return this.sql.exec<Row>('SELECT * FROM messages WHERE seq = ?', seq).toArray()[0];
  }

  /** Unread for one member: other people's live messages after their read position. */
  private unreadFor(userId: string, lastReadSeq: number): number {
    return this.sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM messages WHERE seq > ? AND sender_id != ? AND deleted = 0', lastReadSeq, userId).one().n;
  }

  // ------------------------------------------------------------------ membership

  /**
   * Sets the conversation's identity, members and who started it (the worker calls it on create and on
   * every membership change). Removed members' sockets are closed at once.
   */
  async configure(conversationId: string, kind: string, members: RoomMember[], createdBy?: string): Promise<void> {
    this.setIdentity(conversationId, kind);
    if (createdBy) this.set('created_by', createdBy);
    const keep = new Set(members.map((m) => m.userId));
    for (const row of this.sql.exec<{ user_id: string; user_json: string }>('SELECT user_id, user_json FROM members').toArray()) {
      if (!keep.has(row.user_id)) this.dropMember(row.user_id, row.user_json);
    }
    for (const m of members) this.upsertMember(m);
    this.markIndexDirty();
    await this.requestFlush();
  }

  /**
   * Adds (or refreshes) one member without resending the whole list: what a community's chat uses on
   * every join, so a join costs the same in a community of ten or of ten thousand.
   */
  async addMember(conversationId: string, kind: string, member: RoomMember): Promise<void> {
    this.setIdentity(conversationId, kind);
    this.upsertMember(member);
    this.markIndexDirty();
    await this.requestFlush();
  }

  /** Removes one member and closes their sockets at once (4003 in a community chat). Unknown users are ignored. */
  async removeMember(userId: string): Promise<void> {
    const row = this.sql.exec<{ user_json: string }>('SELECT user_json FROM members WHERE user_id = ?', userId).toArray()[0];
    this.dropMember(userId, row?.user_json ?? null);
  }

  private setIdentity(conversationId: string, kind: string): void {
    this.set('conversation_id', conversationId);
    this.set('kind', kind);
    this.identity = { conversationId, kind };
  }

  private upsertMember(member: RoomMember): void {
    this.sql.exec(
      'INSERT INTO members (user_id, user_json, request) VALUES (?, ?, ?) ON CONFLICT(user_id) DO UPDATE SET user_json = excluded.user_json, request = excluded.request',
      member.userId,
      JSON.stringify(member.user),
      member.request ? 1 : 0,
    );
  }

  /** Removed from (or left) this conversation: 4003 for a community chat (whose membership follows the community's), 4403 otherwise. */
  private closeCode(): number {
    return this.kind() === 'community' ? CLOSE_LEFT_COMMUNITY : CLOSE_REMOVED;
  }

  /** Forgets a member (keeping how they looked, for their old messages) and closes their sockets. */
  private dropMember(userId: string, userJson: string | null): void {
    if (userJson !== null) {
      this.set(`former:${userId}`, userJson);
      this.sql.exec('DELETE FROM members WHERE user_id = ?', userId);
    }
    for (const ws of this.ctx.getWebSockets(userId)) ws.close(this.closeCode(), 'removed from the conversation');
  }

  /** The conversation is gone (its community was deleted): close every socket and erase the messages. */
  async dissolve(): Promise<void> {
    for (const ws of this.ctx.getWebSockets()) ws.close(CLOSE_DELETED, 'the conversation was deleted');
    this.identity = null;
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
    this.createSchema();
  }

  // ------------------------------------------------------------------ messages

  /**
   * Sends a message. A retry with the same `clientId` from the same sender returns the original
   * (created: false). The message is stored (with the index marked dirty, in one transaction) before it
   * is acknowledged or broadcast.
   */
  async send(
    senderId: string,
    input: { content: string; media: MessageMedia[]; clientId: string | null; sender?: PublicUser; awaitIndex?: boolean },
  ): Promise<RoomResult<{ message: Message; created: boolean }>> {
    if (!this.member(senderId)) return refuse(404, NOT_A_MEMBER);
    if (input.clientId) {
      const existing = this.sql.exec<Row>('SELECT * FROM messages WHERE sender_id = ? AND client_id = ?', senderId, input.clientId).toArray()[0];
      if (existing) return ok({ message: this.present(existing), created: false });
    }
    const content = input.content.trim();
    if (!content && input.media.length === 0) return refuse(400, 'content: a message needs text or at least one media item', 'content');
    if (content.length > MAX_MESSAGE_LENGTH) return refuse(400, `content: must be at most ${MAX_MESSAGE_LENGTH} characters`, 'content');
    // Keyword rules, on REST and socket sends alike (both come through here). Chat is live: a hold
    // cannot keep a message back without breaking seq order for the others, so it refuses like a reject.
    const verdict = await evaluateText(this.env.DB, [{ field: 'content', text: content }], 'message');
    if (verdict.action === 'reject') return refuse(422, 'content: contains a word or phrase that is not allowed here', 'content');
    const { success } = await this.env.RL_MESSAGES.limit({ key: `messages:${senderId}` });
    if (!success) return refuse(429, 'You are sending messages too fast; slow down.');
    if (this.kind() === 'direct') {
      // The recipient's message policy and blocks, decided where every conversation membership is (src/policy/messaging.ts).
      const other = this.sql.exec<{ user_id: string }>('SELECT user_id FROM members WHERE user_id != ?', senderId).toArray()[0]?.user_id;
      const refusal = await directSendRefusal(this.env.DB, senderId, other, other !== undefined && (await this.startedBy()) === other);
      if (refusal === 'blocked') return refuse(403, 'You cannot message this user.');
      if (refusal === 'gone') return refuse(403, 'The other person has left this conversation.', undefined, 'messages_not_accepted');
      if (refusal === 'not_accepted') return refuse(403, 'This user does not accept messages from you (their message_policy).', undefined, 'messages_not_accepted');
    }
    // After the awaits: a retry may have landed meanwhile.
    if (input.clientId) {
      const existing = this.sql.exec<Row>('SELECT * FROM messages WHERE sender_id = ? AND client_id = ?', senderId, input.clientId).toArray()[0];
      if (existing) return ok({ message: this.present(existing), created: false });
    }
    if (input.sender) this.sql.exec('UPDATE members SET user_json = ? WHERE user_id = ?', JSON.stringify(input.sender), senderId);

    // Synchronous from here on: seq assignment, storage, index flag and broadcast cannot interleave.
    const seq = this.lastSeq() + 1;
    const now = Date.now();
    const id = newId(now);
    this.ctx.storage.transactionSync(() => {
      this.sql.exec(
        'INSERT INTO messages (seq, id, sender_id, content, media, client_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
        seq,
        id,
        senderId,
        content,
        JSON.stringify(input.media),
        input.clientId,
        now,
      );
      // A sender has read everything up to their own message, and replying accepts a message request.
      this.sql.exec('UPDATE members SET last_read_seq = ?, request = 0 WHERE user_id = ?', seq, senderId);
      this.markIndexDirty();
      // A flagged message is delivered, and its report is kept here with it until D1 has it.
      if (verdict.action === 'flag') this.queueReport(verdict.reason, id, senderId, content, input.media);
    });
    if (verdict.action === 'flag') this.ctx.waitUntil(this.flushReports());
    const message = this.present(this.messageAt(seq)!);
    this.broadcast({ type: 'message.new', message });
    const recipientIds = this.notificationRecipients(senderId);
    publishEvent(
      { type: 'new_message', actorId: senderId, conversationId: this.conversationId(), messageId: message.id, seq, recipientIds, sender: message.sender, content: message.content, createdAt: message.created_at },
      { env: this.env, baseUrl: '' },
      (p) => this.ctx.waitUntil(p),
    );
    // REST senders read their own write in GET /conversations; socket sends do not wait for D1.
    const indexed = this.requestFlush();
    if (input.awaitIndex) await indexed;
    return ok({ message, created: true });
  }

  /**
   * Who a new message notifies. Members looking at the conversation (a socket open on it) see it; the
   * others get notified, except that a message request notifies its member once until they accept it:
   * the first message of a direct request (a group request already sent `conversation_invite`). A
   * community chat notifies nobody: with thousands of members, one message would mean thousands of
   * notifications; its unread counts in GET /conversations still track it.
   */
  private notificationRecipients(senderId: string): string[] {
    if (this.kind() === 'community') return [];
    const direct = this.kind() === 'direct';
    const out: string[] = [];
    for (const m of this.sql.exec<{ user_id: string; request: number; notified: number }>('SELECT user_id, request, notified FROM members WHERE user_id != ?', senderId)) {
      if (this.ctx.getWebSockets(m.user_id).length > 0) continue;
      if (m.request === 1) {
        if (!direct || m.notified === 1) continue;
        this.sql.exec('UPDATE members SET notified = 1 WHERE user_id = ?', m.user_id);
      }
      out.push(m.user_id);
    }
    return out;
  }

  /** Who started the conversation: set by configure, or read once from D1 for rooms configured before it was. */
  private async startedBy(): Promise<string | null> {
    const known = this.get('created_by');
    if (known) return known;
    const row = await this.env.DB.prepare('SELECT created_by FROM conversations WHERE id = ?1').bind(this.conversationId()).first<{ created_by: string }>();
    if (row) this.set('created_by', row.created_by);
    return row?.created_by ?? null;
  }

  /** Messages for a member: descending before `beforeSeq`, or ascending after `afterSeq`. */
  async history(userId: string, query: { beforeSeq?: number; afterSeq?: number; limit: number }): Promise<RoomResult<{ messages: Message[]; more: boolean }>> {
    if (!this.member(userId)) return refuse(404, NOT_A_MEMBER);
    const rows =
      query.afterSeq !== undefined
        ? this.sql.exec<Row>('SELECT * FROM messages WHERE seq > ? ORDER BY seq ASC LIMIT ?', query.afterSeq, query.limit + 1).toArray()
        : this.sql.exec<Row>('SELECT * FROM messages WHERE seq < ? ORDER BY seq DESC LIMIT ?', query.beforeSeq ?? Number.MAX_SAFE_INTEGER, query.limit + 1).toArray();
    return ok({ messages: rows.slice(0, query.limit).map((r) => this.present(r)), more: rows.length > query.limit });
  }

  /** The sender edits their message; tombstones cannot be edited. */
  async edit(userId: string, seq: number, content: string): Promise<RoomResult<Message>> {
    const found = this.ownMessage(userId, seq);
    if (!found.ok) return found;
    const text = content.trim();
    if (!text && (JSON.parse(found.value.media as string) as unknown[]).length === 0) return refuse(400, 'content: must not be blank', 'content');
    if (text.length > MAX_MESSAGE_LENGTH) return refuse(400, `content: must be at most ${MAX_MESSAGE_LENGTH} characters`, 'content');
    const verdict = await evaluateText(this.env.DB, [{ field: 'content', text }], 'message');
    if (verdict.action === 'reject') return refuse(422, 'content: contains a word or phrase that is not allowed here', 'content');
    // The row may have changed during the await (deleted by its sender or a moderator).
    if (this.messageAt(seq)?.deleted !== 0) return refuse(404, 'No such message.');
    this.ctx.storage.transactionSync(() => {
      this.sql.exec('UPDATE messages SET content = ?, edited_at = ? WHERE seq = ?', text, Date.now(), seq);
      this.markIndexDirty();
      if (verdict.action === 'flag') this.queueReport(verdict.reason, found.value.id as string, userId, text, JSON.parse(found.value.media as string) as MessageMedia[]);
    });
    if (verdict.action === 'flag') this.ctx.waitUntil(this.flushReports());
    const message = this.present(this.messageAt(seq)!);
    this.broadcast({ type: 'message.updated', message });
    await this.requestFlush();
    return ok(message);
  }

  /** The sender deletes their message: it keeps its seq and becomes a tombstone. */
  async remove(userId: string, seq: number): Promise<RoomResult<null>> {
    const found = this.ownMessage(userId, seq);
    if (!found.ok) return found;
    this.ctx.storage.transactionSync(() => {
      this.sql.exec("UPDATE messages SET deleted = 1, content = '', media = '[]' WHERE seq = ?", seq);
      this.markIndexDirty();
    });
    this.broadcast({ type: 'message.deleted', conversation_id: this.conversationId(), seq });
    await this.requestFlush();
    return ok(null);
  }

  private ownMessage(userId: string, seq: number): RoomResult<Row> {
    if (!this.member(userId)) return refuse(404, NOT_A_MEMBER);
    const row = this.messageAt(seq);
    if (!row || row.deleted === 1) return refuse(404, 'No such message.');
    if (row.sender_id !== userId) return refuse(403, 'Only the sender can change a message.');
    return ok(row);
  }

  /** Marks messages read up to `seq` (everything when omitted); the position never moves back. */
  async markRead(userId: string, seq?: number): Promise<RoomResult<{ last_read_seq: number; unread_count: number }>> {
    const member = this.member(userId);
    if (!member) return refuse(404, NOT_A_MEMBER);
    const target = Math.max(member.lastReadSeq, Math.min(seq ?? Number.MAX_SAFE_INTEGER, this.lastSeq()));
    if (target !== member.lastReadSeq) {
      this.ctx.storage.transactionSync(() => {
        this.sql.exec('UPDATE members SET last_read_seq = ? WHERE user_id = ?', target, userId);
        this.markIndexDirty();
      });
      this.broadcast({ type: 'read', user_id: userId, seq: target });
      await this.requestFlush();
    }
    return ok({ last_read_seq: target, unread_count: this.unreadFor(userId, target) });
  }

  // ------------------------------------------------------------------ the D1 index

  private markIndexDirty(): void {
    this.set('index_version', String(Number(this.get('index_version') ?? '0') + 1));
    // If the object is evicted before a flush completes, the alarm finds the index still dirty.
    if (!this.safetyAlarmSet) {
      this.safetyAlarmSet = true;
      void this.ctx.storage.setAlarm(Date.now() + 30_000);
    }
  }

  private indexDirty(): boolean {
    return (this.get('index_version') ?? '0') !== (this.get('index_synced') ?? '0');
  }

  /**
   * Starts a flush loop, or joins the one running: it resolves once the index reflects every write made
   * before it finishes (or a failure has scheduled the retry alarm). Coalesces bursts of messages into
   * a few D1 batches.
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
   * Brings D1's index (last message, activity time, each member's unread count and read position) to
   * the room's current state. Values are absolute, computed from this room's storage at flush time, so
   * applying twice or out of order cannot drift. On failure an alarm retries with backoff.
   */
  async flushIndex(): Promise<boolean> {
    const conversationId = this.conversationId();
    const version = this.get('index_version') ?? '0';
    if (!conversationId) return false; // not configured yet: nothing to index
    if (version === (this.get('index_synced') ?? '0')) return true;
    const last = this.sql.exec<Row>('SELECT * FROM messages WHERE deleted = 0 ORDER BY seq DESC LIMIT 1').toArray()[0];
    const lastAny = this.sql.exec<{ seq: number | null; at: number | null }>('SELECT MAX(seq) AS seq, MAX(created_at) AS at FROM messages').one();
    const activity = lastAny.at ?? Date.now();
    const members = this.sql.exec<{ user_id: string; last_read_seq: number; request: number }>('SELECT user_id, last_read_seq, request FROM members').toArray();
    const db = this.env.DB;
    // Messages sent since the last flush count towards the admin stats' messages_1d (hourly buckets).
    const counted = Number(this.get('stats_seq') ?? '0');
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
          .bind(conversationId, lastAny.seq ?? 0, last ? JSON.stringify(this.present(last)) : null, activity),
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
            JSON.stringify(members.map((m) => ({ id: m.user_id, u: this.unreadFor(m.user_id, m.last_read_seq), r: m.last_read_seq, q: m.request }))),
            activity,
          ),
      ]);
    } catch (err) {
      const attempt = Number(this.get('index_attempts') ?? '0') + 1;
      this.set('index_attempts', String(attempt));
      await this.ctx.storage.setAlarm(Date.now() + retryDelay(attempt));
      console.error(JSON.stringify({ level: 'warn', message: 'index update deferred', conversation_id: conversationId, attempt, error: String(err) }));
      return false;
    }
    // Only what was flushed is marked synced: a write that landed meanwhile keeps the index dirty.
    this.set('index_synced', version);
    if (fresh) this.set('stats_seq', String(counted + fresh));
    this.set('index_attempts', '0');
    return true;
  }

  override async alarm(): Promise<void> {
    this.safetyAlarmSet = false;
    await this.requestFlush();
    await this.flushReports();
  }

  // ------------------------------------------------------------------ moderation

  /** Keeps an automatic report about a flagged message in this room's storage (inside the caller's transaction). */
  private queueReport(reason: NonNullable<NewReport['auto']>, messageId: string, senderId: string, content: string, media: MessageMedia[]): void {
    const report: NewReport = {
      reporterId: null,
      subjectType: 'message',
      subjectId: messageId,
      subjectUserId: senderId,
      conversationId: this.conversationId(),
      category: 'other',
      auto: reason,
      snapshot: { author: this.member(senderId)?.user ?? null, content, media: media as unknown as Record<string, unknown>[] },
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
      await this.ctx.storage.setAlarm(Date.now() + 60_000);
    }
  }

  /** A member's view of one message by id, for a report's snapshot: 404 unless it exists and is not deleted. */
  async messageForReport(userId: string, messageId: string): Promise<RoomResult<Message>> {
    if (!this.member(userId)) return refuse(404, NOT_A_MEMBER);
    const row = this.sql.exec<Row>('SELECT * FROM messages WHERE id = ?', messageId).toArray()[0];
    if (!row || row.deleted === 1) return refuse(404, 'No such message.');
    return ok(this.present(row));
  }

  /**
   * A moderator's `remove_content`: the message becomes a tombstone for everyone (every socket gets
   * `message.deleted`, the index's last message is recomputed). True when the message exists.
   */
  async removeByModerator(messageId: string): Promise<boolean> {
    const row = this.sql.exec<Row>('SELECT seq, deleted FROM messages WHERE id = ?', messageId).toArray()[0];
    if (!row) return false;
    if (row.deleted === 1) return true;
    const seq = row.seq as number;
    this.ctx.storage.transactionSync(() => {
      this.sql.exec("UPDATE messages SET deleted = 1, content = '', media = '[]' WHERE seq = ?", seq);
      this.markIndexDirty();
    });
    this.broadcast({ type: 'message.deleted', conversation_id: this.conversationId(), seq });
    await this.requestFlush();
    return true;
  }

  /** Closes every socket a user has on this room (a suspension), without changing membership. */
  async closeSocketsOf(userId: string, code: number, reason: string): Promise<void> {
    for (const ws of this.ctx.getWebSockets(userId)) {
      try {
        ws.close(code, reason);
      } catch {
        // already closing
      }
    }
  }

  // ------------------------------------------------------------------ sockets

  /**
   * WebSocket upgrade, already authenticated by the worker (which passes the user in `X-Kith-User`).
   * `?after_seq=N` first replays every message after N, in order, then the socket is live. Replay and
   * acceptance run synchronously, so no message can slip between them.
   */
  override async fetch(request: Request): Promise<Response> {
    const userId = request.headers.get('X-Kith-User');
    if (!userId || !this.member(userId)) return new Response('not a member', { status: 404 });
    const pair = new WebSocketPair();
    const [client, server] = [pair[0], pair[1]];
    this.ctx.acceptWebSocket(server, [userId]);
    server.serializeAttachment({ userId } satisfies Attachment);
    const after = Number(new URL(request.url).searchParams.get('after_seq'));
    if (Number.isInteger(after) && after >= 0 && new URL(request.url).searchParams.has('after_seq')) {
      for (const row of this.sql.exec<Row>('SELECT * FROM messages WHERE seq > ? ORDER BY seq ASC', after)) {
        server.send(JSON.stringify({ type: 'message.new', message: this.present(row) }));
      }
    }
    return new Response(null, { status: 101, webSocket: client });
  }

  override async webSocketMessage(ws: WebSocket, raw: string | ArrayBuffer): Promise<void> {
    const { userId } = ws.deserializeAttachment() as Attachment;
    const error = (status: number, detail: string) => ws.send(JSON.stringify({ type: 'error', status, detail }));
    let frame: Record<string, unknown>;
    try {
      frame = JSON.parse(typeof raw === 'string' ? raw : new TextDecoder().decode(raw));
    } catch {
      return error(400, 'frames must be JSON');
    }
    if (typeof frame !== 'object' || frame === null || Array.isArray(frame)) return error(400, 'frames must be JSON objects');
    if (!this.member(userId)) {
      ws.close(this.closeCode(), 'removed from the conversation');
      return;
    }
    switch (frame.type) {
      case 'message.send': {
        if (typeof frame.client_id !== 'string' || frame.client_id.length === 0 || frame.client_id.length > 100) return error(400, 'client_id: a string of 1..100 characters is required');
        if (typeof frame.content !== 'string') return error(400, 'content: must be a string');
        if (frame.media_ids !== undefined) return error(400, 'media_ids: attach media through POST /api/v1/conversations/{id}/messages');
        const content = cleanText(frame.content, 'multi_line');
        if (!content.ok) return error(400, `content: ${content.message}`);
        const result = await this.send(userId, { content: content.value, media: [], clientId: frame.client_id });
        if (!result.ok) return error(result.status, result.detail);
        ws.send(JSON.stringify({ type: 'ack', client_id: frame.client_id, seq: result.value.message.seq }));
        return;
      }
      case 'typing': {
        const user = this.member(userId)?.user;
        for (const other of this.ctx.getWebSockets()) {
          if ((other.deserializeAttachment() as Attachment).userId !== userId) other.send(JSON.stringify({ type: 'typing', user }));
        }
        return;
      }
      case 'read': {
        if (frame.seq !== undefined && (typeof frame.seq !== 'number' || !Number.isInteger(frame.seq) || frame.seq < 0)) return error(400, 'seq: must be a non-negative integer');
        const result = await this.markRead(userId, frame.seq as number | undefined);
        if (!result.ok) return error(result.status, result.detail);
        return;
      }
      default:
        return error(400, 'type: must be message.send, typing, read or ping');
    }
  }

  override async webSocketClose(ws: WebSocket, code: number): Promise<void> {
    try {
      ws.close(code === 1005 ? 1000 : code, 'closing');
    } catch {
      // already closed
    }
  }

  private broadcast(frame: unknown): void {
    const text = JSON.stringify(frame);
    for (const ws of this.ctx.getWebSockets()) {
      try {
        ws.send(text);
      } catch {
        // A socket closing under us is not an error for the others.
      }
    }
  }
}
