import { z } from '@hono/zod-openapi';
import { EXAMPLE_ID } from '../../lib/openapi';
import { pageSchema } from '../../lib/pagination';
import { publicUserExample, PublicUserSchema } from '../users/users.schemas';
import { FilterResultSchema } from '../filters/filters.schemas';
import { CALL_MEDIA } from '../messaging/room.types';
import { ModerationWarningDataSchema, ReportResolvedDataSchema } from '../moderation/moderation.schemas';

const Id = z.string();
const CommunitySummarySchema = z.object({ id: Id, slug: z.string(), name: z.string() }).openapi('CommunitySummary');
/** Grouped types (likes of one post, new followers) fold within an hour: the latest five actors, and how many in all. */
const grouped = { actors: z.array(PublicUserSchema).max(5), count: z.number().int().min(1) };

/**
 * Every notification type, each with the `data` it carries: the one closed list (a new type is added
 * here, and producers cannot send another). The contract fixes the data of `new_message`,
 * `friend_request`, `friend_accepted` and `new_post`: those are exact. The others are typed but open
 * (`additionalProperties`), so they may gain fields.
 */
export const NOTIFICATION_DATA = {
  new_message: z.object({
    id: Id,
    conversation_id: Id,
    seq: z.number().int().min(1),
    sender: PublicUserSchema.nullable(),
    content: z.string(),
    created_at: z.string(),
  }),
  /** A group add that is a message request: its member's one notification until they accept it. */
  conversation_invite: z.object({ conversation_id: Id, title: z.string().nullable(), from_user: PublicUserSchema, request: z.boolean() }),
  friend_request: z.object({ request_id: Id, from_user: PublicUserSchema }),
  friend_accepted: z.object({ friend: PublicUserSchema }),
  new_post: z.object({ id: Id, author: PublicUserSchema, message: z.string().openapi({ description: 'A short human-readable line' }) }),
  wall_post: z.looseObject({ post_id: Id, author: PublicUserSchema }),
  post_like: z.looseObject({ post_id: Id, user: PublicUserSchema, ...grouped }),
  post_comment: z.looseObject({ post_id: Id, comment_id: Id, user: PublicUserSchema }),
  comment_reply: z.looseObject({ post_id: Id, comment_id: Id, parent_id: Id, user: PublicUserSchema }),
  mention: z.looseObject({ post_id: Id, comment_id: Id.nullable(), user: PublicUserSchema }),
  new_follower: z.looseObject({ follower: PublicUserSchema, ...grouped }),
  follow_request: z.looseObject({ from_user: PublicUserSchema }),
  community_join_request: z.looseObject({ community: CommunitySummarySchema, user: PublicUserSchema }),
  community_join_approved: z.looseObject({ community: CommunitySummarySchema, approved_by: PublicUserSchema }),
  /** A call rings for you and you have no socket open on its conversation (removed once the call ends). */
  call_incoming: z.looseObject({ call_id: z.string(), conversation_id: Id, media: z.enum(CALL_MEDIA), from_user: PublicUserSchema }),
  /** A call rang for you and you never answered it. */
  missed_call: z.looseObject({ call_id: z.string(), conversation_id: Id, media: z.enum(CALL_MEDIA), from_user: PublicUserSchema }),
  report_resolved: ReportResolvedDataSchema,
  moderation_warning: ModerationWarningDataSchema,
};

export type NotificationType = keyof typeof NOTIFICATION_DATA;
export const NOTIFICATION_TYPES = Object.keys(NOTIFICATION_DATA) as NotificationType[];

const pascal = (type: string) => type.replace(/(^|_)(\w)/g, (_, __, ch: string) => ch.toUpperCase());

function variant<T extends NotificationType>(type: T) {
  return z
    .object({
      id: Id,
      type: z.literal(type),
      data: NOTIFICATION_DATA[type],
      read: z.boolean(),
      created_at: z.string(),
      filtered: z
        .array(FilterResultSchema)
        .optional()
        .openapi({ description: 'In GET /notifications only, when one of your `warn` filters (notifications context) matched what this notification is about.' }),
    })
    .openapi(`${pascal(type)}Notification`);
}

/** One object schema per type, so the inferred Notification is a union TypeScript narrows on `type`. */
type Variant = { [T in NotificationType]: ReturnType<typeof variant<T>> }[NotificationType];

export const notificationExample = {
  id: '01JC7B2C3D4E5F6G7H8J9K0M1N',
  type: 'friend_request' as const,
  data: { request_id: '01JC6Z9P8Q7H6V5Y4T3R2E1W0Q', from_user: publicUserExample },
  read: false,
  created_at: '2026-11-21T10:00:00.000Z',
};

/** A notification: `type` tells which `data` it carries. */
export const NotificationSchema = z
  .discriminatedUnion('type', NOTIFICATION_TYPES.map(variant) as [Variant, ...Variant[]])
  .openapi('Notification', { example: notificationExample });

export const NotificationPageSchema = pageSchema('NotificationPage', NotificationSchema, notificationExample);

export type Notification = z.infer<typeof NotificationSchema>;
