import { createRoute } from '@hono/zod-openapi';
import { createRouter } from '../../lib/create-app';
import { bearerSecurity, commonErrors, errors, jsonBody, jsonContent } from '../../lib/openapi';
import { PageQuerySchema } from '../../lib/pagination';
import type { AppRouteHandler } from '../../lib/types';
import { currentUser, requireAuth } from '../../middleware/auth';
import { CreateFilterSchema, FilterIdParamSchema, FilterPageSchema, FilterSchema, UpdateFilterSchema } from './filters.schemas';
import * as service from './filters.service';

const tags = ['Filters'];
const authed = { security: bearerSecurity, middleware: [requireAuth] };
const own = { ...commonErrors, ...errors[401], ...errors[404] };

const list = createRoute({
  method: 'get', path: '/filters', tags, summary: 'Your personal filters',
  description: 'Newest first, expired ones included (they no longer apply).',
  ...authed, request: { query: PageQuerySchema },
  responses: { 200: jsonContent(FilterPageSchema, 'A page of filters'), ...commonErrors, ...errors[401] },
});

const create = createRoute({
  method: 'post', path: '/filters', tags, summary: 'Create a personal filter (Mastodon v2 shape)',
  description: [
    'In each listed `context` (home, discover, community, profile, notifications), posts (and notifications about posts, comments and messages) whose text matches a keyword are dropped (`hide`) or kept with `filtered: [{ filter_id, title, keyword_matches }]` (`warn`).',
    'Matching is case- and accent-insensitive, whole words unless `whole_word: false`. Your own posts are never filtered. `expires_in` (seconds) ends it. At most 100 filters (409) of up to 100 keywords.',
  ].join(' '),
  ...authed, request: { body: jsonBody(CreateFilterSchema) },
  responses: { 201: jsonContent(FilterSchema, 'The new filter'), ...commonErrors, ...errors[401], ...errors[409] },
});

const get = createRoute({
  method: 'get', path: '/filters/{id}', tags, summary: 'One of your filters',
  ...authed, request: { params: FilterIdParamSchema },
  responses: { 200: jsonContent(FilterSchema, 'The filter'), ...own },
});

const update = createRoute({
  method: 'patch', path: '/filters/{id}', tags, summary: 'Change a filter',
  description: 'Any of the fields; `keywords` replaces the list; `expires_in: null` removes the expiry.',
  ...authed, request: { params: FilterIdParamSchema, body: jsonBody(UpdateFilterSchema) },
  responses: { 200: jsonContent(FilterSchema, 'The filter'), ...own },
});

const remove = createRoute({
  method: 'delete', path: '/filters/{id}', tags, summary: 'Delete a filter',
  ...authed, request: { params: FilterIdParamSchema },
  responses: { 204: { description: 'Deleted' }, ...own },
});

const listHandler: AppRouteHandler<typeof list> = async (c) => {
  const { limit, cursor } = c.req.valid('query');
  return c.json(await service.listFilters(c, currentUser(c).userId, limit, cursor), 200);
};
const createHandler: AppRouteHandler<typeof create> = async (c) => c.json(await service.createFilter(c, currentUser(c).userId, c.req.valid('json')), 201);
const getHandler: AppRouteHandler<typeof get> = async (c) => c.json(await service.getFilter(c, currentUser(c).userId, c.req.valid('param').id), 200);
const updateHandler: AppRouteHandler<typeof update> = async (c) =>
  c.json(await service.updateFilter(c, currentUser(c).userId, c.req.valid('param').id, c.req.valid('json')), 200);
const removeHandler: AppRouteHandler<typeof remove> = async (c) => {
  await service.deleteFilter(c, currentUser(c).userId, c.req.valid('param').id);
  return c.body(null, 204);
};

export const filtersRouter = createRouter()
  .openapi(list, listHandler)
  .openapi(create, createHandler)
  .openapi(get, getHandler)
  .openapi(update, updateHandler)
  .openapi(remove, removeHandler);
