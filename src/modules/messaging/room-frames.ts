import { z } from '@hono/zod-openapi';
import { PublicUserSchema } from '../users/users.schemas';
import { MessageSchema } from './messaging.schemas';
import { CALL_END_REASONS, CALL_MEDIA, MAX_MESSAGE_LENGTH } from './room.types';

/**
 * The conversation socket's frames (GET /api/v1/conversations/{id}/stream), as zod schemas: the AsyncAPI
 * document (/asyncapi.json) is generated from them, and the room's senders are typed by them
 * (`RoomSockets`), so what the room sends and what the document says cannot drift apart. Each frame is
 * one JSON object whose `type` tells which.
 */

/** A call id as the caller chose it (the room refuses any other). */
export const CALL_ID = /^[A-Za-z0-9._:-]{1,100}$/;
const CallId = z.string().regex(CALL_ID).describe('The caller\'s id for the call: 1..100 of A-Z a-z 0-9 . _ : -');
const UserId = z.string().describe('A user id');
const Sdp = z.string().min(1).describe('A WebRTC session description (SDP), at most 64 KB');
/** Who sent a relayed call frame; null only for a member who has since left the conversation. */
const From = PublicUserSchema.nullable();
/** An RTCIceCandidateInit: only these fields are relayed (the room parses each candidate with this). */
export const IceCandidateSchema = z.object({
  candidate: z.string().max(2048),
  sdpMid: z.string().nullable().optional(),
  sdpMLineIndex: z.number().int().nullable().optional(),
  usernameFragment: z.string().nullable().optional(),
});
const Candidates = z.array(IceCandidateSchema).max(50).describe('RTCIceCandidateInit objects (only these four fields are relayed)');
const frame = <T extends string, S extends z.ZodRawShape>(type: T, shape: S) => z.object({ type: z.literal(type), ...shape });

/** Server → client. */
export const CONVERSATION_SERVER_FRAMES = {
  MessageNew: frame('message.new', { message: MessageSchema }).describe('A message in the conversation (also replayed on connect after `?after_seq=`), in `seq` order. Its `sender` is a hidden user (the id only) when a block stands between you, or while the sender\'s account is suspended'),
  MessageUpdated: frame('message.updated', { message: MessageSchema }).describe('A message was edited (or a call record changed); a sender across a block, or suspended, is a hidden user, as in `message.new`'),
  MessageDeleted: frame('message.deleted', { conversation_id: z.string(), seq: z.number().int().min(1) }).describe('A message became a tombstone (it keeps its seq): deleted by its sender or a moderator, or its sender\'s account was deleted (one frame per message)'),
  Ack: frame('ack', { client_id: z.string(), seq: z.number().int().min(1) }).describe('Your `message.send` was stored as `seq` (a retry with the same client_id is acknowledged again, never stored twice)'),
  Typing: frame('typing', { user: PublicUserSchema }).describe('Another member is typing (never sent across a block, either way)'),
  Read: frame('read', { user_id: UserId, seq: z.number().int().min(0) }).describe('A member has read up to `seq` (never sent to the others by a member for whom the conversation is still a message request, nor across a block either way)'),
  Error: frame('error', {
    status: z.union([z.literal(400), z.literal(403), z.literal(404), z.literal(409), z.literal(413), z.literal(422), z.literal(429)]),
    detail: z.string(),
    call_id: z.string().optional(),
    client_id: z.string().optional(),
  }).describe('Your last frame was refused, with the HTTP status it would have had (`call_id` on refused call frames, `client_id` on a refused `message.send` that had a valid one). 413: the frame was over 128 KB; 429 with `detail` starting `frames:`: you sent more than 10 frames a second (bursts of 60) on this conversation, and the frame was dropped'),
  CallInvite: frame('call.invite', { call_id: CallId, media: z.enum(CALL_MEDIA), sdp: Sdp, from: From }).describe('A call rings for you (also sent on connect while one rings)'),
  CallAnswer: frame('call.answer', { call_id: CallId, sdp: Sdp, to: UserId.optional(), from: From }).describe('A callee answered your call (never relayed between two people across a block, either way)'),
  CallOffer: frame('call.offer', { call_id: CallId, sdp: Sdp, to: UserId, from: From }).describe('Group call: a participant offers you a connection (never relayed across a block)'),
  CallCandidates: frame('call.candidates', { call_id: CallId, candidates: Candidates, to: UserId.optional(), from: From }).describe(
    'ICE candidates from a participant. They carry IP addresses, so they only pass between people who are both in the call (never across a block): a direct call\'s caller gets the callee\'s only once the callee answered (those it sent while ringing arrive right behind its `call.answer`), and a group call\'s callee gets none before it joins',
  ),
  CallJoined: frame('call.joined', { call_id: CallId, user: From, participants: z.array(From) }).describe(
    'Someone joined the call (your other devices stop ringing). `participants`: who is in it that you may connect with. Never sent about someone across a block from you (either way), and they are never among the participants: two people who block each other share no media path, even in a group call someone else started',
  ),
  CallReject: frame('call.reject', { call_id: CallId, from: From }).describe('A callee rejected the call (not sent across a block)'),
  CallHangup: frame('call.hangup', { call_id: CallId, reason: z.enum(['hangup', 'failed']), from: From }).describe(
    'A participant left the call (not sent across a block). Also sent, `from` a hidden user (`{ id, username: "", display_name: "", avatar_url: null, bio: "", is_verified: false }`), when you and another participant come to be across a block during the call: drop your connection to them, the room relays nothing more between you',
  ),
  CallEnded: frame('call.ended', { call_id: CallId, reason: z.enum(CALL_END_REASONS), duration_s: z.number().int().min(0) }).describe('The call is over, for everyone. `hangup` also when it reached the longest a call may last (4 hours after its invite by default; `ROOM_CALL_MAX_SECONDS` on the deployment)'),
  CallMissed: frame('call.missed', { call_id: CallId }).describe('The call stopped ringing for you (answered elsewhere, or it ended)'),
  Pong: frame('pong', {}).describe('The answer to `ping` (sent by the runtime, without waking the room)'),
};

