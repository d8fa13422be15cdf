import { newId } from '../../lib/ids';
import { evaluateText } from '../../policy/content-rules';
import { directSendRefusal } from '../../policy/messaging';
import { holdMedia } from '../media/media-holds';
import { keyOfMediaUrl } from '../media/media.keys';
import { forgetContent } from '../notifications/removed-content';
import { publishEvent } from '../notifications/events';
import { presentHiddenUser } from '../users/users.presenter';
import type { PublicUser } from '../users/users.schemas';
import type { RoomAlarms } from './room-alarms';
import type { RoomSockets } from './room-protocol';
import type { RoomOutbox } from './room-outbox';
import { attachmentsOf, type MessageRow, type RoomStore } from './room-store';
import { type CallRecord, MAX_MESSAGE_LENGTH, type Message, type MessageMedia, type MessageVersion, NOT_A_MEMBER, type RefusalStatus, type RoomResult } from './room.types';

export const refuse = (status: RefusalStatus, detail: string, field?: string, code?: 'messages_not_accepted') => ({ ok: false as const, status, detail, field, code });
export const ok = <T>(value: T) => ({ ok: true as const, value });

/**
 * How long the room keeps, out of everyone's sight, a message its sender deleted (as it was) and each
 * earlier version of an edited message (text and media, from when an edit replaced it), so that the
 * people it was sent to can still report what was said: abuse is often unsent, or edited into something
 * harmless, once it has been read. Then the room's alarm erases them ({@link KEPT_JOB}); the images they
 * point at are held in D1 as long (src/modules/media/media-holds.ts). A moderator's removal and an
 * account's erasure keep nothing.
 */
export const KEEP_FOR_REPORTS_MS = 30 * 24 * 60 * 60 * 1000;
/** The alarm job that erases kept copies (named when it kept only unsent messages; rooms have it stored under this name). */
export const KEPT_JOB = 'withdrawn';
/**
 * Earlier versions one message may have within {@link KEEP_FOR_REPORTS_MS}: past it an edit is refused
 * (409) instead of dropping the oldest, so that storage stays bounded and a burst of edits cannot push
 * the version that was reported out of the window.
 */
export const MAX_KEPT_VERSIONS = 20;

export interface SendInput {
  content: string;
  media: MessageMedia[];
  clientId: string | null;
  sender?: PublicUser;
  awaitIndex?: boolean;
}

/**
 * A ConversationRoom's messages: the single writer that assigns gap-free `seq` (from 1), stores each
 * message before acknowledging or broadcasting it, broadcasts in seq order, and marks the index dirty
 * in the same transaction. Sends from REST and from sockets both come through {@link send}.
 */
export class RoomMessages {
  constructor(
    private readonly ctx: DurableObjectState,
    private readonly env: Env,
    private readonly store: RoomStore,
    private readonly sockets: RoomSockets,
    private readonly outbox: RoomOutbox,
    private readonly alarms: RoomAlarms,
  ) {}

