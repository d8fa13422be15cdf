import { frameKind, type MetricsBinding, recordFrame } from '../../lib/metrics';
import { cleanText } from '../../policy/text-hygiene';
import type { ConversationServerFrame } from './room-frames';
import type { RoomStore } from './room-store';
import type { RefusalStatus, RoomResult } from './room.types';

/** What each socket remembers: its user, and the session (device) it was opened with, so signing that device out closes it. */
export type Attachment = { userId: string; sessionId?: string };
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
  ) {}

  /** One data point per frame sent, with how many sockets it reached. */
  private count(frame: unknown, sockets: number): void {
    if (sockets > 0) recordFrame(this.metrics, { socket: 'conversation', direction: 'out', kind: frameKind(frame), sockets });
  }

  accept(userId: string, sessionId?: string): { client: WebSocket; server: WebSocket } {
    const pair = new WebSocketPair();
    const [client, server] = [pair[0], pair[1]];
    this.ctx.acceptWebSocket(server, [userId]);
    server.serializeAttachment({ userId, sessionId } satisfies Attachment);
    return { client, server };
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
      try {
        ws.close(code, reason);
      } catch {
        // already closing
      }
    }
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
  let frame: Frame;
  try {
    frame = JSON.parse(typeof raw === 'string' ? raw : new TextDecoder().decode(raw));
  } catch {
    return reply(errorFrame(400, 'frames must be JSON'));
  }
  handlers.received?.(frameKind(frame));
  if (typeof frame !== 'object' || frame === null || Array.isArray(frame)) return reply(errorFrame(400, 'frames must be JSON objects'));
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
