import type { AppRouteHandler } from '../../lib/types';
import { currentUser } from '../../middleware/auth';
import type * as routes from './push.routes';
import * as service from './push.service';

export const createSubscription: AppRouteHandler<typeof routes.createSubscription> = async (c) =>
  c.json(await service.subscribe(c, currentUser(c), c.req.valid('json')), 200);

export const getSubscription: AppRouteHandler<typeof routes.getSubscription> = async (c) => c.json(await service.getSubscription(c, currentUser(c)), 200);

export const updateSubscription: AppRouteHandler<typeof routes.updateSubscription> = async (c) =>
  c.json(await service.updateSubscription(c, currentUser(c), c.req.valid('json').data), 200);

export const deleteSubscription: AppRouteHandler<typeof routes.deleteSubscription> = async (c) => {
  await service.unsubscribe(c, currentUser(c));
  return c.body(null, 204);
};

export const serverKey: AppRouteHandler<typeof routes.serverKey> = async (c) => c.json({ public_key: await service.serverKey(c.env) }, 200);
