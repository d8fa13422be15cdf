import { z } from '@hono/zod-openapi';
import { ID_PATTERN } from '../../lib/ids';
import { idParam, wholeNumberParam } from '../../lib/openapi';
import { PageQuerySchema, pageSchema } from '../../lib/pagination';
import { multiLineText, singleLineText } from '../../policy/text-hygiene';
import { publicUserExample, PublicUserSchema } from '../users/users.schemas';
import { CALL_END_REASONS, CALL_MEDIA, MAX_MESSAGE_LENGTH, MAX_MESSAGE_MEDIA } from './room.types';

const MessageMediaSchema = z.object({ id: z.string(), url: z.string(), content_type: z.string(), width: z.number().int(), height: z.number().int() });

const messageExample = {
  id: '01JC7A0B1C2D3E4F5G6H7J8K9M',
  conversation_id: '01JC79ZZ0A1B2C3D4E5F6G7H8J',
  seq: 42,
  kind: 'text' as const,
  sender: publicUserExample,
  content: 'See you at six?',
  media: [],
  call: null,
  client_id: 'c-5f2b9e',
  created_at: '2026-11-21T10:00:00.000Z',
  edited_at: null,
  deleted: false,
};

export const CallRecordSchema = z
  .object({
    call_id: z.string(),
    media: z.enum(CALL_MEDIA),
    duration_s: z.number().int().min(0).openapi({ description: 'Seconds from the first answer to the end; 0 when nobody answered.' }),
    reason: z.enum(CALL_END_REASONS).openapi({ description: 'How it ended: hung up (or reached the longest a call may last, 4 hours after its invite by default), rejected by every callee, unanswered for 60 s, or a connection failed.' }),
  })
  .openapi('CallRecord', { example: { call_id: 'c-7f3a9e', media: 'video', duration_s: 125, reason: 'hangup' } });

export const MessageSchema = z
  .object({
    id: z.string(),
    conversation_id: z.string(),
    seq: z.number().int(),
    kind: z.enum(['text', 'call']).openapi({ description: '`text`: written by its sender. `call`: the record of a call in this conversation, written when the call ended (its `sender` is the caller, `call` says how it went, `content` a short summary for clients that show only text). Clients should treat an unknown kind like `text`.' }),
    sender: PublicUserSchema.nullable().openapi({ description: 'Who sent it; null once their account is deleted (its messages are then tombstones). Across a block (either way), and to everyone while their account is suspended, a hidden user, `{ id, username: "", display_name: "", avatar_url: null, bio: "", is_verified: false }`: nothing current of them.' }),
    content: z.string(),
    media: z.array(MessageMediaSchema),
    call: CallRecordSchema.nullable().openapi({ description: 'On `kind: "call"` messages (null otherwise, and on a deleted call record).' }),
    client_id: z.string().nullable(),
    created_at: z.string(),
    edited_at: z.string().nullable(),
    deleted: z.boolean(),
  })
  .openapi('Message', { example: messageExample });

const conversationExample = {
  id: messageExample.conversation_id,
  kind: 'direct' as const,
  title: null,
  participants: [publicUserExample],
  member_count: 2,
  community_id: null,
  last_message: messageExample,
  unread_count: 2,
  request: false,
  created_at: '2026-11-20T09:00:00.000Z',
};

export const ConversationSchema = z
  .object({
    id: z.string(),
    kind: z.enum(['direct', 'group', 'community']),
    title: z.string().nullable(),
    participants: z.array(PublicUserSchema).openapi({ description: 'Every member, the caller included, longest-standing first. A member across a block from you (either way), or whose account is suspended, is a hidden user, `{ id, username: "", display_name: "", avatar_url: null, bio: "", is_verified: false }`: the entry stays, showing nothing current of them (a suspended member shows as themselves again once the suspension is lifted).' }),
    member_count: z.number().int(),
    /** The community whose chat this is (kind community), else null. */
    community_id: z.string().nullable(),
    last_message: MessageSchema.nullable(),
    unread_count: z.number().int(),
    request: z.boolean().openapi({
      description:
        'A message request for you: you neither follow nor are friends with whoever started the conversation or added you. It notifies you once until you accept it (`POST /conversations/{id}/accept`, or by sending a message) or decline it.',
    }),
    created_at: z.string(),
  })
  .openapi('Conversation', { example: conversationExample });

