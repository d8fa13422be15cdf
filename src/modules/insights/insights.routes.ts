import { createRoute } from '@hono/zod-openapi';
import { bearerSecurity, commonErrors, errors, jsonContent } from '../../lib/openapi';
import { requireAuth } from '../../middleware/auth';
import { CommunityIdParamSchema } from '../communities/communities.schemas';
import { PostIdParamSchema } from '../posts/posts.schemas';
import { CommunityInsightsSchema, PostInsightsSchema } from './insights.schemas';

const tags = ['Insights'];
const authed = { security: bearerSecurity, middleware: [requireAuth] };

export const postInsights = createRoute({
  method: 'get',
  path: '/posts/{id}/insights',
  tags,
  summary: "Your post's reach and engagement",
  description:
    "The author only: 403 for anyone else who can see the post, 404 for a post that does not exist or that the caller cannot see. An impression is the post served in any feed, list or read, the author's own views excluded; views are counted in batches through a queue (never a database write per view), so a fresh one shows up within about a minute.",
  ...authed,
  request: { params: PostIdParamSchema },
  responses: { 200: jsonContent(PostInsightsSchema, "The post's insights"), ...commonErrors, ...errors[401], ...errors[403], ...errors[404] },
});

export const communityInsights = createRoute({
  method: 'get',
  path: '/communities/{id}/insights',
  tags,
  summary: "A community's membership and activity",
  description:
    'The owner and moderators only: 403 for anyone else who can see the community, 404 for a community that does not exist or is private to the caller. `{id}` takes an id or a slug. Windows are the last 7 days up to now.',
  ...authed,
  request: { params: CommunityIdParamSchema },
  responses: { 200: jsonContent(CommunityInsightsSchema, "The community's insights"), ...commonErrors, ...errors[401], ...errors[403], ...errors[404] },
});
