import { keyOfMediaUrl } from '../media/media.keys';
import { presentHiddenUser } from '../users/users.presenter';
import type { PublicUser } from '../users/users.schemas';
import type { CallRecord, Message, MessageMedia, MessageVersion, RoomMember } from './room.types';

export type MessageRow = Record<string, SqlStorageValue>;

/** The attachments a stored message carries (none once it is a tombstone). */
export const attachmentsOf = (row: { media?: SqlStorageValue }): MessageMedia[] => JSON.parse(row.media as string) as MessageMedia[];

/**
 * A ConversationRoom's own storage (its SQLite): the room's identity, its members and its messages.
 * Synchronous and free of side effects beyond the database, so the room's operations can compose
 * several writes into one `transactionSync`.
 */
export class RoomStore {
  /** The room's identity, read from storage once per instance (it survives hibernation there). */
  private identity: { conversationId: string; kind: string } | null = null;

  constructor(private readonly sql: SqlStorage) {
    this.createSchema();
  }

  /** The room's tables (also after the room was dissolved, so a late call finds an empty room). */
  createSchema(): void {
    this.identity = null;
    this.sql.exec(`
      CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT);
      CREATE TABLE IF NOT EXISTS members (user_id TEXT PRIMARY KEY, user_json TEXT NOT NULL, last_read_seq INTEGER NOT NULL DEFAULT 0);
      CREATE TABLE IF NOT EXISTS messages (
        seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, sender_id TEXT NOT NULL, content TEXT NOT NULL,
        media TEXT NOT NULL DEFAULT '[]', client_id TEXT, created_at INTEGER NOT NULL, edited_at INTEGER,
        deleted INTEGER NOT NULL DEFAULT 0);
      CREATE UNIQUE INDEX IF NOT EXISTS messages_sender_client ON messages (sender_id, client_id) WHERE client_id IS NOT NULL;
      CREATE TABLE IF NOT EXISTS blocks (user_id TEXT NOT NULL, other_id TEXT NOT NULL, PRIMARY KEY (user_id, other_id));
      CREATE TABLE IF NOT EXISTS suspended (user_id TEXT PRIMARY KEY);
      CREATE TABLE IF NOT EXISTS withdrawn (message_id TEXT PRIMARY KEY, sender_id TEXT NOT NULL, row TEXT NOT NULL, withdrawn_at INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS versions (message_id TEXT NOT NULL, sender_id TEXT NOT NULL, content TEXT NOT NULL, media TEXT NOT NULL, replaced_at INTEGER NOT NULL);
      CREATE INDEX IF NOT EXISTS versions_message ON versions (message_id, replaced_at);
      CREATE INDEX IF NOT EXISTS versions_replaced ON versions (replaced_at);
    `);
    // Rooms created before message requests and calls: add the columns their tables lack.
    const columns = (table: string) => new Set(this.sql.exec<{ name: string }>(`PRAGMA table_info(${table})`).toArray().map((c) => c.name));
    const memberColumns = columns('members');
    // request: a message request for this member; notified: its one notification went out.
    if (!memberColumns.has('request')) this.sql.exec('ALTER TABLE members ADD COLUMN request INTEGER NOT NULL DEFAULT 0');
    if (!memberColumns.has('notified')) this.sql.exec('ALTER TABLE members ADD COLUMN notified INTEGER NOT NULL DEFAULT 0');
    // kind: "text" or "call"; call: the call record of a call message (JSON).
    const messageColumns = columns('messages');
    if (!messageColumns.has('kind')) this.sql.exec("ALTER TABLE messages ADD COLUMN kind TEXT NOT NULL DEFAULT 'text'");
    if (!messageColumns.has('call')) this.sql.exec('ALTER TABLE messages ADD COLUMN call TEXT');
  }

  // ------------------------------------------------------------------ state and identity

  get(key: string): string | null {
    const row = this.sql.exec<{ value: string }>('SELECT value FROM state WHERE key = ?', key).toArray()[0];
    return row ? row.value : null;
  }

  set(key: string, value: string): void {
    this.sql.exec('INSERT INTO state (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value', key, value);
  }

  conversationId(): string {
    this.identity ??= this.get('conversation_id') ? { conversationId: this.get('conversation_id')!, kind: this.get('kind') ?? 'group' } : null;
    return this.identity?.conversationId ?? '';
  }

  kind(): string {
    this.conversationId();
    return this.identity?.kind ?? 'group';
  }

  setIdentity(conversationId: string, kind: string): void {
    this.set('conversation_id', conversationId);
    this.set('kind', kind);
    this.identity = { conversationId, kind };
  }

  // ------------------------------------------------------------------ members