  /**
   * Sends a message. A retry with the same `clientId` from the same sender returns the original
   * (created: false). The message is stored (with the index marked dirty, in one transaction) before it
   * is acknowledged or broadcast.
   */
  async send(senderId: string, input: SendInput): Promise<RoomResult<{ message: Message; created: boolean }>> {
    const { store } = this;
    if (!store.member(senderId)) return refuse(404, NOT_A_MEMBER);
    const retried = () => (input.clientId ? store.messageByClientId(senderId, input.clientId) : undefined);
    const earlier = retried();
    if (earlier) return ok({ message: store.present(earlier), created: false });
    const content = input.content.trim();
    if (!content && input.media.length === 0) return refuse(400, 'content: a message needs text or at least one media item', 'content');
    if (content.length > MAX_MESSAGE_LENGTH) return refuse(400, `content: must be at most ${MAX_MESSAGE_LENGTH} characters`, 'content');
    // Keyword rules, on REST and socket sends alike (both come through here). Chat is live: a hold
    // cannot keep a message back without breaking seq order for the others, so it refuses like a reject.
    const verdict = await evaluateText(this.env.DB, [{ field: 'content', text: content }], 'message');
    if (verdict.action === 'reject') return refuse(422, 'content: contains a word or phrase that is not allowed here', 'content');
    const refused = await this.mayReachOthers(senderId);
    if (refused) return refused;
    // Its attachments are in use before the message exists (room-outbox.ts, recordMedia).
    const id = newId();
    await this.outbox.recordMedia(id, input.media);
    // After the awaits: a retry may have landed meanwhile (and this message's rows are not needed).
    const raced = retried();
    if (raced) {
      if (input.media.length > 0) {
        this.ctx.storage.transactionSync(() => {
          this.outbox.releaseMedia(id, input.media);
          this.outbox.markIndexDirty();
        });
        this.ctx.waitUntil(this.outbox.requestFlush());
      }
      return ok({ message: store.present(raced), created: false });
    }
    if (input.sender) store.refreshMemberUser(senderId, input.sender);

    // Synchronous from here on: seq assignment, storage, index flag and broadcast cannot interleave.
    const message = this.append(senderId, { id, content, media: input.media, clientId: input.clientId }, () => {
      // A flagged message is delivered, and its report is kept here with it until D1 has it.
      if (verdict.action === 'flag') this.outbox.queueReport(verdict.reason, id, senderId, content, input.media);
    });
    if (verdict.action === 'flag') this.ctx.waitUntil(this.outbox.flushReports());
    publishEvent(
      {
        type: 'new_message',
        actorId: senderId,
        conversationId: store.conversationId(),
        messageId: message.id,
        seq: message.seq,
        recipientIds: this.notificationRecipients(senderId),
        sender: message.sender,
        content: message.content,
        createdAt: message.created_at,
      },
      { env: this.env, baseUrl: '' },
      (p) => this.ctx.waitUntil(p),
    );
    // REST senders read their own write in GET /conversations; socket sends do not wait for D1.
    const indexed = this.outbox.requestFlush();
    if (input.awaitIndex) await indexed;
    return ok({ message, created: true });
  }

  /**
   * Stores the next message and broadcasts it (synchronously: seq order holds). `also` runs inside the
   * same transaction with the new message's id.
   */
  private append(senderId: string, input: { id?: string; content: string; media: MessageMedia[]; clientId: string | null; call?: CallRecord }, also?: (id: string) => void): Message {
    const { store } = this;
    const seq = store.lastSeq() + 1;
    const now = Date.now();
    const id = input.id ?? newId(now);
    this.ctx.storage.transactionSync(() => {
      store.insertMessage({ seq, id, senderId, content: input.content, media: input.media, clientId: input.clientId, createdAt: now, call: input.call });
      store.readOwn(senderId, seq);
      this.outbox.markIndexDirty();
      also?.(id);
    });
    const message = store.present(store.messageAt(seq)!);
    this.broadcastMessage('message.new', message);
    return message;
  }

  /**
   * A new or edited message to every socket; members across a block from its sender see them as a hidden
   * user, and so does everyone while the sender is suspended.
   */
  private broadcastMessage(type: 'message.new' | 'message.updated', message: Message): void {
    const senderId = message.sender.id;
    const hiddenFrame = { type, message: { ...message, sender: presentHiddenUser(senderId) } };
    if (this.store.suspended().has(senderId)) this.sockets.broadcast(hiddenFrame);
    else this.sockets.broadcast({ type, message }, this.store.blockedWith(senderId), hiddenFrame);
  }

  /**
   * What a send and an edit (which reaches the others as a new message does) both pass: the sender's
   * message rate (`RL_MESSAGES`), and in a direct conversation the recipient's message policy and blocks,
   * decided where every conversation membership is (src/policy/messaging.ts). Null when it may go ahead.
   */
  private async mayReachOthers(senderId: string): Promise<Extract<RoomResult<never>, { ok: false }> | null> {
    const { success } = await this.env.RL_MESSAGES.limit({ key: `messages:${senderId}` });
    if (!success) return refuse(429, 'You are sending messages too fast; slow down.');
    if (this.store.kind() !== 'direct') return null;
    const other = this.otherMember(senderId);
    const refusal = await directSendRefusal(this.env.DB, senderId, other, other !== undefined && (await this.startedBy()) === other);
    if (refusal === 'blocked') return refuse(403, 'You cannot message this user.');
    if (refusal === 'gone') return refuse(403, 'The other person has left this conversation.', undefined, 'messages_not_accepted');
    if (refusal === 'not_accepted') return refuse(403, 'This user does not accept messages from you (their message_policy).', undefined, 'messages_not_accepted');
    return null;
  }

