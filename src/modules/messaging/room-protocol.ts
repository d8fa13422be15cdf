import { frameKind, type MetricsBinding, recordFrame } from '../../lib/metrics';
import { cleanText } from '../../policy/text-hygiene';
import type { ConversationServerFrame } from './room-frames';
import type { RoomStore } from './room-store';
import { CLOSE_TOO_MANY_SOCKETS, type FrameBudget, frameBudget, MAX_FRAME_BYTES, MAX_SOCKETS_PER_MEMBER, type RefusalStatus, type RoomResult } from './room.types';

/**
 * What each socket remembers: its user, the session (device) it was opened with, so signing that device
 * out closes it, and when it opened (the oldest goes first past {@link MAX_SOCKETS_PER_MEMBER}).
 */
export type Attachment = { userId: string; sessionId?: string; openedAt?: number };
/** Past this many members with a frame budget in memory, the room forgets them all (which only refills them). */
const MAX_BUDGETS = 2000;
export type Frame = Record<string, unknown>;
/** A refusal sent back on the socket that caused it. */
export type ErrorFrame = { type: 'error'; status: RefusalStatus; detail: string; call_id?: string; client_id?: string };

/**
 * The sockets of a ConversationRoom (hibernation API, each tagged with its user's id): accepting them,
 * sending to one user, to a set of users or to everyone, and closing them.
 */
export class RoomSockets {
  constructor(
    private readonly ctx: DurableObjectState,
    private readonly metrics?: MetricsBinding,
    /** Each member's frame budget (see {@link takeFrame}). */
    readonly budget: FrameBudget = frameBudget(undefined),
  ) {}

  /** One data point per frame sent, with how many sockets it reached. */
  private count(frame: unknown, sockets: number): void {
    if (sockets > 0) recordFrame(this.metrics, { socket: 'conversation', direction: 'out', kind: frameKind(frame), sockets });
  }

  /**
   * Accepts a member's socket. Past {@link MAX_SOCKETS_PER_MEMBER} open on this conversation, their oldest
   * ones are closed (4429): a member cannot make every frame of the room go out thousands of times, and
   * someone with a stale tab is never locked out.
   */
  accept(userId: string, sessionId?: string): { client: WebSocket; server: WebSocket } {
    const open = this.of(userId);
    if (open.length >= MAX_SOCKETS_PER_MEMBER) {
      const openedAt = (ws: WebSocket) => (ws.deserializeAttachment() as Attachment).openedAt ?? 0;
      const oldest = open.sort((x, y) => openedAt(x) - openedAt(y)).slice(0, open.length - MAX_SOCKETS_PER_MEMBER + 1);
      for (const ws of oldest) closeQuietly(ws, CLOSE_TOO_MANY_SOCKETS, `at most ${MAX_SOCKETS_PER_MEMBER} sockets per member on a conversation`);
    }
    const pair = new WebSocketPair();
    const [client, server] = [pair[0], pair[1]];
    this.ctx.acceptWebSocket(server, [userId]);
    server.serializeAttachment({ userId, sessionId, openedAt: Date.now() } satisfies Attachment);
    return { client, server };
  }

  /** Frame budgets per member (in memory: a room that hibernated was idle, so a fresh budget is right). */
  private readonly budgets = new Map<string, { tokens: number; at: number }>();

  /** Takes one frame from the member's budget (a burst, refilled at a rate a second: {@link FrameBudget}); false when it is spent. */
  takeFrame(userId: string, now = Date.now()): boolean {
    if (this.budgets.size >= MAX_BUDGETS && !this.budgets.has(userId)) this.budgets.clear();
    const budget = this.budgets.get(userId) ?? { tokens: this.budget.burst, at: now };
    budget.tokens = Math.min(this.budget.burst, budget.tokens + ((now - budget.at) / 1000) * this.budget.rate);
    budget.at = now;
    this.budgets.set(userId, budget);
    if (budget.tokens < 1) return false;
    budget.tokens -= 1;
    return true;
  }

  owner(ws: WebSocket): string {
    return (ws.deserializeAttachment() as Attachment).userId;
  }