  member(userId: string): { user: PublicUser; lastReadSeq: number; request: boolean } | null {
    const row = this.sql
      .exec<{ user_json: string; last_read_seq: number; request: number }>('SELECT user_json, last_read_seq, request FROM members WHERE user_id = ?', userId)
      .toArray()[0];
    return row ? { user: JSON.parse(row.user_json) as PublicUser, lastReadSeq: row.last_read_seq, request: row.request === 1 } : null;
  }

  /** Every member with their request state, in no particular order. */
  members(): { userId: string; userJson: string; lastReadSeq: number; request: boolean; notified: boolean }[] {
    return this.sql
      .exec<{ user_id: string; user_json: string; last_read_seq: number; request: number; notified: number }>('SELECT user_id, user_json, last_read_seq, request, notified FROM members')
      .toArray()
      .map((r) => ({ userId: r.user_id, userJson: r.user_json, lastReadSeq: r.last_read_seq, request: r.request === 1, notified: r.notified === 1 }));
  }

  upsertMember(member: RoomMember): void {
    this.sql.exec(
      'INSERT INTO members (user_id, user_json, request) VALUES (?, ?, ?) ON CONFLICT(user_id) DO UPDATE SET user_json = excluded.user_json, request = excluded.request',
      member.userId,
      JSON.stringify(member.user),
      member.request ? 1 : 0,
    );
  }

  /** Forgets a member, keeping how they looked for their old messages. */
  forgetMember(userId: string, userJson: string): void {
    this.set(`former:${userId}`, userJson);
    this.sql.exec('DELETE FROM members WHERE user_id = ?', userId);
  }

  /**
   * Erases a deleted account: no member row and no kept profile, so its messages show `sender: null`.
   * Its live messages (returned as they were, ascending by seq) become tombstones. Idempotent.
   */
  eraseAccount(userId: string): MessageRow[] {
    const erased = this.sql.exec<MessageRow>('SELECT * FROM messages WHERE sender_id = ? AND deleted = 0 ORDER BY seq', userId).toArray();
    this.sql.exec("UPDATE messages SET deleted = 1, content = '', media = '[]', call = NULL WHERE sender_id = ? AND deleted = 0", userId);
    this.sql.exec('DELETE FROM withdrawn WHERE sender_id = ?', userId);
    this.sql.exec('DELETE FROM versions WHERE sender_id = ?', userId);
    this.sql.exec('DELETE FROM members WHERE user_id = ?', userId);
    this.sql.exec('DELETE FROM state WHERE key = ?', `former:${userId}`);
    this.setSuspended(userId, false);
    return erased;
  }

  /** Everyone whose profile the room shows: its members, and the former members whose messages it keeps. */
  people(): string[] {
    const former = this.sql.exec<{ key: string }>("SELECT key FROM state WHERE key LIKE 'former:%'").toArray().map((r) => r.key.slice('former:'.length));
    return [...new Set([...this.members().map((m) => m.userId), ...former])];
  }

  /**
   * How the room shows someone (a member, or a former member, as they last looked): null for an erased
   * account; a hidden user when they are in `hidden` (the viewer's {@link hiddenFrom}).
   */
  profileOf(userId: string, hidden?: ReadonlySet<string>): PublicUser | null {
    const stored = (this.member(userId)?.user ?? JSON.parse(this.get(`former:${userId}`) ?? 'null')) as PublicUser | null;
    return stored && hidden?.has(userId) ? presentHiddenUser(userId) : stored;
  }

  memberJson(userId: string): string | null {
    return this.sql.exec<{ user_json: string }>('SELECT user_json FROM members WHERE user_id = ?', userId).toArray()[0]?.user_json ?? null;
  }

  refreshMemberUser(userId: string, user: PublicUser): void {
    this.sql.exec('UPDATE members SET user_json = ? WHERE user_id = ?', JSON.stringify(user), userId);
  }

  // ------------------------------------------------------------------ blocks between members

  /**
   * Members on either side of a block with `userId`: they see each other as hidden users and get none
   * of each other's typing or reads. A copy of D1's blocks among the members, kept by the room's
   * refreshBlocks (stored both ways).
   */
  blockedWith(userId: string): Set<string> {
    return new Set(this.sql.exec<{ other_id: string }>('SELECT other_id FROM blocks WHERE user_id = ?', userId).toArray().map((r) => r.other_id));
  }

  /**
   * Who `viewerId` sees as hidden users: members across a block from them, and every suspended account
   * of the room (everyone's view; without a viewer, only those).
   */
  hiddenFrom(viewerId?: string): Set<string> {
    const hidden = viewerId === undefined ? new Set<string>() : this.blockedWith(viewerId);
    for (const id of this.suspended()) if (id !== viewerId) hidden.add(id);
    return hidden;
  }

