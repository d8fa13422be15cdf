import { createRoute, z } from '@hono/zod-openapi';
import { bearerSecurity, commonErrors, errors, jsonContent } from '../../lib/openapi';
import { PageQuerySchema } from '../../lib/pagination';
import { optionalAuth, requireAuth } from '../../middleware/auth';
import { PostPageSchema as PostPage, TopicQuerySchema } from '../posts/posts.schemas';
import { PROFESSIONAL_SORTS } from './professional-feed';

export const homeFeed = createRoute({
  method: 'get',
  path: '/feed/home',
  tags: ['Feeds'],
  summary: 'Your home feed',
  description:
    'Your own posts, the posts of people you follow or are friends with (as far as you may see them) and the posts of your communities, newest first. Muted and blocked authors never appear. The cursor is a keyset position: new posts never shift later pages, so there are no duplicates or gaps.',
  security: bearerSecurity,
  middleware: [requireAuth],
  request: { query: PageQuerySchema },
  responses: { 200: jsonContent(PostPage, 'A page of posts'), ...commonErrors, ...errors[401] },
});

export const discoverFeed = createRoute({
  method: 'get',
  path: '/feed/discover',
  tags: ['Feeds'],
  summary: 'Relevant public posts, beyond the accounts you follow',
  description: [
    'Public posts of public accounts from the last 7 days (the newest 500 candidates, optionally one `topic`), ranked by',
    '`score = (1 + likes + 2·comments) / (age_hours + 2)^1.5 × (1 + 0.5·friend_of_friend + 0.5·liked_by_a_friend + 0.25·friend) × (1 + topic_share)`,',
    "where `topic_share` is the fraction of your recent likes (last 200) that went to posts of the post's topic. Your own posts, blocked and muted authors are left out.",
    'Anonymous callers get the same ranking without the social and topic terms. The cursor pins the ranking clock, so pages are consistent.',
  ].join(' '),
  security: [{}, ...bearerSecurity],
  middleware: [optionalAuth],
  request: { query: PageQuerySchema.merge(TopicQuerySchema) },
  responses: { 200: jsonContent(PostPage, 'A page of posts'), ...commonErrors, ...errors[401] },
});

export const professionalFeed = createRoute({
  method: 'get',
  path: '/feed/professional',
  tags: ['Feeds'],
  summary: 'The professional feed',
  description: [
    'Posts with `space: "professional"` only (they never appear in the home feed; news items are their own list, GET /news).',
    'First the posts of your connections (accounts you follow, your friends, and your own, as far as you may see them), then public professional posts of everyone else (public accounts).',
    '`sort=top` (default) ranks each of the two groups\' posts of the last 30 days (the newest 500 of each) by the discover score (see GET /feed/discover, without its social terms);',
    '`sort=new` lists each group newest first, through any depth. `topic` keeps one topic. Blocked and muted authors never appear; anonymous callers get the second group only.',
  ].join(' '),
  security: [{}, ...bearerSecurity],
  middleware: [optionalAuth],
  request: {
    query: PageQuerySchema.merge(TopicQuerySchema).extend({
      sort: z
        .enum(PROFESSIONAL_SORTS, { error: 'must be top or new' })
        .default('top')
        .openapi({ param: { name: 'sort', in: 'query' }, example: 'new' }),
    }),
  },
  responses: { 200: jsonContent(PostPage, 'A page of posts'), ...commonErrors, ...errors[401] },
});
