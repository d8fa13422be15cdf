import type { AppRouteHandler } from '../../lib/types';
import { currentUser } from '../../middleware/auth';
import * as service from './news.service';
import type * as routes from './news.routes';

export const listNews: AppRouteHandler<typeof routes.listNews> = async (c) => {
  const { topic, limit, cursor } = c.req.valid('query');
  return c.json(await service.listNews(c, topic, limit, cursor), 200);
};

export const listSources: AppRouteHandler<typeof routes.listSources> = async (c) => {
  const { limit, cursor } = c.req.valid('query');
  return c.json(await service.listSources(c, limit, cursor), 200);
};

export const createSource: AppRouteHandler<typeof routes.createSource> = async (c) => {
  return c.json(await service.createSource(c, currentUser(c).userId, c.req.valid('json')), 201);
};

export const updateSource: AppRouteHandler<typeof routes.updateSource> = async (c) => {
  return c.json(await service.updateSource(c, c.req.valid('param').id, c.req.valid('json')), 200);
};

export const deleteSource: AppRouteHandler<typeof routes.deleteSource> = async (c) => {
  await service.deleteSource(c, c.req.valid('param').id);
  return c.body(null, 204);
};

export const refreshSource: AppRouteHandler<typeof routes.refreshSource> = async (c) => {
  return c.json(await service.refreshSourceNow(c, c.req.valid('param').id), 200);
};
