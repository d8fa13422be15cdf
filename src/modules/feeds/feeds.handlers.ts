import type { AppRouteHandler } from '../../lib/types';
import { currentUser } from '../../middleware/auth';
import type * as routes from './feeds.routes';
import { listDiscoverFeed, listHomeFeed } from './feeds.service';
import { listProfessionalFeed } from './professional-feed';

export const home: AppRouteHandler<typeof routes.homeFeed> = async (c) => {
  const { limit, cursor } = c.req.valid('query');
  return c.json(await listHomeFeed(c, currentUser(c).userId, limit, cursor), 200);
};

export const discover: AppRouteHandler<typeof routes.discoverFeed> = async (c) => {
  const { limit, cursor, topic } = c.req.valid('query');
  return c.json(await listDiscoverFeed(c, c.get('auth')?.userId ?? null, topic, limit, cursor), 200);
};

export const professional: AppRouteHandler<typeof routes.professionalFeed> = async (c) => {
  const { limit, cursor, topic, sort } = c.req.valid('query');
  return c.json(await listProfessionalFeed(c, c.get('auth')?.userId ?? null, { topic, sort, limit, cursor }), 200);
};