export const ConversationPageSchema = pageSchema('ConversationPage', ConversationSchema, conversationExample);
export const MessagePageSchema = pageSchema('MessagePage', MessageSchema, messageExample);

const UserId = z.string().regex(ID_PATTERN, 'is not a valid user id');
const Content = multiLineText().max(MAX_MESSAGE_LENGTH, `must be at most ${MAX_MESSAGE_LENGTH} characters`);
const ClientId = z.string().min(1).max(100);
const MediaIds = z.array(z.string().regex(ID_PATTERN, 'is not a valid media id')).max(MAX_MESSAGE_MEDIA, `at most ${MAX_MESSAGE_MEDIA} media items`);

export const CreateConversationSchema = z
  .object({
    participant_ids: z.array(UserId).min(1, 'needs at least one other participant').max(50, 'at most 50 participants'),
    title: singleLineText().min(1).max(100).optional(),
  })
  .openapi('CreateConversation', { example: { participant_ids: ['01JC6Z2X4S3K5E6F7G8H9J0K1M'] } });

export const SendMessageSchema = z
  .object({ content: Content.default(''), media_ids: MediaIds.optional(), client_id: ClientId.optional() })
  .openapi('SendMessage', { example: { content: 'See you at six?', client_id: 'c-5f2b9e' } });

export const DirectMessageSchema = z
  .object({ receiver_id: UserId, content: Content.default(''), media_ids: MediaIds.optional(), client_id: ClientId.optional() })
  .openapi('DirectMessage', { example: { receiver_id: '01JC6Z2X4S3K5E6F7G8H9J0K1M', content: 'Hi!', client_id: 'c-1' } });

export const EditMessageSchema = z.object({ content: Content }).openapi('EditMessage', { example: { content: 'See you at seven?' } });

export const ReadSchema = z
  .object({ seq: z.number().int().min(0).optional() })
  .openapi('MarkRead', { example: { seq: 42 } });

export const ReadStateSchema = z
  .object({ last_read_seq: z.number().int(), unread_count: z.number().int() })
  .openapi('ReadState', { example: { last_read_seq: 42, unread_count: 0 } });

export const AddMembersSchema = z
  .object({ user_ids: z.array(UserId).min(1).max(50) })
  .openapi('AddMembers', { example: { user_ids: ['01JC6Z2X4S3K5E6F7G8H9J0K1M'] } });

export const FOLDERS = ['requests', 'inbox'] as const;

export const ConversationListQuerySchema = PageQuerySchema.extend({
  folder: z
    .enum(FOLDERS, { error: 'must be requests or inbox' })
    .optional()
    .openapi({ param: { name: 'folder', in: 'query', description: '`requests`: only message requests; `inbox`: only the others; omitted: both.' }, example: 'requests' }),
});

export const ConversationIdParamSchema = idParam('id', 'conversation', messageExample.conversation_id);
export const SeqParamSchema = ConversationIdParamSchema.extend({
  seq: z.coerce.number().int().min(1).openapi({ param: { name: 'seq', in: 'path' }, example: 42 }),
});
export const MemberParamSchema = ConversationIdParamSchema.extend({
  user_id: z.string().regex(ID_PATTERN, 'is not a valid user id').openapi({ param: { name: 'user_id', in: 'path' }, example: '01JC6Z2X4S3K5E6F7G8H9J0K1M' }),
});

export const HistoryQuerySchema = z.object({
  before_seq: z.coerce.number().int().min(1).optional().openapi({ param: { name: 'before_seq', in: 'query' }, example: 100 }),
  after_seq: wholeNumberParam(0).optional().openapi({ param: { name: 'after_seq', in: 'query' }, example: 40 }),
  limit: z.coerce.number().int().min(1).max(100).default(50).openapi({ param: { name: 'limit', in: 'query' }, example: 50 }),
  cursor: z.string().max(64).optional().openapi({ param: { name: 'cursor', in: 'query' }, example: 'WzQxXQ' }),
});

export const StreamQuerySchema = z.object({
  after_seq: wholeNumberParam(0).optional().openapi({ param: { name: 'after_seq', in: 'query' }, example: 40 }),
  token: z.string().max(2048).optional().openapi({ param: { name: 'token', in: 'query' }, example: 'eyJhbGciOi...' }),
});
