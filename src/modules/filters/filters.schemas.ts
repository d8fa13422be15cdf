import { z } from '@hono/zod-openapi';
import { FILTER_ACTIONS, FILTER_CONTEXTS } from '../../db/schema';
import { idParam } from '../../lib/openapi';
import { pageSchema } from '../../lib/pagination';
import { singleLineText } from '../../policy/text-hygiene';

export const MAX_FILTERS_PER_USER = 100;
export const MAX_KEYWORDS_PER_FILTER = 100;
/** Ten years: longer is "never" (leave expires_in out, or null). */
export const MAX_EXPIRES_IN = 10 * 365 * 24 * 60 * 60;

export const FilterIdParamSchema = idParam('id', 'filter', '01JC7F1A2B3C4D5E6F7G8H9J0K');

/** What a `warn` filter attaches to a post it matched. */
export const FilterResultSchema = z
  .object({
    filter_id: z.string(),
    title: z.string(),
    keyword_matches: z.array(z.string()).openapi({ description: 'The filter keywords found in the text.' }),
  })
  .openapi('FilterResult', { example: { filter_id: '01JC7F1A2B3C4D5E6F7G8H9J0K', title: 'Spoilers', keyword_matches: ['finale'] } });

const Keyword = singleLineText().min(1, 'must not be blank').max(100, 'must be at most 100 characters');
const Title = singleLineText().min(1, 'must not be blank').max(100, 'must be at most 100 characters');
const Context = z
  .array(z.enum(FILTER_CONTEXTS, { error: `must be one of ${FILTER_CONTEXTS.join(', ')}` }))
  .min(1, 'must name at least one context')
  .max(FILTER_CONTEXTS.length)
  .refine((list) => new Set(list).size === list.length, 'must not repeat a context');
const Action = z.enum(FILTER_ACTIONS, { error: 'must be warn or hide' });
const ExpiresIn = z
  .number()
  .int('must be a whole number of seconds')
  .min(1, 'must be at least 1 second')
  .max(MAX_EXPIRES_IN, `must be at most ${MAX_EXPIRES_IN} seconds`)
  .nullable()
  .openapi({ description: 'Seconds from now until the filter stops applying; null or absent: never.' });

const KeywordInput = z.strictObject({ keyword: Keyword, whole_word: z.boolean().default(true) }).openapi('FilterKeywordInput');
const Keywords = z.array(KeywordInput).max(MAX_KEYWORDS_PER_FILTER, `at most ${MAX_KEYWORDS_PER_FILTER} keywords`);

export const CreateFilterSchema = z
  .strictObject({ title: Title, keywords: Keywords.min(1, 'must hold at least one keyword'), context: Context, action: Action.default('warn'), expires_in: ExpiresIn.optional() })
  .openapi('CreateFilter', {
    example: { title: 'Spoilers', keywords: [{ keyword: 'finale', whole_word: true }], context: ['home', 'discover'], action: 'warn', expires_in: 604800 },
  });

export const UpdateFilterSchema = z
  .strictObject({ title: Title.optional(), keywords: Keywords.min(1, 'must hold at least one keyword').optional(), context: Context.optional(), action: Action.optional(), expires_in: ExpiresIn.optional() })
  .openapi('UpdateFilter', { example: { action: 'hide', expires_in: null } });

const filterExample = {
  id: '01JC7F1A2B3C4D5E6F7G8H9J0K',
  title: 'Spoilers',
  context: ['home' as const, 'discover' as const],
  action: 'warn' as const,
  expires_at: '2026-11-28T10:00:00.000Z',
  keywords: [{ id: '01JC7F1A2B3C4D5E6F7G8H9J0M', keyword: 'finale', whole_word: true }],
  created_at: '2026-11-21T10:00:00.000Z',
};

export const FilterSchema = z
  .object({
    id: z.string(),
    title: z.string(),
    context: z.array(z.enum(FILTER_CONTEXTS)),
    action: z.enum(FILTER_ACTIONS),
    expires_at: z.string().nullable().openapi({ description: 'null: never expires. An expired filter is still listed but no longer applies.' }),
    keywords: z.array(z.object({ id: z.string(), keyword: z.string(), whole_word: z.boolean() })),
    created_at: z.string(),
  })
  .openapi('Filter', { example: filterExample });

export const FilterPageSchema = pageSchema('FilterPage', FilterSchema, filterExample);

export type Filter = z.infer<typeof FilterSchema>;
export type FilterResult = z.infer<typeof FilterResultSchema>;
