import { createRouter } from '../../lib/create-app';
import type { AppRouteHandler } from '../../lib/types';
import { currentUser } from '../../middleware/auth';
import * as routes from './suggestions.routes';
import * as service from './suggestions.service';

const listSuggestions: AppRouteHandler<typeof routes.listSuggestions> = async (c) => {
  return c.json(await service.listSuggestions(c, currentUser(c).userId, c.req.valid('query').limit), 200);
};

const dismissSuggestion: AppRouteHandler<typeof routes.dismissSuggestion> = async (c) => {
  await service.dismissSuggestion(c, currentUser(c).userId, c.req.valid('param').user_id);
  return c.body(null, 204);
};

export const suggestionsRouter = createRouter().openapi(routes.listSuggestions, listSuggestions).openapi(routes.dismissSuggestion, dismissSuggestion);
