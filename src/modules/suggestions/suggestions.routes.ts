import { createRoute } from '@hono/zod-openapi';
import { bearerSecurity, commonErrors, errors, jsonContent } from '../../lib/openapi';
import { PageQuerySchema } from '../../lib/pagination';
import { requireAuth } from '../../middleware/auth';
import { DismissParamSchema, SuggestionListSchema } from './suggestions.schemas';

const tags = ['Search and discovery'];
const authed = { security: bearerSecurity, middleware: [requireAuth] };

export const listSuggestions = createRoute({
  method: 'get',
  path: '/suggestions',
  tags,
  summary: 'People you may know',
  description: [
    'Best first, at most `limit` (1 to 100, default 20). Sources: friends of your friends, accounts followed by accounts you follow (each with `mutual_count` and up to three `mutuals`), members of your communities, people in your city or region, and, while you have fewer than 10 friends and follows, the most followed accounts.',
    '`score = 3·mutual_friends + 2·mutual_follows + 1.5·shared_communities + 2·same_city + 1·same_region + followers/(followers + 100) if popular`.',
    'Never you, people you follow or befriended, anyone with a pending follow or friend request either way, blocks either way, people you dismissed, suspended, silenced or non-discoverable accounts.',
    'Your list is computed when you ask and kept 10 minutes; any change to your graph (a follow, a friendship, a request, a block, a dismissal, a community, your place) recomputes it on your next read.',
  ].join(' '),
  ...authed,
  request: { query: PageQuerySchema.pick({ limit: true }) },
  responses: { 200: jsonContent(SuggestionListSchema, 'Suggestions, best first'), ...commonErrors, ...errors[401] },
});

export const dismissSuggestion = createRoute({
  method: 'delete',
  path: '/suggestions/{user_id}',
  tags,
  summary: 'Never suggest this person again',
  description: 'Idempotent. 404 for an account that does not exist or that you may not see.',
  ...authed,
  request: { params: DismissParamSchema },
  responses: { 204: { description: 'Dismissed' }, ...commonErrors, ...errors[401], ...errors[404] },
});
