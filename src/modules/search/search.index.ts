import { createRouter } from '../../lib/create-app';
import type { AppRouteHandler } from '../../lib/types';
import { currentUser } from '../../middleware/auth';
import * as routes from './search.routes';
import { search as runSearch } from './search.service';

const search: AppRouteHandler<typeof routes.search> = async (c) => {
  const { q, type, limit, cursor } = c.req.valid('query');
  return c.json(await runSearch(c, currentUser(c).userId, q, type, limit, cursor), 200);
};

export const searchRouter = createRouter().openapi(routes.search, search);
