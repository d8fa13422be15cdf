import { createRoute } from '@hono/zod-openapi';
import { bearerSecurity, commonErrors, errors, jsonBody, jsonContent } from '../../lib/openapi';
import { PageQuerySchema } from '../../lib/pagination';
import { optionalAuth, requireAuth } from '../../middleware/auth';
import { requireStaff } from '../../middleware/require-staff';
import {
  CreateNewsSourceSchema,
  NewsItemPageSchema,
  NewsQuerySchema,
  NewsSourceIdParamSchema,
  NewsSourcePageSchema,
  NewsSourceSchema,
  UpdateNewsSourceSchema,
} from './news.schemas';

const staff = { tags: ['News (staff)'], security: bearerSecurity, middleware: [requireAuth, requireStaff()] };
const staffErrors = { ...commonErrors, ...errors[401], ...errors[403] };

const URL_RULES =
  '`url` must be http(s) and must not be, or resolve to, a private, link-local or loopback address (400; loopback only where NEWS_ALLOW_PRIVATE=true, for tests and local development). The same check runs again on every fetch and redirect.';

export const listNews = createRoute({
  method: 'get',
  path: '/news',
  tags: ['News'],
  summary: 'News items, newest first',
  description:
    'Items of the feeds staff subscribe to (RSS 2.0, Atom, JSON Feed), fetched every 15 minutes; each item once, with markup stripped from its title and summary. `topic` keeps one topic. News stays its own list: it never mixes into the post feeds.',
  security: [{}, ...bearerSecurity],
  middleware: [optionalAuth],
  request: { query: PageQuerySchema.merge(NewsQuerySchema) },
  responses: { 200: jsonContent(NewsItemPageSchema, 'A page of news items'), ...commonErrors, ...errors[401] },
});

export const listSources = createRoute({
  method: 'get',
  path: '/admin/news/sources',
  ...staff,
  summary: 'News sources, newest first',
  description: 'Staff only (moderators and admins). Each source shows how its last fetch went.',
  request: { query: PageQuerySchema },
  responses: { 200: jsonContent(NewsSourcePageSchema, 'A page of sources'), ...staffErrors },
});

export const createSource = createRoute({
  method: 'post',
  path: '/admin/news/sources',
  ...staff,
  summary: 'Subscribe the news segment to a feed',
  description: `Staff only. ${URL_RULES} The first fetch comes with the next cron tick (or POST …/refresh). A URL that is already a source is 409.`,
  request: { body: jsonBody(CreateNewsSourceSchema) },
  responses: { 201: jsonContent(NewsSourceSchema, 'The new source'), ...staffErrors, ...errors[409] },
});

export const updateSource = createRoute({
  method: 'patch',
  path: '/admin/news/sources/{id}',
  ...staff,
  summary: 'Change a news source',
  description: `Staff only. A new \`url\` starts the source over (no validators, no failures, due at the next tick); a new \`topic\` moves its items too. ${URL_RULES}`,
  request: { params: NewsSourceIdParamSchema, body: jsonBody(UpdateNewsSourceSchema) },
  responses: { 200: jsonContent(NewsSourceSchema, 'The source'), ...staffErrors, ...errors[404], ...errors[409] },
});

export const deleteSource = createRoute({
  method: 'delete',
  path: '/admin/news/sources/{id}',
  ...staff,
  summary: 'Remove a news source and its items',
  request: { params: NewsSourceIdParamSchema },
  responses: { 204: { description: 'Removed' }, ...staffErrors, ...errors[404] },
});

export const refreshSource = createRoute({
  method: 'post',
  path: '/admin/news/sources/{id}/refresh',
  ...staff,
  summary: 'Fetch a news source now',
  description:
    "Staff only. Fetches the feed in this request (conditional GET, 10 s timeout, 5 MB cap, at most 3 redirects) and answers the source with the outcome: a feed that fails is not an error of this request (200 with `last_status: \"error\"` and `last_error`).",
  request: { params: NewsSourceIdParamSchema },
  responses: { 200: jsonContent(NewsSourceSchema, 'The source after the fetch'), ...staffErrors, ...errors[404] },
});
