import type { PublicUser } from '../users/users.schemas';

/** Limits of a message: non-empty unless media is attached. */
export const MAX_MESSAGE_LENGTH = 4000;
export const MAX_MESSAGE_MEDIA = 10;

export interface MessageMedia {
  id: string;
  url: string;
  content_type: string;
  width: number;
  height: number;
}

export const CALL_MEDIA = ['audio', 'video'] as const;
export type CallMedia = (typeof CALL_MEDIA)[number];
export const CALL_END_REASONS = ['hangup', 'rejected', 'timeout', 'failed'] as const;
export type CallEndReason = (typeof CALL_END_REASONS)[number];

/** What a `kind: "call"` message records about a call that ended. */
export interface CallRecord {
  call_id: string;
  media: CallMedia;
  duration_s: number;
  reason: CallEndReason;
}

/** A message as clients see it (REST bodies and socket frames). */
export interface Message {
  id: string;
  conversation_id: string;
  seq: number;
  /** "text" (written by its sender) or "call" (the record of a call, written by the room when it ended). */
  kind: 'text' | 'call';
  sender: PublicUser;
  content: string;
  media: MessageMedia[];
  /** The call a `kind: "call"` message records; null on text messages. */
  call: CallRecord | null;
  client_id: string | null;
  created_at: string;
  edited_at: string | null;
  deleted: boolean;
}

/** An earlier text (and media) of an edited message, kept for reports: see room-messages.ts, KEEP_FOR_REPORTS_MS. */
export interface MessageVersion {
  content: string;
  media: MessageMedia[];
  /** When an edit replaced it (ISO 8601). */
  replaced_at: string;
}

export interface RoomMember {
  userId: string;
  user: PublicUser;
  /** The conversation is a message request for this member (src/policy/messaging.ts). */
  request?: boolean;
}

/** What a room answers to someone it does not know as a member. */
export const NOT_A_MEMBER = 'No such conversation.';

/** Room operations answer with a value or a refusal the worker turns into a problem response. */
export type RoomResult<T> =
  | { ok: true; value: T }
  | { ok: false; status: RefusalStatus; detail: string; field?: string; code?: 'messages_not_accepted' };

/** The statuses a room refuses with (REST problems and socket error frames alike). */
export type RefusalStatus = 400 | 403 | 404 | 409 | 413 | 422 | 429;

/** Close codes of conversation sockets: removed from or left a group or direct conversation; left a community; conversation deleted. */
export const CLOSE_REMOVED = 4403;
export const CLOSE_LEFT_COMMUNITY = 4003;
export const CLOSE_DELETED = 4004;
/** A member opened more sockets on the conversation than {@link MAX_SOCKETS_PER_MEMBER}: their oldest is closed. */
export const CLOSE_TOO_MANY_SOCKETS = 4429;

/** Sockets one member may keep open on one conversation (tabs and devices); a new one past it closes their oldest. */
export const MAX_SOCKETS_PER_MEMBER = 10;
/** Most messages a socket replays on connect (`?after_seq=`); further behind, the upgrade is refused (409) and the client pages history first. */
export const MAX_REPLAY = 1000;
/** Largest client frame the room reads (room-protocol.ts); larger ones are refused unread (413). */
export const MAX_FRAME_BYTES = 128 * 1024;
/** Client frames per member and conversation, across their sockets: a burst of this many ... */
export const FRAME_BURST = 60;
/** ... refilled at this many a second (pings, answered by the runtime, are not counted). */
export const FRAME_RATE_PER_S = 10;

/** A member's frame budget: {@link FRAME_RATE_PER_S} and {@link FRAME_BURST}, or `ROOM_FRAME_RATE` a second (a burst of six seconds' worth). */
export interface FrameBudget {
  rate: number;
  burst: number;
}

export function frameBudget(setting: string | undefined): FrameBudget {
  const rate = Number(setting);
  return Number.isFinite(rate) && rate >= 1 ? { rate, burst: rate * (FRAME_BURST / FRAME_RATE_PER_S) } : { rate: FRAME_RATE_PER_S, burst: FRAME_BURST };
}