  /** The record of a call that ended, in the history as a `kind: "call"` message from its caller (it notifies nobody). */
  recordCall(callerId: string, call: CallRecord, content: string): Message {
    const message = this.append(callerId, { content, media: [], clientId: null, call });
    this.ctx.waitUntil(this.outbox.requestFlush());
    return message;
  }

  /** The other member of a direct conversation. */
  otherMember(userId: string): string | undefined {
    return this.store.members().find((m) => m.userId !== userId)?.userId;
  }

  /**
   * Who a new message notifies. Members looking at the conversation (a socket open on it) see it; the
   * others get notified, except that a message request notifies its member once until they accept it:
   * the first message of a direct request (a group request already sent `conversation_invite`). A
   * community chat notifies nobody: with thousands of members, one message would mean thousands of
   * notifications; its unread counts in GET /conversations still track it.
   */
  private notificationRecipients(senderId: string): string[] {
    const { store } = this;
    if (store.kind() === 'community') return [];
    const direct = store.kind() === 'direct';
    const out: string[] = [];
    for (const m of store.members()) {
      if (m.userId === senderId || this.sockets.has(m.userId)) continue;
      if (m.request) {
        if (!direct || m.notified) continue;
        store.markNotified(m.userId);
      }
      out.push(m.userId);
    }
    return out;
  }

  /** Who started the conversation: set by configure, or read once from D1 for rooms configured before it was. */
  async startedBy(): Promise<string | null> {
    const known = this.store.get('created_by');
    if (known) return known;
    const row = await this.env.DB.prepare('SELECT created_by FROM conversations WHERE id = ?1').bind(this.store.conversationId()).first<{ created_by: string }>();
    if (row) this.store.set('created_by', row.created_by);
    return row?.created_by ?? null;
  }

  /** Messages for a member: descending before `beforeSeq`, or ascending after `afterSeq`. */
  history(userId: string, query: { beforeSeq?: number; afterSeq?: number; limit: number }): RoomResult<{ messages: Message[]; more: boolean }> {
    const { store } = this;
    if (!store.member(userId)) return refuse(404, NOT_A_MEMBER);
    const rows = query.afterSeq !== undefined ? store.messagesAfter(query.afterSeq, query.limit + 1) : store.messagesBefore(query.beforeSeq ?? Number.MAX_SAFE_INTEGER, query.limit + 1);
    const hidden = store.hiddenFrom(userId);
    return ok({ messages: rows.slice(0, query.limit).map((r) => store.present(r, hidden)), more: rows.length > query.limit });
  }