  /** The room's people whose account is suspended (a copy of D1's, kept by the room: see ConversationRoom.refreshSuspension). */
  suspended(): Set<string> {
    return new Set(this.sql.exec<{ user_id: string }>('SELECT user_id FROM suspended').toArray().map((r) => r.user_id));
  }

  /** Notes whether one account is suspended. */
  setSuspended(userId: string, suspended: boolean): void {
    if (suspended) this.sql.exec('INSERT OR IGNORE INTO suspended (user_id) VALUES (?)', userId);
    else this.sql.exec('DELETE FROM suspended WHERE user_id = ?', userId);
  }

  /** Replaces every suspension the room knows of by `userIds`. */
  replaceSuspended(userIds: string[]): void {
    this.sql.exec('DELETE FROM suspended');
    for (const id of userIds) this.setSuspended(id, true);
  }

  /** Replaces the blocks involving `userId` (all of them without a user) by `pairs` ([blocker, blocked]). */
  replaceBlocks(pairs: [string, string][], userId?: string): void {
    if (userId === undefined) this.sql.exec('DELETE FROM blocks');
    else this.sql.exec('DELETE FROM blocks WHERE user_id = ? OR other_id = ?', userId, userId);
    for (const [a, b] of pairs) {
      this.sql.exec('INSERT OR IGNORE INTO blocks (user_id, other_id) VALUES (?, ?), (?, ?)', a, b, b, a);
    }
  }

  markNotified(userId: string): void {
    this.sql.exec('UPDATE members SET notified = 1 WHERE user_id = ?', userId);
  }

  /** A sender has read everything up to their own message, and replying accepts a message request. */
  readOwn(userId: string, seq: number): void {
    this.sql.exec('UPDATE members SET last_read_seq = ?, request = 0 WHERE user_id = ?', seq, userId);
  }

  setLastRead(userId: string, seq: number): void {
    this.sql.exec('UPDATE members SET last_read_seq = ? WHERE user_id = ?', seq, userId);
  }

  // ------------------------------------------------------------------ messages

  lastSeq(): number {
    return this.sql.exec<{ seq: number | null }>('SELECT MAX(seq) AS seq FROM messages').one().seq ?? 0;
  }

  messageAt(seq: number): MessageRow | undefined {
    return this.sql.exec<MessageRow>('SELECT * FROM messages WHERE seq = ?', seq).toArray()[0];
  }

  messageById(id: string): MessageRow | undefined {
    return this.sql.exec<MessageRow>('SELECT * FROM messages WHERE id = ?', id).toArray()[0];
  }

  messageByClientId(senderId: string, clientId: string): MessageRow | undefined {
    return this.sql.exec<MessageRow>('SELECT * FROM messages WHERE sender_id = ? AND client_id = ?', senderId, clientId).toArray()[0];
  }

  /** The newest message that is not a tombstone: the index's `last_message`. */
  lastLiveMessage(): MessageRow | undefined {
    return this.sql.exec<MessageRow>('SELECT * FROM messages WHERE deleted = 0 ORDER BY seq DESC LIMIT 1').toArray()[0];
  }

  /** The highest seq and newest creation time, tombstones included. */
  lastActivity(): { seq: number | null; at: number | null } {
    return this.sql.exec<{ seq: number | null; at: number | null }>('SELECT MAX(seq) AS seq, MAX(created_at) AS at FROM messages').one();
  }

  insertMessage(row: { seq: number; id: string; senderId: string; content: string; media: MessageMedia[]; clientId: string | null; createdAt: number; call?: CallRecord }): void {
    this.sql.exec(
      'INSERT INTO messages (seq, id, sender_id, content, media, client_id, created_at, kind, call) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      row.seq,
      row.id,
      row.senderId,
      row.content,
      JSON.stringify(row.media),
      row.clientId,
      row.createdAt,
      row.call ? 'call' : 'text',
      row.call ? JSON.stringify(row.call) : null,
    );
  }

  updateContent(seq: number, content: string, at: number): void {
    this.sql.exec('UPDATE messages SET content = ?, edited_at = ? WHERE seq = ?', content, at, seq);
  }

  tombstone(seq: number): void {
    this.sql.exec("UPDATE messages SET deleted = 1, content = '', media = '[]' WHERE seq = ?", seq);
  }

  // ------------------------------------------------------------------ copies kept for reports

  /**
   * Kept copies, out of everyone's sight, that only a report by someone the message was sent to reads
   * (see room-messages.ts, KEEP_FOR_REPORTS_MS): `withdrawn` holds a message its sender deleted, as it
   * was; `versions` each earlier text (and media) of an edited message, with when it was replaced.
   */
  keepWithdrawn(row: MessageRow, at: number): void {
    this.sql.exec('INSERT OR REPLACE INTO withdrawn (message_id, sender_id, row, withdrawn_at) VALUES (?, ?, ?, ?)', row.id, row.sender_id, JSON.stringify(row), at);
  }