  /** The user's sockets that are still open (`except` one of them, e.g. the one closing). */
  of(userId: string, except?: WebSocket): WebSocket[] {
    return this.ctx.getWebSockets(userId).filter((ws) => ws !== except && ws.readyState !== WebSocket.CLOSING && ws.readyState !== WebSocket.CLOSED);
  }

  has(userId: string): boolean {
    return this.ctx.getWebSockets(userId).length > 0;
  }

  /** Sends to every socket of each user in `userIds`, skipping `except` (the sender's own socket). */
  sendTo(userIds: Iterable<string>, frame: ConversationServerFrame, except?: WebSocket): void {
    const text = JSON.stringify(frame);
    let sent = 0;
    for (const userId of new Set(userIds)) for (const ws of this.ctx.getWebSockets(userId)) if (ws !== except) sent += send(ws, text);
    this.count(frame, sent);
  }

  /**
   * Sends to every socket, except that the sockets of the users in `hidden` (those across a block from
   * whoever the frame is about) get `hiddenFrame` instead, or nothing without one.
   */
  broadcast(frame: ConversationServerFrame, hidden?: ReadonlySet<string>, hiddenFrame?: ConversationServerFrame): void {
    const text = JSON.stringify(frame);
    const hiddenText = hiddenFrame ? JSON.stringify(hiddenFrame) : null;
    let sent = 0;
    for (const ws of this.ctx.getWebSockets()) {
      if (!hidden?.size || !hidden.has(this.owner(ws))) sent += send(ws, text);
      else if (hiddenText !== null) sent += send(ws, hiddenText);
    }
    this.count(frame, sent);
  }

  /** Everyone but `userId` and the users in `hidden` (typing indicators). */
  others(userId: string, frame: ConversationServerFrame, hidden?: ReadonlySet<string>): void {
    const text = JSON.stringify(frame);
    let sent = 0;
    for (const ws of this.ctx.getWebSockets()) {
      const owner = this.owner(ws);
      if (owner !== userId && !hidden?.has(owner)) sent += send(ws, text);
    }
    this.count(frame, sent);
  }

  /** Closes the user's sockets (everyone's without a user), or only those opened with `sessionIds`. */
  close(userId: string | undefined, code: number, reason: string, sessionIds?: string[]): void {
    for (const ws of userId === undefined ? this.ctx.getWebSockets() : this.ctx.getWebSockets(userId)) {
      if (sessionIds && !sessionIds.includes((ws.deserializeAttachment() as Attachment).sessionId ?? '')) continue;
      closeQuietly(ws, code, reason);
    }
  }
}

function closeQuietly(ws: WebSocket, code: number, reason: string): void {
  try {
    ws.close(code, reason);
  } catch {
    // already closing
  }
}

/** 1 when the frame went out, 0 when the socket was already closing. */
function send(ws: WebSocket, text: string): number {
  try {
    ws.send(text);
    return 1;
  } catch {
    // A socket closing under us is not an error for the others.
    return 0;
  }
}

/** A refusal; it names the refused call (`call_id`) or message send (`client_id`) when the frame had a valid one. */
export function errorFrame(status: RefusalStatus, detail: string, callId?: string, clientId?: string): ErrorFrame {
  const frame: ErrorFrame = { type: 'error', status, detail };
  if (callId !== undefined) frame.call_id = callId;
  if (clientId !== undefined) frame.client_id = clientId;
  return frame;
}

/** What the protocol asks of the room for each client frame. */
export interface RoomHandlers {
  send(userId: string, clientId: string, content: string): Promise<RoomResult<{ seq: number }>>;
  markRead(userId: string, seq: number | undefined): Promise<RoomResult<unknown>>;
  /** A `call.*` frame: answered with an error frame when refused. */
  call(ws: WebSocket, userId: string, frame: Frame): Promise<ErrorFrame | null>;
  /** A frame from someone who is no longer a member: their socket is closed. */
  notAMember(ws: WebSocket, frame: Frame): void;
  /** Told the kind of every frame received (metrics). */
  received?(kind: string): void;
}

/**
 * The conversation socket's protocol: parses each client frame, checks it, and hands it to the room.
 * Client → server: `message.send`, `typing`, `read`, the `call.*` frames, and `{"type":"ping"}` (answered
 * by the runtime without waking the object).
 */