/** Client → server. */
export const CONVERSATION_CLIENT_FRAMES = {
  MessageSend: frame('message.send', { client_id: z.string().min(1).max(100), content: z.string().max(MAX_MESSAGE_LENGTH) }).describe(
    'Sends a message (text only: attach media through POST /messages). Answered by `ack`, or `error`',
  ),
  TypingStart: frame('typing', {}).describe('You are typing: the other members get `typing` (not while the conversation is a message request for you, nor members across a block from you)'),
  MarkRead: frame('read', { seq: z.number().int().min(0).optional() }).describe('You have read up to `seq` (default: the latest)'),
  Ping: frame('ping', {}).describe('Keep-alive: answered by `pong`'),
  SendCallInvite: frame('call.invite', { call_id: CallId, media: z.enum(CALL_MEDIA), sdp: Sdp }).describe('Starts a call: rings every member you may call. 429 over 10 invites a minute, or when your last 3 calls in this conversation went unanswered within 10 minutes (until someone else there calls, one of yours is answered, or those 10 minutes pass)'),
  SendCallAnswer: frame('call.answer', { call_id: CallId, sdp: Sdp }).describe('Direct call: answers it'),
  SendCallOffer: frame('call.offer', { call_id: CallId, sdp: Sdp, to: UserId }).describe('Group call: offers a connection to one participant (404 for anyone not in the call, or across a block from you); answered by their `call.answer` with `to`'),
  SendCallCandidates: frame('call.candidates', { call_id: CallId, candidates: Candidates, to: UserId.optional() }).describe(
    'Trickles ICE candidates, to `to` (404 as for `call.offer`) or to every other participant who joined and is not across a block from you (a direct call\'s caller: to the callee while it rings, too). A direct call\'s callee may send them while it rings: they are held until it answers, and dropped if it never does. A group call\'s callee must `call.join` first (403)',
  ),
  SendCallJoin: frame('call.join', { call_id: CallId }).describe('Group call: joins it'),
  SendCallReject: frame('call.reject', { call_id: CallId }).describe('Rejects a call that rings for you'),
  SendCallHangup: frame('call.hangup', { call_id: CallId, reason: z.enum(['hangup', 'failed']).optional() }).describe('Leaves the call'),
};

const values = <T extends Record<string, z.ZodType>>(map: T) => Object.values(map) as T[keyof T][];
/** Any frame the room may send. */
export type ConversationServerFrame = z.infer<ReturnType<typeof values<typeof CONVERSATION_SERVER_FRAMES>>[number]>;
