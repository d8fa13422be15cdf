import { createRoute } from '@hono/zod-openapi';
import { requireAuth } from '../../middleware/auth';
import { bearerSecurity, commonErrors, errors, jsonBody, jsonContent } from '../../lib/openapi';
import { IdempotencyHeaderSchema } from '../../lib/idempotency';
import {
  AddMembersSchema,
  ConversationIdParamSchema,
  ConversationListQuerySchema,
  ConversationPageSchema,
  ConversationSchema,
  CreateConversationSchema,
  DirectMessageSchema,
  EditMessageSchema,
  HistoryQuerySchema,
  MemberParamSchema,
  MessagePageSchema,
  MessageSchema,
  ReadSchema,
  ReadStateSchema,
  SendMessageSchema,
  SeqParamSchema,
  StreamQuerySchema,
} from './messaging.schemas';

const tags = ['Messaging'];
const authed = { security: bearerSecurity, middleware: [requireAuth] };
const member = { ...commonErrors, ...errors[401], ...errors[404] };
const POLICY =
  'Everyone you name must admit you under their `message_policy` (`everyone`, `following`: people they follow and friends, `friends`, `nobody`), else 403 with `type` ending `/messages-not-accepted`, `errors` naming each of them, and nothing is created. For someone who neither follows nor is friends with you, the conversation is a message request (`request: true` on their side); you may make message requests for at most 50 people a day, counted per person (429 with `Retry-After` past that, and nothing is created).';

export const createConversation = createRoute({
  method: 'post', path: '/conversations', tags, summary: 'Start a conversation',
  description: `\`participant_ids\` are the others (you are always a member). One other makes a direct conversation, of which there is one per pair: asking again answers 200 with the existing one (and puts you back in it if you had declined it). More make a group (you are its admin); group members for whom it is a request get one \`conversation_invite\` notification. Users you block or who block you cannot be added (404). A silenced account may start conversations with its friends only (403). A group \`title\` passes the keyword rules (422 \`/content-rejected\`). With an \`Idempotency-Key\` header, a retry of the same request within 24 hours answers 200 with the group the first one created, never a second group (409 for the same key with a different request, or once you have left that group). ${POLICY}`,
  ...authed, request: { headers: IdempotencyHeaderSchema, body: jsonBody(CreateConversationSchema) },
  responses: { 201: jsonContent(ConversationSchema, 'The new conversation'), 200: jsonContent(ConversationSchema, 'The existing direct conversation, or (a retry with the same `Idempotency-Key`) the group the first request created'), ...member, ...errors[409], ...errors['403_messages'], ...errors[422] },
});

export const listConversations = createRoute({
  method: 'get', path: '/conversations', tags, summary: 'Your conversations, most recent activity first',
  description: 'Each with `last_message`, your `unread_count` (other people\'s messages after your read position) and `request`. `?folder=requests` lists only message requests, `?folder=inbox` only the others; without `folder`, both.',
  ...authed, request: { query: ConversationListQuerySchema },
  responses: { 200: jsonContent(ConversationPageSchema, 'A page of conversations'), ...commonErrors, ...errors[401] },
});

export const getConversation = createRoute({
  method: 'get', path: '/conversations/{id}', tags, summary: 'One conversation', description: '404 for non-members.',
  ...authed, request: { params: ConversationIdParamSchema },
  responses: { 200: jsonContent(ConversationSchema, 'The conversation'), ...member },
});

export const listMessages = createRoute({
  method: 'get', path: '/conversations/{id}/messages', tags, summary: 'Message history',
  description: 'Descending by seq (before `before_seq`, or the newest), or ascending after `after_seq`. Pass `next_cursor` back as `cursor` (with the same direction) for the next page.',
  ...authed, request: { params: ConversationIdParamSchema, query: HistoryQuerySchema },
  responses: { 200: jsonContent(MessagePageSchema, 'A page of messages'), ...member },
});

export const sendMessage = createRoute({
  method: 'post', path: '/conversations/{id}/messages', tags, summary: 'Send a message',
  description: 'Text (at most 4,000 characters) and/or up to 10 of your uploads (`media_ids`: their URLs are served by GET /media/{key} to whoever has them while a live message or post carries them). The same `client_id` from the same sender returns the first message (200), never a duplicate. Every socket of the conversation receives `message.new`. Limited to 30 messages per 10 s per sender. Sending in a message request accepts it. In a direct conversation the other person\'s `message_policy` is checked on every send unless they started it (403 `/messages-not-accepted`; also when they declined it and left); after a block either way it is 403, for both. The text passes the keyword rules: a `reject` or `hold` rule refuses it (422 `/content-rejected`: chat is live, so nothing is held back), a `flag` rule delivers it and opens a report.',
  ...authed, request: { params: ConversationIdParamSchema, body: jsonBody(SendMessageSchema) },
  responses: { 201: jsonContent(MessageSchema, 'The message'), 200: jsonContent(MessageSchema, 'The message first sent with this client_id'), ...member, ...errors['403_messages'], ...errors[422] },
});

