import { z } from '@hono/zod-openapi';
import { NOTIFICATION_DATA, NOTIFICATION_TYPES, type NotificationType } from './notifications.schemas';

/**
 * The notification socket's frames (GET /api/v1/notifications/stream), as zod schemas: the AsyncAPI
 * document (/asyncapi.json) is generated from them. A notification frame is the notification without
 * `read`: `{ type, data, id, created_at }`, its data exactly as GET /notifications lists it.
 */

const notificationFrame = <T extends NotificationType>(type: T) =>
  z.object({ type: z.literal(type), data: NOTIFICATION_DATA[type], id: z.string(), created_at: z.string() });

/** Server → client. */
export const INBOX_SERVER_FRAMES = {
  NotificationFrame: z
    .union(NOTIFICATION_TYPES.map(notificationFrame) as unknown as [z.ZodType, z.ZodType, ...z.ZodType[]])
    .describe('A new notification (and, on connect with `?since=<id>`, those after it, in order); `type` tells which `data` it carries. A known `id` replaces that notification (a group that grew or shrank); an older one may come back when the suspension of the account it names is lifted (insert it by `created_at`)'),
  NotificationRemoved: z
    .object({ type: z.literal('notification.removed'), id: z.string() })
    .describe('A notification was withdrawn (e.g. a cancelled friend request, a call that stopped ringing, a deleted post or comment it was about, or a block, suspension or account deletion of the person it names; a suspension\'s come back when it is lifted)'),
  InboxError: z
    .object({ type: z.literal('error'), status: z.literal(400), detail: z.string() })
    .describe('The socket only sends: anything but `ping` from the client is answered with this'),
  InboxPong: z.object({ type: z.literal('pong') }).describe('The answer to `ping`'),
};

/** Client → server. */
export const INBOX_CLIENT_FRAMES = {
  InboxPing: z.object({ type: z.literal('ping') }).describe('Keep-alive: answered by `pong`'),
};
