import type { AppRouteHandler } from '../../lib/types';
import { currentUser } from '../../middleware/auth';
import type * as routes from './calls.routes';
import * as service from './calls.service';

export const iceServers: AppRouteHandler<typeof routes.iceServers> = async (c) => {
  c.header('Cache-Control', 'private, no-store');
  const { userId, sessionId } = currentUser(c);
  return c.json(await service.iceServers(c.env, c.var.d1, { userId, sessionId }), 200);
};
