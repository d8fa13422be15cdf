import type { AppRouteHandler } from '../../lib/types';
import { currentUser } from '../../middleware/auth';
import type * as routes from './insights.routes';
import * as service from './insights.service';

export const postInsights: AppRouteHandler<typeof routes.postInsights> = async (c) =>
  c.json(await service.postInsights(c, currentUser(c).userId, c.req.valid('param').id), 200);

export const communityInsights: AppRouteHandler<typeof routes.communityInsights> = async (c) =>
  c.json(await service.communityInsights(c, currentUser(c).userId, c.req.valid('param').id), 200);
