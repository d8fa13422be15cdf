import { createRoute } from '@hono/zod-openapi';
import { edgeCache } from '../../lib/edge-cache';
import { bearerSecurity, commonErrors, edgeCachedJson, errors, jsonContent } from '../../lib/openapi';
import { PageQuerySchema } from '../../lib/pagination';
import { optionalAuth } from '../../middleware/auth';
import { PostPageSchema } from '../posts/posts.schemas';
import { TagParamSchema, TrendingTagsSchema } from './tags.schemas';

const tags = ['Search and discovery'];

export const listTagPosts = createRoute({
  method: 'get',
  path: '/tags/{tag}/posts',
  tags,
  summary: "A hashtag's posts",
  description:
    'Posts whose content carries `#tag` (any case: tags are stored lower case), newest first, as far as you may see them (the same rules as every post list). Muted authors and your personal filters of the `discover` context apply. A `tag` outside 1 to 50 letters, digits or underscores is 400; a tag nobody used is an empty list. `next_cursor` is set only when one more post you may see follows the page, so posts hidden from you never show as a cursor (a page is read on past hidden posts, some 400 at most, before the list ends).',
  security: [{}, ...bearerSecurity],
  middleware: [optionalAuth],
  request: { params: TagParamSchema, query: PageQuerySchema },
  responses: { 200: jsonContent(PostPageSchema, 'A page of posts'), ...commonErrors, ...errors[401] },
});

export const listTrends = createRoute({
  method: 'get',
  path: '/trends/tags',
  tags,
  summary: 'Trending hashtags',
  description: [
    'Rising tags first, as of the last refresh (every 10 minutes), counting only posts anyone may see. For each tag, `accounts_24h` (distinct authors in the last 24 hours) is compared with its baseline, the distinct authors per day over the 7 days before:',
    '`score = (accounts_24h − baseline)² / max(baseline, 1)` when accounts_24h exceeds the baseline. Tags used by fewer than 2 accounts in the window, or not rising, are not listed. `limit`: 1 to 100 (default 20). Anonymous reads may come from the edge cache (at most 120 s old, purged by every refresh; `X-Cache`).',
  ].join(' '),
  security: [{}, ...bearerSecurity],
  middleware: [edgeCache('trends'), optionalAuth],
  request: { query: PageQuerySchema.pick({ limit: true }) },
  responses: { 200: edgeCachedJson(TrendingTagsSchema, 'Trending tags, rising first'), ...commonErrors, ...errors[401] },
});