  /** Keeps the text and media a message had until an edit replaced them at `at` (see {@link keepWithdrawn}). */
  keepVersion(row: MessageRow, at: number): void {
    this.sql.exec('INSERT INTO versions (message_id, sender_id, content, media, replaced_at) VALUES (?, ?, ?, ?, ?)', row.id, row.sender_id, row.content, row.media, at);
  }

  /** The kept copy of a message its sender deleted after `after`, as its row was; null when there is none. */
  withdrawnRow(messageId: string, after: number): MessageRow | null {
    const kept = this.sql.exec<{ row: string }>('SELECT row FROM withdrawn WHERE message_id = ? AND withdrawn_at > ?', messageId, after).toArray()[0];
    return kept ? (JSON.parse(kept.row) as MessageRow) : null;
  }

  /** The earlier versions of a message replaced after `after`, oldest first. */
  versionsOf(messageId: string, after: number): MessageVersion[] {
    return this.sql
      .exec<{ content: string; media: string; replaced_at: number }>('SELECT content, media, replaced_at FROM versions WHERE message_id = ? AND replaced_at > ? ORDER BY replaced_at, rowid', messageId, after)
      .toArray()
      .map((v) => ({ content: v.content, media: attachmentsOf(v), replaced_at: new Date(v.replaced_at).toISOString() }));
  }

  /** How many earlier versions of a message were replaced after `after`. */
  versionCount(messageId: string, after: number): number {
    return this.sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM versions WHERE message_id = ? AND replaced_at > ?', messageId, after).one().n;
  }

  /** Erases the earlier versions of one message (a moderator removed it). */
  forgetVersions(messageId: string): void {
    this.sql.exec('DELETE FROM versions WHERE message_id = ?', messageId);
  }

  /** Erases the kept copies made at or before `before`; answers when the oldest one left was made (null: none left). */
  pruneKept(before: number): number | null {
    this.sql.exec('DELETE FROM withdrawn WHERE withdrawn_at <= ?', before);
    this.sql.exec('DELETE FROM versions WHERE replaced_at <= ?', before);
    return this.sql.exec<{ at: number | null }>('SELECT MIN(at) AS at FROM (SELECT MIN(withdrawn_at) AS at FROM withdrawn UNION ALL SELECT MIN(replaced_at) FROM versions)').one().at;
  }

  /** The keys of every image the live messages carry (what a dissolved room stops showing). */
  liveMediaKeys(): string[] {
    const rows = this.sql.exec<MessageRow>("SELECT media FROM messages WHERE deleted = 0 AND media != '[]'").toArray();
    return rows.flatMap((row) => attachmentsOf(row).map((m) => keyOfMediaUrl(m.url)));
  }

  /** Messages after `afterSeq` ascending, or before `beforeSeq` descending; `limit` rows at most. */
  messagesAfter(afterSeq: number, limit = -1): MessageRow[] {
    return this.sql.exec<MessageRow>('SELECT * FROM messages WHERE seq > ? ORDER BY seq ASC LIMIT ?', afterSeq, limit).toArray();
  }

  messagesBefore(beforeSeq: number, limit: number): MessageRow[] {
    return this.sql.exec<MessageRow>('SELECT * FROM messages WHERE seq < ? ORDER BY seq DESC LIMIT ?', beforeSeq, limit).toArray();
  }

  /** Unread for one member: other people's live messages after their read position. */
  unreadFor(userId: string, lastReadSeq: number): number {
    return this.sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM messages WHERE seq > ? AND sender_id != ? AND deleted = 0', lastReadSeq, userId).one().n;
  }

  /**
   * A message as clients see it; as a viewer sees it when `hiddenSenders` (their {@link hiddenFrom}) is
   * given: a sender across a block, or suspended, is a hidden user, whatever their profile is now.
   */
  present(row: MessageRow, hiddenSenders?: ReadonlySet<string>): Message {
    const sender = this.profileOf(row.sender_id as string, hiddenSenders) as PublicUser;
    const call = row.kind === 'call' && !row.deleted && typeof row.call === 'string' ? (JSON.parse(row.call) as CallRecord) : null;
    return {
      id: row.id as string,
      conversation_id: this.conversationId(),
      seq: row.seq as number,
      kind: row.kind === 'call' ? 'call' : 'text',
      sender,
      content: row.deleted ? '' : (row.content as string),
      media: row.deleted ? [] : attachmentsOf(row),
      call,
      client_id: (row.client_id as string | null) ?? null,
      created_at: new Date(row.created_at as number).toISOString(),
      edited_at: row.edited_at === null ? null : new Date(row.edited_at as number).toISOString(),
      deleted: row.deleted === 1,
    };
  }
}
