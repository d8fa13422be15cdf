import { z } from '@hono/zod-openapi';
import { trimmedText } from '../../lib/openapi';
import { PageQuerySchema } from '../../lib/pagination';
import { communityExample, CommunityPageSchema, CommunitySchema } from '../communities/communities.schemas';
import { examplePost, PostPageSchema, PostSchema } from '../posts/posts.schemas';
import { TagStatsPageSchema, TagStatsSchema, tagStatsExample } from '../tags/tags.schemas';
import { publicUserExample, PublicUserPageSchema, PublicUserSchema } from '../users/users.schemas';

export const SEARCH_TYPES = ['users', 'posts', 'communities', 'tags'] as const;
export type SearchType = (typeof SEARCH_TYPES)[number];

/** Results of each kind in a search without `type`. */
export const SEARCH_PREVIEW = 5;

export const SearchQuerySchema = PageQuerySchema.extend({
  q: trimmedText(1, 100, 'must be 1 to 100 characters').openapi({ param: { name: 'q', in: 'query', required: true }, example: 'ada' }),
  type: z
    .enum(SEARCH_TYPES, { error: `must be one of ${SEARCH_TYPES.join(', ')}` })
    .optional()
    .openapi({ param: { name: 'type', in: 'query' }, example: 'users' }),
});

const searchResultsExample = { users: [publicUserExample], posts: [examplePost], communities: [communityExample], tags: [tagStatsExample] };

export const SearchResultsSchema = z
  .object({
    users: z.array(PublicUserSchema),
    posts: z.array(PostSchema),
    communities: z.array(CommunitySchema),
    tags: z.array(TagStatsSchema),
  })
  .openapi('SearchResults', { example: searchResultsExample });

/** Without `type`, the four previews; with it, a page of that kind. */
export const SearchResponseSchema = z
  .union([SearchResultsSchema, PublicUserPageSchema, PostPageSchema, CommunityPageSchema, TagStatsPageSchema])
  .openapi({ example: searchResultsExample });
