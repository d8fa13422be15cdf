import { createRoute, z } from '@hono/zod-openapi';
import { createRouter } from '../../lib/create-app';
import { bearerSecurity, commonErrors, errors, jsonBody, jsonContent } from '../../lib/openapi';
import { decodeCursor, encodeCursor, pageSchema } from '../../lib/pagination';
import type { AppRouteHandler } from '../../lib/types';
import { authenticateSocket, currentUser, requireAuth } from '../../middleware/auth';
import { publicUserExample } from '../users/users.schemas';
import { FilterResultSchema } from '../filters/filters.schemas';
import { filterNotifications } from '../filters/filter-rules';
import { inboxOf } from './user-inbox';

const tags = ['Notifications'];
const authed = { security: bearerSecurity, middleware: [requireAuth] };

const notificationExample = {
  id: '01JC7B2C3D4E5F6G7H8J9K0M1N',
  type: 'friend_request',
  data: { request_id: '01JC6Z9P8O7I6U5Y4T3R2E1W0Q', from_user: publicUserExample },
  read: false,
  created_at: '2026-11-21T10:00:00.000Z',
};

const NotificationSchema = z
  .object({
    id: z.string(),
    type: z.string(),
    data: z.record(z.string(), z.unknown()),
    read: z.boolean(),
    created_at: z.string(),
    filtered: z
      .array(FilterResultSchema)
      .optional()
      .openapi({ description: 'Present only when one of your `warn` filters in the notifications context matched what this notification is about.' }),
  })
  .openapi('Notification', { example: notificationExample });
const NotificationPageSchema = pageSchema('NotificationPage', NotificationSchema, notificationExample);
const UnreadSchema = z.object({ unread_count: z.number().int() }).openapi('UnreadCount', { example: { unread_count: 3 } });

const ListQuerySchema = z.object({
  unread: z.enum(['true', 'false']).optional().openapi({ param: { name: 'unread', in: 'query' }, example: 'true' }),
  limit: z.coerce.number().int().min(1).max(100).default(20).openapi({ param: { name: 'limit', in: 'query' }, example: 20 }),
  cursor: z.string().max(64).optional().openapi({ param: { name: 'cursor', in: 'query' }, example: 'WzQyXQ' }),
});
const ReadBodySchema = z
  .object({ ids: z.array(z.string().min(1).max(64)).max(500).optional() })
  .openapi('MarkNotificationsRead', { example: { ids: [notificationExample.id] } });
const StreamQuerySchema = z.object({
  since: z.string().max(64).optional().openapi({ param: { name: 'since', in: 'query' }, example: notificationExample.id }),
  token: z.string().max(2048).optional().openapi({ param: { name: 'token', in: 'query' }, example: 'eyJhbGciOi...' }),
});


const list = createRoute({
  method: 'get', path: '/notifications', tags, summary: 'Your notifications, newest first',
  description:
    'Types: new_message, friend_request, friend_accepted, new_post, wall_post, post_like, post_comment, comment_reply, new_follower, follow_request, mention, report_resolved (`data`: report_id, subject_type, subject_id, category, status: actioned|dismissed, resolved_at; never who resolved it), moderation_warning (`data`: action: warn|silence, reason, until). Your personal filters with the `notifications` context apply here: `hide` drops a notification about matching text (a message, comment or post), `warn` marks it `filtered`. Likes of one post and new followers within an hour fold into one unread notification (`data.actors`: the latest five, `data.count`: how many). At most 1,000 notifications are kept per user.',
  ...authed, request: { query: ListQuerySchema },
  responses: { 200: jsonContent(NotificationPageSchema, 'A page of notifications'), ...commonErrors, ...errors[401] },
});

const unreadCount = createRoute({
  method: 'get', path: '/notifications/unread_count', tags, summary: 'How many notifications are unread',
  ...authed,
  responses: { 200: jsonContent(UnreadSchema, 'The unread count'), ...commonErrors, ...errors[401] },
});

const markRead = createRoute({
  method: 'post', path: '/notifications/read', tags, summary: 'Mark notifications read',
  description: 'The given ids, or all of them when `ids` is omitted.',
  ...authed, request: { body: jsonBody(ReadBodySchema) },
  responses: { 200: jsonContent(UnreadSchema, 'The unread count after'), ...commonErrors, ...errors[401] },
});

const stream = createRoute({
  method: 'get', path: '/notifications/stream', tags, summary: 'Your notification socket (WebSocket upgrade)',
  description:
    'Authenticate with `Authorization: Bearer` or `?token=` (checked before the upgrade: 401 otherwise). Frames `{ type, data, id, created_at }`, one per notification as it happens, on every open socket of yours; `?since=<id>` first replays what came after that notification. `{"type":"ping"}` is answered `{"type":"pong"}`.',
  security: bearerSecurity, request: { query: StreamQuerySchema },
  responses: { 101: { description: 'Switching protocols' }, ...errors[426], ...commonErrors, ...errors[401] },
});

const listHandler: AppRouteHandler<typeof list> = async (c) => {
  const { unread, limit, cursor } = c.req.valid('query');
  const before = cursor ? (decodeCursor(cursor, ['number'])[0] as number) : undefined;
  const { userId } = currentUser(c);
  const page = await inboxOf(c.env, userId).list({ unread: unread === 'true', limit, before });
  // The cursor follows the inbox, so filtered-out notifications never shift later pages.
  const data = await filterNotifications(c.env.DB, userId, page.data);
  return c.json({ data, next_cursor: page.next === null ? null : encodeCursor([page.next]) }, 200);
};

const unreadHandler: AppRouteHandler<typeof unreadCount> = async (c) =>
  c.json({ unread_count: await inboxOf(c.env, currentUser(c).userId).unreadCount() }, 200);

const readHandler: AppRouteHandler<typeof markRead> = async (c) =>
  c.json({ unread_count: await inboxOf(c.env, currentUser(c).userId).markRead(c.req.valid('json').ids) }, 200);

/** Checks the token (header or `?token=`) before any upgrade; the token is dropped before the inbox sees the URL. */
const streamHandler: AppRouteHandler<typeof stream> = async (c) => {
  const { userId, url } = await authenticateSocket(c, c.req.valid('query').token);
  return inboxOf(c.env, userId).fetch(new Request(url.toString(), { headers: { Upgrade: 'websocket' } }));
};

export const notificationsRouter = createRouter()
  .openapi(list, listHandler)
  .openapi(unreadCount, unreadHandler)
  .openapi(markRead, readHandler)
  .openapi(stream, streamHandler);
