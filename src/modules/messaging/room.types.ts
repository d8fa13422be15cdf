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

/** A message as clients see it (REST bodies and socket frames). */
export interface Message {
  id: string;
  conversation_id: string;
  seq: number;
  sender: PublicUser;
  content: string;
  media: MessageMedia[];
  client_id: string | null;
  created_at: string;
  edited_at: string | null;
  deleted: boolean;
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
  | { ok: false; status: 400 | 403 | 404 | 422 | 429; detail: string; field?: string; code?: 'messages_not_accepted' };

/** Close codes of conversation sockets: removed from or left a group or direct conversation; left a community; conversation deleted. */
export const CLOSE_REMOVED = 4403;
export const CLOSE_LEFT_COMMUNITY = 4003;
export const CLOSE_DELETED = 4004;
