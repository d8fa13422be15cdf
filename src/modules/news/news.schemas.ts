import { z } from '@hono/zod-openapi';
import { NEWS_FETCH_STATUSES } from '../../db/schema/news';
import { idParam } from '../../lib/openapi';
import { pageSchema } from '../../lib/pagination';
import { singleLineText } from '../../policy/text-hygiene';
import { TOPICS } from '../posts/posts.schemas';

const TopicSchema = z.enum(TOPICS, { error: `must be one of ${TOPICS.join(', ')}` });

export const NewsSourceIdParamSchema = idParam('id', 'news source');

const sourceExample = {
  id: '01JC6ZC1B2C3D4E5F6G7H8J9K0',
  url: 'https://wire.example/careers.xml',
  title: 'Career Wire',
  topic: 'career',
  last_fetched_at: '2026-11-21T10:00:04.000Z',
  last_status: 'ok' as const,
  last_http_status: 200,
  last_error: null,
  item_count: 42,
  failure_count: 0,
  next_fetch_at: '2026-11-21T10:13:04.000Z',
  created_at: '2026-11-20T09:00:00.000Z',
};

export const NewsSourceSchema = z
  .object({
    id: z.string(),
    url: z.string(),
    title: z.string(),
    topic: z.string(),
    last_fetched_at: z.string().nullable().openapi({ description: 'When the last fetch ended; null before the first' }),
    last_status: z.enum(NEWS_FETCH_STATUSES).nullable().openapi({
      description: '`ok` (the feed was read), `not_modified` (304: nothing new), `error` (see `last_error`); null before the first fetch',
    }),
    last_http_status: z.number().int().nullable().openapi({ description: "The feed's HTTP status, when it answered at all" }),
    last_error: z.string().nullable().openapi({ description: 'What went wrong in the last fetch; null when it went well' }),
    item_count: z.number().int().openapi({ description: 'Items kept from this source' }),
    failure_count: z.number().int().openapi({ description: 'Failed fetches in a row; each doubles the wait before the next (15 minutes up to a day)' }),
    next_fetch_at: z.string().openapi({ description: 'The first cron tick at or after this fetches the source again' }),
    created_at: z.string(),
  })
  .openapi('NewsSource', { example: sourceExample });

export const NewsSourcePageSchema = pageSchema('NewsSourcePage', NewsSourceSchema, sourceExample);

const SourceUrlSchema = z.string().trim().min(1, 'is required').max(500, 'must be at most 500 characters').openapi({ example: 'https://wire.example/careers.xml' });
const SourceTitleSchema = singleLineText().min(1, 'must not be blank').max(200, 'must be at most 200 characters');

export const CreateNewsSourceSchema = z
  .strictObject({
    url: SourceUrlSchema,
    topic: TopicSchema,
    title: SourceTitleSchema.optional().openapi({ description: "Shown as the items' source; without it, the feed's own title" }),
  })
  .openapi('CreateNewsSource', { example: { url: 'https://wire.example/careers.xml', topic: 'career', title: 'Career Wire' } });

export const UpdateNewsSourceSchema = z
  .strictObject({
    url: SourceUrlSchema.optional(),
    topic: TopicSchema.optional(),
    title: SourceTitleSchema.nullable().optional().openapi({ description: "null: use the feed's own title" }),
  })
  .openapi('UpdateNewsSource', { example: { topic: 'education' } });

const itemExample = {
  id: '01JC6ZD1B2C3D4E5F6G7H8J9K0',
  title: 'Hiring & remote work in 2026',
  url: 'https://wire.example/hiring',
  summary: 'Employers expand remote roles. Second paragraph & more.',
  image_url: 'https://wire.example/hiring.jpg',
  topic: 'career',
  source: { id: sourceExample.id, title: sourceExample.title },
  published_at: '2026-11-21T09:00:00.000Z',
};

export const NewsItemSchema = z
  .object({
    id: z.string(),
    title: z.string().openapi({ description: 'Plain text: markup is stripped (escaped markup too), so it holds no tag; show it as text' }),
    url: z.string().nullable().openapi({ description: "The item's link (http or https only), when it has one" }),
    summary: z.string().openapi({ description: 'Plain text: markup is stripped (escaped markup too), so it holds no tag; show it as text' }),
    image_url: z.string().nullable().openapi({ description: 'An image of the item (http or https only), when it has one' }),
    topic: z.string(),
    source: z.object({ id: z.string(), title: z.string() }),
    published_at: z.string(),
  })
  .openapi('NewsItem', { example: itemExample });

export const NewsItemPageSchema = pageSchema('NewsItemPage', NewsItemSchema, itemExample);

export const NewsQuerySchema = z.object({
  topic: TopicSchema.optional().openapi({ param: { name: 'topic', in: 'query' }, example: 'career' }),
});

export type NewsSource = z.infer<typeof NewsSourceSchema>;
export type NewsItem = z.infer<typeof NewsItemSchema>;