export const directMessage = createRoute({
  method: 'post', path: '/messages', tags, summary: 'Send a direct message',
  description: `Creates the direct conversation with \`receiver_id\` when needed (a silenced account: with friends only, 403), then sends (keyword rules as for POST /conversations/{id}/messages: 422). ${POLICY} The receiver's policy is checked on every send unless they started the conversation.`,
  ...authed, request: { body: jsonBody(DirectMessageSchema) },
  responses: { 201: jsonContent(MessageSchema, 'The message'), 200: jsonContent(MessageSchema, 'The message first sent with this client_id'), ...member, ...errors['403_messages'], ...errors[422] },
});

export const editMessage = createRoute({
  method: 'patch', path: '/conversations/{id}/messages/{seq}', tags, summary: 'Edit your message',
  description: 'Sender only (403 otherwise, and for a call record). An edit reaches the others as a new message does, so it passes what a send passes: it counts against the 30 messages per 10 s of its sender (429 with `Retry-After`), and in a direct conversation it is 403 once a block stands either way, or (`/messages-not-accepted`) once the other side\'s `message_policy` no longer admits you (unless they started the conversation) or they left it. The text passes the keyword rules (422). The text (and media) an edit replaces is kept by the room for 30 days, out of everyone\'s sight, your own included, only so that the others can still report what you said (POST /reports: staff see the earlier versions); then it is erased (at once if you delete your account, or when a moderator removes the message). A message keeps at most 20 earlier versions within those 30 days: a 21st edit is 409 (send a new message instead) until the oldest is 30 days old.',
  ...authed, request: { params: SeqParamSchema, body: jsonBody(EditMessageSchema) },
  responses: { 200: jsonContent(MessageSchema, 'The edited message'), ...member, ...errors[403], ...errors[409], ...errors[422] },
});

export const deleteMessage = createRoute({
  method: 'delete', path: '/conversations/{id}/messages/{seq}', tags, summary: 'Delete your message',
  description: 'It keeps its seq and becomes a tombstone (`deleted: true`, no content, no media). Its images stop being in use by it: one that no other live message or post carries, and that is not your avatar, is withdrawn (GET /media/{key} answers 404 to everyone but you and staff, and its edge copies are purged). Moderation removing a message, your account\'s deletion and the conversation\'s end do the same. The `new_message` notifications that quoted its text are removed from the other members\' inboxes (`notification.removed` on their sockets). The room keeps the message as it was (and the earlier versions your edits replaced), out of everyone\'s sight, for 30 days, only so that the others can still report it (POST /reports); then it is erased (at once if you delete your account). Its images stay stored as long, for staff only, even if you delete the uploads (DELETE /media/{key}).',
  ...authed, request: { params: SeqParamSchema },
  responses: { 204: { description: 'Deleted' }, ...member, ...errors[403] },
});

export const markRead = createRoute({
  method: 'post', path: '/conversations/{id}/read', tags, summary: 'Mark messages read',
  description: 'Up to `seq`, or everything when omitted. The read position never moves back. The other members learn it (a `read` frame on their sockets), except while the conversation is a message request for you: then only your own sockets do, until you accept it; members across a block from you (either way) never do.',
  ...authed, request: { params: ConversationIdParamSchema, body: jsonBody(ReadSchema) },
  responses: { 200: jsonContent(ReadStateSchema, 'Your read state'), ...member },
});

export const addMembers = createRoute({
  method: 'post', path: '/conversations/{id}/members', tags, summary: 'Add members to a group',
  description: `Group admins only. People already in it are left as they are. ${POLICY} Someone who declined this conversation can be added back only by someone they follow or are friends with. Those for whom it is a request get one \`conversation_invite\` notification.`,
  ...authed, request: { params: ConversationIdParamSchema, body: jsonBody(AddMembersSchema) },
  responses: { 200: jsonContent(ConversationSchema, 'The conversation'), ...member, ...errors['403_messages'] },
});

