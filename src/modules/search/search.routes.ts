import { createRoute } from '@hono/zod-openapi';
import { bearerSecurity, commonErrors, errors, jsonContent } from '../../lib/openapi';
import { requireAuth } from '../../middleware/auth';
import { SearchQuerySchema, SearchResponseSchema } from './search.schemas';

export const search = createRoute({
  method: 'get',
  path: '/search',
  tags: ['Search and discovery'],
  summary: 'Search people, posts, communities and hashtags',
  description: [
    '`q` (1 to 100 characters) is searched as plain words: quotes, `AND`, `OR`, `NEAR`, `*`, parentheses and `column:` are never operators, so any text answers results or an empty list.',
    'Matching is accent- and case-insensitive (`ecole` finds "École"). Without `type`: `{ users, posts, communities, tags }`, at most 5 of each (`limit` and `cursor` are ignored).',
    'With `type`: a page of that kind, best match first.',
    '**users**: every word matches username, display name, bio or professional headline (the headline only where that profile and the account are public), words of 2 or more characters as prefixes (`ad` finds "Ada").',
    '**posts**: every word in the content (whole words); `#word` also requires the tag (a query of tags only lists the newest posts carrying the first tag).',
    '**communities** (name, description) and **tags** (name): prefixes, like users.',
    'Ranking: `score = relevance × social × engagement`, where relevance is bm25 of the match, social is `1 + 1·friend + 0.5·followed` (of the account or the post\'s author), and engagement saturates: `1 + n/(n + h)` with n = followers (h 100) for people, likes + 2·comments (h 10) for posts, members (h 50) for communities, and for tags the posts anyone may see (by authors you may find) among its 20 newest (h 10), so hidden posts never list or raise a tag;',
    'people get ×2 for the exact username, communities ×2 where you are a member. Each query ranks a bounded set of matches: for posts the 150 newest; for people the 1,000 most followed (past 1,000 matches), plus the people you know and the exact username; for communities and tags the 500 best by bm25 (or, past 1,000 matches, the first 500 found).',
    'Results honour visibility: only posts you may read (friends-only, private, held and community posts as everywhere), nothing across a block either way, no suspended or silenced accounts (nor their posts), and accounts with `discoverable: false` (and their posts) only if you follow them or are friends.',
    'A tag is listed only when one of its recent posts is one anyone may see. The cursor of a posts page pins the moment of the first page.',
    '`next_cursor` is set only when one more result you may see follows the page (hidden matches never show as a cursor or an empty page with one); cursors are sealed and name no hidden row.',
  ].join(' '),
  security: bearerSecurity,
  middleware: [requireAuth],
  request: { query: SearchQuerySchema },
  responses: { 200: jsonContent(SearchResponseSchema, 'Results: the four kinds (no `type`), or one page of one kind'), ...commonErrors, ...errors[401] },
});
