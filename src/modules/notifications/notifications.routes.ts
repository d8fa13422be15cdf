import { createRoute, z } from '@hono/zod-openapi';
import { bearerSecurity, booleanQuery, commonErrors, errors, jsonBody, jsonContent } from '../../lib/openapi';
import { requireAuth } from '../../middleware/auth';
import { notificationExample, NotificationPageSchema } from './notifications.schemas';

const tags = ['Notifications'];
const authed = { security: bearerSecurity, middleware: [requireAuth] };

const UnreadSchema = z.object({ unread_count: z.number().int() }).openapi('UnreadCount', { example: { unread_count: 3 } });

const ListQuerySchema = z.object({
  unread: booleanQuery('unread', true),
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

export const list = createRoute({
  method: 'get', path: '/notifications', tags, summary: 'Your notifications, newest first',
  description:
    '`type` is one of a closed list and says what `data` holds (see `Notification`); moderation sends `report_resolved` (to a reporter: the outcome, never who decided) and `moderation_warning` (a warning or a silence, with the reason); calls send `call_incoming` (a call rings and you have no socket open on its conversation; removed when the call ends) and `missed_call`. Your personal filters with the `notifications` context apply here: `hide` drops a notification about matching text (the message, comment or post it is about), `warn` marks it `filtered`. Likes of one post and new followers within an hour fold into one unread notification (`data.actors`: the latest five, `data.count`: how many). At most 1,000 notifications are kept per user. A notification stored while you have no notifications socket open is also sent as a Web Push to your subscriptions (see the Push tag).\n\nWhile an account is suspended, the notifications it caused (its profile as `author`, `user`, `from_user`, `sender`, …, its words in `new_post` or `new_message`) are not listed here, counted in `unread_count`, marked read by a mark-all, replayed or pushed, and it is left out of grouped ones (`data.actors`, `data.count`, and `user` / `follower` name the newest actor left; a group nobody else is in is not listed). Once the suspension is lifted they are back as they were: same id, place, data and read state.\n\nFlood control: cancelling a friend request removes its notification, and the same request again within 24 hours notifies nobody (likewise a follow or follow request withdrawn and repeated); an unlike or unfollow takes its actor out of the unread like or follower notification (removing it when nobody is left). One account causes at most 20 notifications an hour to someone who neither follows nor is friends with it; past that they are dropped while the actions succeed. A post or comment notifies at most 10 people it @mentions, and one account\'s mentions notify at most 100 people a day who neither follow nor are friends with it (the text is published either way). A message request notifies once (`new_message` of its first message, or `conversation_invite` for a group add) until accepted.',
  ...authed, request: { query: ListQuerySchema },
  responses: { 200: jsonContent(NotificationPageSchema, 'A page of notifications'), ...commonErrors, ...errors[401] },
});

export const unreadCount = createRoute({
  method: 'get', path: '/notifications/unread_count', tags, summary: 'How many notifications are unread',
  ...authed,
  responses: { 200: jsonContent(UnreadSchema, 'The unread count'), ...commonErrors, ...errors[401] },
});

export const markRead = createRoute({
  method: 'post', path: '/notifications/read', tags, summary: 'Mark notifications read',
  description: 'The given ids, or all of them when `ids` is omitted.',
  ...authed, request: { body: jsonBody(ReadBodySchema) },
  responses: { 200: jsonContent(UnreadSchema, 'The unread count after'), ...commonErrors, ...errors[401] },
});

export const stream = createRoute({
  method: 'get', path: '/notifications/stream', tags, summary: 'Your notification socket (WebSocket upgrade)',
  description:
    'Authenticate with `Authorization: Bearer` or `?token=` (checked before the upgrade: 401 otherwise). Frames `{ type, data, id, created_at }`, one per notification as it happens (a grouped notification that grows or shrinks is sent again with the same id), on every open socket of yours. When a notification is retracted (its friend request cancelled, its like or follow taken back, its call over) or the content it is about is removed (a post or comment deleted or removed by moderation, with its comments and replies; a message taken back or removed), the frame is `{ "type": "notification.removed", "id" }`: drop it from the list and the unread count. The suspension of an account sends `notification.removed` for each notification it caused and the shrunk group for those it was in (as a block does); the lift sends each of them again, with its own id and `created_at` (insert it in its place, no alert). `?since=<id>` first replays what came after that notification, removals and such changes included; for a grouped notification (which moves up as it grows) from the oldest place it held, so a frame may come again (same id: replace it) but none is skipped. `{"type":"ping"}` is answered `{"type":"pong"}`. While a socket is open, notifications are not sent as Web Push.',
  security: bearerSecurity, request: { query: StreamQuerySchema },
  responses: { 101: { description: 'Switching protocols' }, ...errors[426], ...commonErrors, ...errors[401] },
});
