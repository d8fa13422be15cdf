import { DurableObject } from 'cloudflare:workers';
import { exclusively } from '../../lib/concurrency';
import { recordFrame } from '../../lib/metrics';
import { suspendedAmong } from '../../policy/visibility';
import { blockedEitherOf, blocksAmong } from '../graph/relations';
import { RoomAlarms } from './room-alarms';
import { RoomCalls } from './room-calls';
import { KEPT_JOB, RoomMessages, type SendInput } from './room-messages';
import { OUTBOX_JOB, RoomOutbox } from './room-outbox';
import { errorFrame, type Frame, handleFrame, RoomSockets } from './room-protocol';
import { RoomStore } from './room-store';
import { CLOSE_DELETED, CLOSE_LEFT_COMMUNITY, CLOSE_REMOVED, frameBudget, MAX_REPLAY, type Message, type MessageVersion, type RoomMember, type RoomResult } from './room.types';
import type { Bindings } from '../../lib/types';

/**
 * Set once the room has read from D1 the blocks between its members and which of its people are
 * suspended (rooms made before kept neither, or only the blocks: those read both again, once).
 */
const HIDDEN_SYNCED = 'hidden_synced';

/**
 * One Durable Object per conversation, wiring the parts that live beside it: its storage
 * (room-store.ts), its messages (room-messages.ts: the single writer of gap-free `seq`), the outbox that
 * keeps D1's index and flagged-message reports current (room-outbox.ts), the socket protocol
 * (room-protocol.ts), call signalling (room-calls.ts), and the one alarm they share (room-alarms.ts).
 */