  /**
   * The sender edits their message; tombstones and call records cannot be edited. An edit reaches the
   * others as a new message does, so it passes what a send passes (rate, and in a direct conversation
   * blocks and the recipient's message policy): a block or a tightened policy stops edits as it stops sends.
   */
  async edit(userId: string, seq: number, content: string): Promise<RoomResult<Message>> {
    const { store } = this;
    const found = this.ownMessage(userId, seq);
    if (!found.ok) return found;
    if (found.value.kind === 'call') return refuse(403, 'A call record cannot be edited.');
    const text = content.trim();
    // An edit changes the text only: the attachments stay (and stay in use).
    if (!text && attachmentsOf(found.value).length === 0) return refuse(400, 'content: must not be blank', 'content');
    if (text.length > MAX_MESSAGE_LENGTH) return refuse(400, `content: must be at most ${MAX_MESSAGE_LENGTH} characters`, 'content');
    const verdict = await evaluateText(this.env.DB, [{ field: 'content', text }], 'message');
    if (verdict.action === 'reject') return refuse(422, 'content: contains a word or phrase that is not allowed here', 'content');
    const refused = await this.mayReachOthers(userId);
    if (refused) return refused;
    const now = Date.now();
    const atCap = (id: string) =>
      store.versionCount(id, now - KEEP_FOR_REPORTS_MS) >= MAX_KEPT_VERSIONS
        ? refuse(409, `This message was edited ${MAX_KEPT_VERSIONS} times in the last 30 days, the most it may be; send a new message instead.`)
        : null;
    // Checked before the hold as well, so a refused edit holds nothing.
    const capped = atCap(found.value.id as string);
    if (capped) return capped;
    // The version it replaces is kept, and so are its images.
    await this.holdMediaOf(found.value, now);
    // The row may have changed during the awaits (deleted by its sender or a moderator, edited again).
    const current = store.messageAt(seq);
    if (current?.deleted !== 0) return refuse(404, 'No such message.');
    const cappedNow = atCap(current.id as string);
    if (cappedNow) return cappedNow;
    this.ctx.storage.transactionSync(() => {
      store.keepVersion(current, now);
      this.alarms.schedule(KEPT_JOB, now + KEEP_FOR_REPORTS_MS);
      store.updateContent(seq, text, now);
      this.outbox.markIndexDirty();
      if (verdict.action === 'flag') this.outbox.queueReport(verdict.reason, found.value.id as string, userId, text, attachmentsOf(found.value));
    });
    if (verdict.action === 'flag') this.ctx.waitUntil(this.outbox.flushReports());
    const message = store.present(store.messageAt(seq)!);
    this.broadcastMessage('message.updated', message);
    await this.outbox.requestFlush();
    return ok(message);
  }

  /**
   * The sender deletes their message: it keeps its seq and becomes a tombstone. Answers the keys of the
   * images it carried (no longer in use by it: see {@link tombstone}).
   */
  async remove(userId: string, seq: number): Promise<RoomResult<string[]>> {
    const found = this.ownMessage(userId, seq);
    if (!found.ok) return found;
    const now = Date.now();
    await this.holdMediaOf(found.value, now);
    // Deleted or edited meanwhile: only the row as it is now may become the kept copy.
    const current = this.ownMessage(userId, seq);
    if (!current.ok) return current;
    const keys = await this.tombstone(seq, { keptAt: now });
    // Taken back means gone everywhere: the new_message notifications quoting its text go too.
    const recipients = this.store.members().map((m) => m.userId).filter((id) => id !== userId);
    this.ctx.waitUntil(forgetContent(this.env, { messageId: found.value.id as string }, recipients).catch(() => undefined));
    return ok(keys);
  }

  /**
   * A deleted account: every message it sent becomes a tombstone (a `message.deleted` frame each, the
   * index's last message and unread counts recomputed, their attachments released), and the room forgets
   * it as a member and as a former one. Idempotent: a second call finds nothing left to change. Answers
   * the keys of the images those messages carried.
   */
  async eraseAccount(userId: string): Promise<string[]> {
    let erased: MessageRow[] = [];
    let keys: string[] = [];
    this.ctx.storage.transactionSync(() => {
      erased = this.store.eraseAccount(userId);
      keys = erased.flatMap((row) => this.outbox.releaseMedia(row.id as string, attachmentsOf(row)));
      this.outbox.markIndexDirty();
    });
    for (const row of erased) this.sockets.broadcast({ type: 'message.deleted', conversation_id: this.store.conversationId(), seq: row.seq as number });
    await this.outbox.requestFlush();
    return keys;
  }

  /**
   * Before a copy of `row` is kept at `at` (an unsent message, a version an edit replaces): D1 holds the
   * images it carries as long as the copy lives, so their owner deleting the uploads leaves them to staff.
   * Awaited first, so no moment has a kept copy whose images could go; a failure fails the change.
   */
  private async holdMediaOf(row: MessageRow, at: number): Promise<void> {
    await holdMedia(this.env.DB, attachmentsOf(row).map((m) => keyOfMediaUrl(m.url)), at + KEEP_FOR_REPORTS_MS);
  }

