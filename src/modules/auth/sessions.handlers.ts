import type { AppRouteHandler } from '../../lib/types';
import { currentUser } from '../../middleware/auth';
import { listSessions, revokeSessions } from './sessions.service';
import type * as routes from './sessions.routes';

export const list: AppRouteHandler<typeof routes.listSessions> = async (c) => {
  const { userId, sessionId } = currentUser(c);
  return c.json(await listSessions(c.var.d1, userId, sessionId), 200);
};

export const revokeOne: AppRouteHandler<typeof routes.revokeSession> = async (c) => {
  await revokeSessions(c, currentUser(c).userId, { only: c.req.valid('param').id });
  return c.body(null, 204);
};

export const revokeOthers: AppRouteHandler<typeof routes.revokeOtherSessions> = async (c) => {
  const { userId, sessionId } = currentUser(c);
  await revokeSessions(c, userId, { allBut: sessionId });
  return c.body(null, 204);
};