export const removeMember = createRoute({
  method: 'delete', path: '/conversations/{id}/members/{user_id}', tags, summary: 'Remove a member, or leave',
  description: 'Admins remove anyone; anyone can remove themselves (leave). The removed member\'s sockets on this conversation are closed at once with close code 4403 and receive nothing more. When the last admin leaves, the longest-standing member becomes admin. A group its last member leaves (or declines) is erased: its messages go, and the images they carried are withdrawn (`GET /media/{key}` 404 to all but their owner and staff).',
  ...authed, request: { params: MemberParamSchema },
  responses: { 204: { description: 'Removed' }, ...member, ...errors[403] },
});

export const acceptRequest = createRoute({
  method: 'post', path: '/conversations/{id}/accept', tags, summary: 'Accept a message request',
  description: 'The conversation moves to your inbox (`request: false`) and its messages notify you again. Sending a message in it accepts it too. 409 when it is not a request for you.',
  ...authed, request: { params: ConversationIdParamSchema },
  responses: { 200: jsonContent(ConversationSchema, 'The conversation, no longer a request'), ...member, ...errors[409] },
});

export const declineRequest = createRoute({
  method: 'post', path: '/conversations/{id}/decline', tags, summary: 'Decline a message request',
  description: 'You leave the conversation (your sockets on it close with 4403), and from then on only someone you follow or are friends with can add you back to it (403 `/messages-not-accepted` for anyone else). 409 when it is not a request for you.',
  ...authed, request: { params: ConversationIdParamSchema },
  responses: { 204: { description: 'Declined: you are no longer a member' }, ...member, ...errors[409] },
});

export const stream = createRoute({
  method: 'get', path: '/conversations/{id}/stream', tags, summary: 'The conversation socket (WebSocket upgrade)',
  description: 'Authenticate with `Authorization: Bearer` or `?token=`; a bad token is 401 and a non-member 404, both before any upgrade. `?after_seq=N` replays every message after N in order, then goes live; more than 1,000 messages behind, the upgrade is refused with 409 (`errors` naming `after_seq`): page `GET /conversations/{id}/messages?after_seq=N` first, then connect with the last seq you have. Frames: see the contract (`message.send`, `typing`, `read`, `{"type":"ping"}` → `{"type":"pong"}`). `message.send` content passes the same text checks as REST (an `error` frame with status 400 otherwise). Calls (not in community chats): `call.invite { call_id, media: audio|video, sdp }`, `call.answer { call_id, sdp, to? }`, `call.candidates { call_id, candidates, to? }`, `call.reject`, `call.hangup { reason?: hangup|failed }`, and in groups `call.join` then `call.offer { call_id, to, sdp }` to each participant (mesh, at most 4 in a call). The room relays each to the call\'s other members with `from` (a public user; candidates only between people both in the call: a ringing direct callee\'s are held until it answers, a ringing group callee sends none) and sends `call.joined`, `call.missed` (a group call stopped ringing you) and `call.ended { call_id, reason: hangup|rejected|timeout|failed, duration_s }`; it rings for 60 s, ends a call for everyone 4 hours after its invite at the latest (`call.ended` with `hangup`, as when the last participants hang up; `ROOM_CALL_MAX_SECONDS` on the deployment), and records every call as a `kind: "call"` message. A refused call frame is relayed to nobody and answered `{ type: "error", status, detail, call_id }`: 400 malformed, 403 not a member or not rung (blocks, `message_policy`, requests), 404 no such call in this conversation, 409 another call rings or runs, the call ended, or it is full, 413 `sdp` or `candidates` over 64 KB, 429 over 10 invites a minute, or after your last 3 calls in this conversation went unanswered within 10 minutes (until then, or until someone else there calls, or one of yours is answered). The server closes the socket with 4403 when you are removed from or leave a group, or decline a request; 4003 when you leave or are removed from a community (whose chat this is); 4004 when the conversation is deleted; 4429 when you open an 11th socket on this conversation (your oldest goes: at most 10 per member). Every frame counts against your budget on this conversation (across your sockets): 10 a second, in bursts of 60 (`ROOM_FRAME_RATE` on the deployment); past it each frame is dropped and answered `{ type: "error", status: 429, detail: "frames: …" }` (with its `client_id` or `call_id`). A frame over 128 KB is refused unread (413).',
  security: bearerSecurity,
  request: { params: ConversationIdParamSchema, query: StreamQuerySchema },
  responses: { 101: { description: 'Switching protocols' }, ...errors[426], ...errors[409], ...member },
});