  /**
   * Makes a live message a tombstone. Its attachments stop being in use by it: the index flush (awaited
   * here) deletes its message_media rows, and a trigger withdraws an image nothing else uses. Answers
   * their keys, so the caller purges the edge copies. With `keptAt` (its sender deleted it) the room
   * keeps it as it was, with its earlier versions; without (a moderator's removal) it keeps nothing.
   */
  private async tombstone(seq: number, options: { keptAt?: number } = {}): Promise<string[]> {
    let keys: string[] = [];
    this.ctx.storage.transactionSync(() => {
      const row = this.store.messageAt(seq)!;
      if (options.keptAt !== undefined) {
        this.store.keepWithdrawn(row, options.keptAt);
        this.alarms.schedule(KEPT_JOB, options.keptAt + KEEP_FOR_REPORTS_MS);
      } else {
        this.store.forgetVersions(row.id as string);
      }
      keys = this.outbox.releaseMedia(row.id as string, attachmentsOf(row));
      this.store.tombstone(seq);
      this.outbox.markIndexDirty();
    });
    this.sockets.broadcast({ type: 'message.deleted', conversation_id: this.store.conversationId(), seq });
    await this.outbox.requestFlush();
    return keys;
  }

  private ownMessage(userId: string, seq: number): RoomResult<MessageRow> {
    if (!this.store.member(userId)) return refuse(404, NOT_A_MEMBER);
    const row = this.store.messageAt(seq);
    if (!row || row.deleted === 1) return refuse(404, 'No such message.');
    if (row.sender_id !== userId) return refuse(403, 'Only the sender can change a message.');
    return ok(row);
  }

  /**
   * Marks messages read up to `seq` (everything when omitted); the position never moves back. The others
   * are told (`read`), except while the conversation is a message request for this member: then only
   * their own devices are, and whoever sent it learns nothing of them until they accept it. Members
   * across a block from them are never told.
   */
  async markRead(userId: string, seq?: number): Promise<RoomResult<{ last_read_seq: number; unread_count: number }>> {
    const { store } = this;
    const member = store.member(userId);
    if (!member) return refuse(404, NOT_A_MEMBER);
    const target = Math.max(member.lastReadSeq, Math.min(seq ?? Number.MAX_SAFE_INTEGER, store.lastSeq()));
    if (target !== member.lastReadSeq) {
      this.ctx.storage.transactionSync(() => {
        store.setLastRead(userId, target);
        this.outbox.markIndexDirty();
      });
      const frame = { type: 'read' as const, user_id: userId, seq: target };
      if (member.request) this.sockets.sendTo([userId], frame);
      else this.sockets.broadcast(frame, store.blockedWith(userId));
      await this.outbox.requestFlush();
    }
    return ok({ last_read_seq: target, unread_count: store.unreadFor(userId, target) });
  }

  /**
   * A member's view of one message by id, for a report's snapshot: 404 unless it exists and is not
   * deleted, or was deleted by its sender within {@link KEEP_FOR_REPORTS_MS}: then as it was sent. With
   * it, the earlier versions its edits replaced within that window, oldest first.
   */
  messageForReport(userId: string, messageId: string): RoomResult<{ message: Message; versions: MessageVersion[] }> {
    if (!this.store.member(userId)) return refuse(404, NOT_A_MEMBER);
    const since = Date.now() - KEEP_FOR_REPORTS_MS;
    const row = this.store.messageById(messageId);
    const shown = row?.deleted === 0 ? row : row ? this.store.withdrawnRow(messageId, since) : null;
    if (!shown) return refuse(404, 'No such message.');
    return ok({ message: this.store.present(shown), versions: this.store.versionsOf(messageId, since) });
  }

  /** The alarm's {@link KEPT_JOB}: erases the kept copies past {@link KEEP_FOR_REPORTS_MS}, and comes back for the next one. */
  pruneKept(): void {
    const oldest = this.store.pruneKept(Date.now() - KEEP_FOR_REPORTS_MS);
    if (oldest !== null) this.alarms.schedule(KEPT_JOB, oldest + KEEP_FOR_REPORTS_MS);
  }

  /**
   * A moderator's `remove_content`: the message becomes a tombstone for everyone (every socket gets
   * `message.deleted`, the index's last message is recomputed, its attachments are released). Answers
   * the keys of the images it carried (none when it is unknown or already a tombstone).
   */
  async removeByModerator(messageId: string): Promise<string[]> {
    const row = this.store.messageById(messageId);
    return row && row.deleted !== 1 ? this.tombstone(row.seq as number) : [];
  }
}