export class ConversationRoom extends DurableObject<Env> {
  private readonly store: RoomStore;
  private readonly alarms: RoomAlarms;
  private readonly outbox: RoomOutbox;
  private readonly sockets: RoomSockets;
  private readonly messages: RoomMessages;
  private readonly calls: RoomCalls;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const sql = ctx.storage.sql;
    this.store = new RoomStore(sql);
    this.alarms = new RoomAlarms(ctx.storage, sql);
    this.outbox = new RoomOutbox(ctx, env, this.store, sql, this.alarms);
    this.sockets = new RoomSockets(ctx, env.METRICS, frameBudget((env as Bindings).ROOM_FRAME_RATE));
    this.messages = new RoomMessages(ctx, env, this.store, this.sockets, this.outbox, this.alarms);
    this.calls = new RoomCalls(ctx, env, this.store, this.sockets, this.alarms, this.messages, sql);
    // Answered by the runtime without waking the object.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair('{"type":"ping"}', '{"type":"pong"}'));
    // A room configured before it kept blocks and suspensions learns them once, before anything else runs.
    if (this.store.conversationId() && this.store.get(HIDDEN_SYNCED) === null) void ctx.blockConcurrencyWhile(() => this.syncHidden());
  }

  // ------------------------------------------------------------------ membership

  /**
   * Sets the conversation's identity, members and who started it (the worker calls it on create and on
   * every membership change). Removed members leave any call and their sockets are closed at once.
   */
  async configure(conversationId: string, kind: string, members: RoomMember[], createdBy?: string): Promise<void> {
    this.store.setIdentity(conversationId, kind);
    if (createdBy) this.store.set('created_by', createdBy);
    const keep = new Set(members.map((m) => m.userId));
    for (const m of this.store.members()) if (!keep.has(m.userId)) this.dropMember(m.userId);
    for (const m of members) this.store.upsertMember(m);
    await this.syncHidden();
    this.outbox.markIndexDirty();
    await this.outbox.requestFlush();
  }

  /**
   * Adds (or refreshes) one member without resending the whole list: what a community's chat uses on
   * every join, so a join costs the same in a community of ten or of ten thousand.
   */
  async addMember(conversationId: string, kind: string, member: RoomMember): Promise<void> {
    this.store.setIdentity(conversationId, kind);
    this.store.upsertMember(member);
    await this.refreshBlocks(member.userId);
    this.outbox.markIndexDirty();
    await this.outbox.requestFlush();
  }

  /**
   * Re-reads from D1 the blocks of `userId` with the other members (after they joined, blocked or
   * unblocked someone). The room keeps them so that members across a block see each other as hidden
   * users, get none of each other's typing or reads, and share no call (room-store.ts, blockedWith;
   * room-calls.ts).
   */
  async refreshBlocks(userId: string): Promise<void> {
    const members = new Set(this.store.members().map((m) => m.userId));
    const pairs = [...(await blockedEitherOf(this.env.DB, userId))].filter((id) => members.has(id)).map((id): [string, string] => [userId, id]);
    this.calls.blocksChanged(() => this.store.replaceBlocks(pairs, userId));
  }

  /**
   * Re-reads from D1 whether an account the room shows (a member, or a former one whose messages it
   * keeps) is suspended: after a suspension or its lift. While it is, everyone sees it as a hidden user
   * (room-store.ts, hiddenFrom), as if the account were gone, and it leaves any call at once (the
   * suspension closes its sockets itself). Lifted, it shows as itself again. Called by the fan-out queue's
   * `account.standing` (src/queues/fanout.ts), possibly again or late: D1 decides, and calls run one at a
   * time, so an older read never lands after a newer one.
   */
  async refreshSuspension(userId: string): Promise<void> {
    if (!this.store.conversationId()) return; // never configured, or dissolved: nothing to show
    await exclusively(this.ctx, async () => {
      const suspended = (await suspendedAmong(this.env.DB, [userId])).length > 0;
      this.store.setSuspended(userId, suspended);
      if (suspended) this.calls.memberGone(userId);
    });
  }

  /** Re-reads from D1 every block between members and which of the room's people are suspended. */
  private async syncHidden(): Promise<void> {
    const [pairs, suspended] = await Promise.all([blocksAmong(this.env.DB, this.store.members().map((m) => m.userId)), suspendedAmong(this.env.DB, this.store.people())]);
    this.calls.blocksChanged(() => this.store.replaceBlocks(pairs));
    this.store.replaceSuspended(suspended);
    this.store.set(HIDDEN_SYNCED, '1');
  }

  /** Removes one member and closes their sockets at once (4003 in a community chat). Unknown users are ignored. */
  async removeMember(userId: string): Promise<void> {
    this.dropMember(userId);
  }

  /** Forgets a member (keeping how they looked, for their old messages), takes them out of the call, closes their sockets. */
  private dropMember(userId: string): void {
    this.calls.memberGone(userId);
    const userJson = this.store.memberJson(userId);
    if (userJson !== null) this.store.forgetMember(userId, userJson);
    this.sockets.close(userId, this.closeCode(), 'removed from the conversation');
  }

  /** Removed from (or left) this conversation: 4003 for a community chat (whose membership follows the community's), 4403 otherwise. */
  private closeCode(): number {
    return this.store.kind() === 'community' ? CLOSE_LEFT_COMMUNITY : CLOSE_REMOVED;
  }

  /**
   * An account was deleted (its D1 memberships are already gone): it leaves any call, its sockets close,
   * its messages become tombstones and its profile is forgotten (`sender: null`), while everything the
   * others sent stays. A direct or group conversation nobody is left in goes entirely, here and in D1.
   * Idempotent, so the fan-out queue may deliver it again (src/queues/fanout.ts). Answers the keys of
   * the images that messages stopped carrying (their edge copies are purged by the caller).
   */
  async forgetAccount(userId: string): Promise<string[]> {
    const conversationId = this.store.conversationId();
    if (!conversationId) return []; // never configured, or already dissolved
    this.calls.memberGone(userId);
    this.sockets.close(userId, this.closeCode(), 'the account was deleted');
    const released = await this.messages.eraseAccount(userId);
    if (this.store.kind() === 'community') return released; // a community's chat ends with its community
    const db = this.env.DB;
    const [, left] = await db.batch<{ n: number }>([
      db.prepare("DELETE FROM conversations WHERE id = ?1 AND kind != 'community' AND NOT EXISTS (SELECT 1 FROM conversation_members WHERE conversation_id = ?1)").bind(conversationId),
      db.prepare('SELECT COUNT(*) AS n FROM conversations WHERE id = ?1').bind(conversationId),
    ]);
    return left?.results[0]?.n === 0 ? [...released, ...(await this.dissolve())] : released;
  }

  /**
   * The conversation is gone (its community was deleted): close every socket and erase the messages.
   * D1's message_media rows went with the conversation's row (cascade); answers the keys of the images
   * its messages carried.
   */
  async dissolve(): Promise<string[]> {
    const keys = this.store.liveMediaKeys();
    this.sockets.close(undefined, CLOSE_DELETED, 'the conversation was deleted');
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
    this.store.createSchema();
    this.alarms.createSchema();
    this.outbox.createSchema();
    this.calls.calls.createSchema();
    return keys;
  }

  // ------------------------------------------------------------------ messages (room-messages.ts)

  async send(senderId: string, input: SendInput): Promise<RoomResult<{ message: Message; created: boolean }>> {
    return this.messages.send(senderId, input);
  }

  async history(userId: string, query: { beforeSeq?: number; afterSeq?: number; limit: number }): Promise<RoomResult<{ messages: Message[]; more: boolean }>> {
    return this.messages.history(userId, query);
  }

  async edit(userId: string, seq: number, content: string): Promise<RoomResult<Message>> {
    return this.messages.edit(userId, seq, content);
  }

  async remove(userId: string, seq: number): Promise<RoomResult<string[]>> {
    return this.messages.remove(userId, seq);
  }

  async markRead(userId: string, seq?: number): Promise<RoomResult<{ last_read_seq: number; unread_count: number }>> {
    return this.messages.markRead(userId, seq);
  }

  async messageForReport(userId: string, messageId: string): Promise<RoomResult<{ message: Message; versions: MessageVersion[] }>> {
    return this.messages.messageForReport(userId, messageId);
  }

  async removeByModerator(messageId: string): Promise<string[]> {
    return this.messages.removeByModerator(messageId);
  }

  // ------------------------------------------------------------------ the outbox and the alarm

  /** Brings D1's index up to date now (room-outbox.ts); false when it is not configured or the write failed. */
  async flushIndex(): Promise<boolean> {
    return this.outbox.flushIndex();
  }

  override async alarm(): Promise<void> {
    await this.alarms.run(async (job) => {
      if (job === OUTBOX_JOB) return this.outbox.retry();
      if (job === KEPT_JOB) return this.messages.pruneKept();
      return this.calls.runJob(job);
    });
  }

  // ------------------------------------------------------------------ sockets (room-protocol.ts)

  /**
   * Closes every socket a user has on this room (a suspension), or only those opened with the given
   * sessions (devices signed out), without changing membership.
   */
  async closeSocketsOf(userId: string, code: number, reason: string, sessionIds?: string[]): Promise<void> {
    this.sockets.close(userId, code, reason, sessionIds);
  }

  /**
   * WebSocket upgrade, already authenticated by the worker (which passes the user in `X-Kith-User` and
   * the session in `X-Kith-Session`).
   * `?after_seq=N` first replays every message after N, in order, then the socket is live (and a call
   * still ringing for the user rings again); more than {@link MAX_REPLAY} behind, it is refused (409).
   * Replay and acceptance run synchronously, so no message can slip between them.
   */
  override async fetch(request: Request): Promise<Response> {
    const userId = request.headers.get('X-Kith-User');
    if (!userId || !this.store.member(userId)) return new Response('not a member', { status: 404 });
    const params = new URL(request.url).searchParams;
    const after = Number(params.get('after_seq'));
    const replay = Number.isInteger(after) && after >= 0 && params.has('after_seq');
    // A replay is sent in one go: one too long would hold the whole history in memory (the worker answers 409).
    if (replay && this.store.lastSeq() - after > MAX_REPLAY) return new Response('too far behind', { status: 409 });
    const { client, server } = this.sockets.accept(userId, request.headers.get('X-Kith-Session') ?? undefined);
    if (replay) {
      const hidden = this.store.hiddenFrom(userId);
      for (const row of this.store.messagesAfter(after)) server.send(JSON.stringify({ type: 'message.new', message: this.store.present(row, hidden) }));
    }
    this.calls.replay(server, userId);
    return new Response(null, { status: 101, webSocket: client });
  }

  override async webSocketMessage(ws: WebSocket, raw: string | ArrayBuffer): Promise<void> {
    await handleFrame(this.store, this.sockets, {
      send: async (userId, clientId, content) => {
        const result = await this.messages.send(userId, { content, media: [], clientId });
        return result.ok ? { ok: true, value: { seq: result.value.message.seq } } : result;
      },
      markRead: (userId, seq) => this.messages.markRead(userId, seq),
      received: (kind) => recordFrame(this.env.METRICS, { socket: 'conversation', direction: 'in', kind, sockets: 1 }),
      call: (socket, userId, frame: Frame) => this.calls.handle(socket, userId, frame),
      notAMember: (socket, frame) => {
        // A call frame learns why before the socket goes; other frames just see it close.
        if (typeof frame.type === 'string' && frame.type.startsWith('call.')) socket.send(JSON.stringify(errorFrame(403, 'You are not a member of this conversation.', typeof frame.call_id === 'string' ? frame.call_id : undefined)));
        socket.close(this.closeCode(), 'removed from the conversation');
      },
    }, ws, raw);
  }

  override async webSocketClose(ws: WebSocket, code: number): Promise<void> {
    this.calls.socketClosed(ws, this.sockets.owner(ws));
    try {
      ws.close(code === 1005 ? 1000 : code, 'closing');
    } catch {
      // already closed
    }
  }
}
