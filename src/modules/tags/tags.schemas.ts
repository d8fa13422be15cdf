import { z } from '@hono/zod-openapi';
import { pageSchema } from '../../lib/pagination';
import { HASHTAG_BODY } from './hashtags';

export const tagStatsExample = { tag: 'engines', uses_24h: 42, accounts_24h: 17 };

export const TagStatsSchema = z
  .object({
    tag: z.string().openapi({ description: 'Lower case, without `#`.' }),
    uses_24h: z.number().int().openapi({ description: 'Posts anyone may see that carried the tag in the last 24 hours (as of the last trends refresh).' }),
    accounts_24h: z.number().int().openapi({ description: 'Distinct authors of those posts.' }),
  })
  .openapi('TagStats', { example: tagStatsExample });

export const TagStatsPageSchema = pageSchema('TagStatsPage', TagStatsSchema, tagStatsExample);

export const TrendingTagsSchema = z.array(TagStatsSchema).openapi('TrendingTags', { example: [tagStatsExample, { tag: 'looms', uses_24h: 12, accounts_24h: 9 }] });

export const TagParamSchema = z.object({
  tag: z
    .string()
    .regex(new RegExp(`^${HASHTAG_BODY}$`, 'u'), 'must be 1 to 50 letters, digits or underscores')
    .openapi({
      param: { name: 'tag', in: 'path', description: 'The tag without `#`, in any case.' },
      example: 'engines',
      pattern: `^${HASHTAG_BODY}$`,
    }),
});