export async function handleFrame(store: RoomStore, sockets: RoomSockets, handlers: RoomHandlers, ws: WebSocket, raw: string | ArrayBuffer): Promise<void> {
  const userId = sockets.owner(ws);
  const reply = (frame: ErrorFrame): void => void send(ws, JSON.stringify(frame));
  // Every frame counts against its member's budget, even one refused unread: a flood is answered, never relayed.
  const withinBudget = sockets.takeFrame(userId);
  const tooFast = (callId?: string, clientId?: string) => errorFrame(429, `frames: at most ${sockets.budget.rate} a second (bursts of ${sockets.budget.burst}) per member; this one was dropped`, callId, clientId);
  /** A frame refused before it was read: for what it is, unless it was over the budget anyway. */
  const unread = (status: 400 | 413, detail: string) => reply(withinBudget ? errorFrame(status, detail) : tooFast());
  if (frameBytes(raw) > MAX_FRAME_BYTES) return unread(413, `frames: at most ${MAX_FRAME_BYTES / 1024} KB`);
  let frame: Frame;
  try {
    frame = JSON.parse(typeof raw === 'string' ? raw : new TextDecoder().decode(raw));
  } catch {
    return unread(400, 'frames must be JSON');
  }
  handlers.received?.(frameKind(frame));
  if (typeof frame !== 'object' || frame === null || Array.isArray(frame)) return unread(400, 'frames must be JSON objects');
  if (!withinBudget) return reply(tooFast(validId(frame.call_id), frame.type === 'message.send' ? validId(frame.client_id) : undefined));
  if (!store.member(userId)) return handlers.notAMember(ws, frame);
  if (typeof frame.type === 'string' && frame.type.startsWith('call.')) {
    const refused = await handlers.call(ws, userId, frame);
    if (refused) reply(refused);
    return;
  }
  switch (frame.type) {
    case 'message.send': {
      if (typeof frame.client_id !== 'string' || frame.client_id.length === 0 || frame.client_id.length > 100) return reply(errorFrame(400, 'client_id: a string of 1..100 characters is required'));
      // From here on a refusal names the send it refuses, so a client can tell which of its pending sends failed.
      const clientId = frame.client_id;
      if (typeof frame.content !== 'string') return reply(errorFrame(400, 'content: must be a string', undefined, clientId));
      if (frame.media_ids !== undefined) return reply(errorFrame(400, 'media_ids: attach media through POST /api/v1/conversations/{id}/messages', undefined, clientId));
      const content = cleanText(frame.content, 'multi_line');
      if (!content.ok) return reply(errorFrame(400, `content: ${content.message}`, undefined, clientId));
      const result = await handlers.send(userId, clientId, content.value);
      if (!result.ok) return reply(errorFrame(result.status, result.detail, undefined, clientId));
      send(ws, JSON.stringify({ type: 'ack', client_id: frame.client_id, seq: result.value.seq }));
      return;
    }
    case 'typing': {
      // As with reads, a member of a message request shows no activity until they accept it, and nobody
      // across a block from them ever sees it.
      const member = store.member(userId)!;
      if (!member.request) sockets.others(userId, { type: 'typing', user: member.user }, store.blockedWith(userId));
      return;
    }
    case 'read': {
      if (frame.seq !== undefined && (typeof frame.seq !== 'number' || !Number.isInteger(frame.seq) || frame.seq < 0)) return reply(errorFrame(400, 'seq: must be a non-negative integer'));
      const result = await handlers.markRead(userId, frame.seq as number | undefined);
      if (!result.ok) return reply(errorFrame(result.status, result.detail));
      return;
    }
    default:
      return reply(errorFrame(400, 'type: must be message.send, typing, read, ping or one of the call.* frames'));
  }
}

/** A frame's size in bytes (strings are measured exactly only when they might be over the cap). */
function frameBytes(raw: string | ArrayBuffer): number {
  if (typeof raw !== 'string') return raw.byteLength;
  return raw.length * 3 <= MAX_FRAME_BYTES ? raw.length : new TextEncoder().encode(raw).byteLength;
}

/** A call_id or client_id as a refusal may echo it: a string of 1..100 characters, else nothing. */
function validId(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 && value.length <= 100 ? value : undefined;
}
