import { createRouter } from '../../lib/create-app';
import type { AppRouteHandler } from '../../lib/types';
import { normalizeTag } from './hashtags';
import * as routes from './tags.routes';
import { listTagPosts as listPosts } from './tags.service';
import { listTrends as readTrends } from './trends';

const listTagPosts: AppRouteHandler<typeof routes.listTagPosts> = async (c) => {
  const { limit, cursor } = c.req.valid('query');
  // The path passed the tag syntax; its stored form (lower case) is what post_tags holds.
  const tag = normalizeTag(c.req.valid('param').tag) ?? '';
  return c.json(await listPosts(c, c.get('auth')?.userId ?? null, tag, limit, cursor), 200);
};

const listTrends: AppRouteHandler<typeof routes.listTrends> = async (c) => {
  return c.json(await readTrends(c.var.d1, c.req.valid('query').limit), 200);
};

export const tagsRouter = createRouter().openapi(routes.listTagPosts, listTagPosts).openapi(routes.listTrends, listTrends);
