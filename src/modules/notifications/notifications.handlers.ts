import type { AppRouteHandler } from '../../lib/types';
import { authenticateSocket, currentUser } from '../../middleware/auth';
import type * as routes from './notifications.routes';
import * as service from './notifications.service';

export const list: AppRouteHandler<typeof routes.list> = async (c) => c.json(await service.listNotifications(c.env, currentUser(c).userId, c.req.valid('query')), 200);

export const unreadCount: AppRouteHandler<typeof routes.unreadCount> = async (c) => c.json({ unread_count: await service.unreadCount(c.env, currentUser(c).userId) }, 200);

export const markRead: AppRouteHandler<typeof routes.markRead> = async (c) =>
  c.json({ unread_count: await service.markRead(c.env, currentUser(c).userId, c.req.valid('json').ids) }, 200);

/** Checks the token (header or `?token=`) before any upgrade; the token is dropped before the inbox sees the URL. */
export const stream: AppRouteHandler<typeof routes.stream> = async (c) => {
  const { userId, sessionId, url } = await authenticateSocket(c, c.req.valid('query').token);
  return service.openStream(c.env, userId, sessionId, url);
};
