import { z } from '@hono/zod-openapi';
import { idParam } from '../../lib/openapi';
import { ID_PATTERN } from '../../lib/ids';
import { POST_SPACES } from '../../db/schema/posts';
import { MediaSchema } from '../media/media.schemas';
import { pageSchema } from '../../lib/pagination';
import { multiLineText } from '../../policy/text-hygiene';
import { publicUserExample, PublicUserSchema } from '../users/users.schemas';
import { FilterResultSchema } from '../filters/filters.schemas';

/** The topics a post may carry (filterable on feeds and lists). */
export const TOPICS = [
  'general',
  'news',
  'education',
  'faith',
  'career',
  'events',
  'sports',
  'music',
  'arts',
  'technology',
  'health',
  'family',
  'food',
  'travel',
] as const;

export const MAX_POST_LENGTH = 5000;
export const MAX_POST_MEDIA = 10;
export const MAX_COMMENT_LENGTH = 2000;

export const PostIdParamSchema = idParam('id', 'post');
export const CommentIdParamSchema = idParam('id', 'comment', '01JC6ZA1B2C3D4E5F6G7H8J9K0');

const TopicSchema = z.enum(TOPICS, { error: `must be one of ${TOPICS.join(', ')}` });
const PostMediaSchema = MediaSchema.pick({ id: true, url: true, content_type: true, width: true, height: true });

export const examplePost = {
  id: '01JC6Z7TQ2W3E4R5T6Y7V8H9K0',
  author: publicUserExample,
  content: 'The Analytical Engine weaves algebraic patterns just as the Jacquard loom weaves flowers and leaves. @charles #engines',
  tags: ['engines'],
  topic: 'education',
  visibility: 'public' as const,
  space: 'personal' as const,
  target_user: null,
  community_id: null,
  media: [],
  like_count: 3,
  comment_count: 1,
  liked_by_me: false,
  created_at: '2026-11-21T10:00:00.000Z',
  edited_at: null,
};

export const PostSchema = z
  .object({
    id: z.string(),
    author: PublicUserSchema,
    content: z.string(),
    tags: z.array(z.string()).openapi({
      description: 'The `#words` of the content, lower case, each once, in order (at most 20; see GET /tags/{tag}/posts). Recomputed when the content is edited.',
      example: ['engines'],
    }),
    topic: z.string().nullable(),
    visibility: z.enum(['public', 'friends', 'private']),
    space: z.enum(POST_SPACES).openapi({ description: '`personal` (home, discover, walls, communities) or `professional` (the professional feed only)' }),
    target_user: PublicUserSchema.nullable(),
    community_id: z.string().nullable(),
    media: z.array(PostMediaSchema),
    like_count: z.number().int().openapi({ description: 'Likes by accounts not suspended.' }),
    comment_count: z.number().int().openapi({ description: 'Comments and replies, not counting those held for review (counted once released) or written by a suspended account.' }),
    liked_by_me: z.boolean(),
    created_at: z.string(),
    edited_at: z.string().nullable(),
    held: z
      .literal(true)
      .optional()
      .openapi({ description: 'Present (true) only while the post is held for review by a content rule or spam hold: then only its author and staff see it.' }),
    filtered: z
      .array(FilterResultSchema)
      .optional()
      .openapi({ description: 'Present only when one of your `warn` personal filters matched the post in this context (feeds and profile lists).' }),
  })
  .openapi('Post', { example: examplePost });

export const PostPageSchema = pageSchema('PostPage', PostSchema, examplePost);

const hiddenWallPostExample = { id: examplePost.id, created_at: examplePost.created_at };

/** A post on the caller's wall that a block hides from them: enough to delete it, nothing to read. */
export const HiddenWallPostSchema = z
  .object({ id: z.string(), created_at: z.string() })
  .openapi('HiddenWallPost', { example: hiddenWallPostExample });

export const HiddenWallPostPageSchema = pageSchema('HiddenWallPostPage', HiddenWallPostSchema, hiddenWallPostExample);

export const CreatePostSchema = z
  .object({
    content: multiLineText().max(MAX_POST_LENGTH, `must be at most ${MAX_POST_LENGTH} characters`).optional(),
    visibility: z.enum(['public', 'friends', 'private']).optional(),
    topic: TopicSchema.nullable().optional(),
    space: z.enum(POST_SPACES, { error: `must be one of ${POST_SPACES.join(', ')}` }).optional(),
    target_user_id: z.string().regex(ID_PATTERN, 'is not a valid user id').nullable().optional(),
    community_id: z.string().regex(ID_PATTERN, 'is not a valid community id').nullable().optional(),
    media_ids: z
      .array(z.string().regex(ID_PATTERN, 'is not a valid media id'))
      .max(MAX_POST_MEDIA, `at most ${MAX_POST_MEDIA} media items`)
      .optional(),
  })
  .openapi('CreatePost', {
    example: { content: 'Hello, Kith! @charles #introductions', visibility: 'public', topic: 'general', media_ids: ['01JC6Z4Q8N0B2C3D4E5F6G7H8J'] },
  });

export const UpdatePostSchema = z
  .strictObject({
    content: multiLineText().max(MAX_POST_LENGTH, `must be at most ${MAX_POST_LENGTH} characters`).optional(),
    visibility: z.enum(['public', 'friends', 'private']).optional(),
    topic: TopicSchema.nullable().optional(),
    media_ids: z.array(z.string().regex(ID_PATTERN, 'is not a valid media id')).max(MAX_POST_MEDIA).optional(),
  })
  .openapi('UpdatePost', { example: { content: 'Hello again, Kith!', topic: 'news' } });

export const LikeStateSchema = z
  .object({ liked: z.boolean(), like_count: z.number().int() })
  .openapi('LikeState', { example: { liked: true, like_count: 4 } });

export const TopicQuerySchema = z.object({
  topic: TopicSchema.optional().openapi({ param: { name: 'topic', in: 'query' }, example: 'news' }),
});

const commentExample = {
  id: '01JC6ZA1B2C3D4E5F6G7H8J9K0',
  post_id: examplePost.id,
  parent_id: null,
  author: publicUserExample,
  content: 'Beautifully put.',
  reply_count: 0,
  created_at: '2026-11-21T10:05:00.000Z',
};

export const CommentSchema = z
  .object({
    id: z.string(),
    post_id: z.string(),
    parent_id: z.string().nullable(),
    author: PublicUserSchema,
    content: z.string(),
    reply_count: z.number().int().openapi({ description: 'Replies, not counting those held for review (counted once released) or written by a suspended account.' }),
    created_at: z.string(),
    held: z.literal(true).optional().openapi({ description: 'Present (true) only while the comment is held (for review, or written by a silenced account out of its reach): then only its author and staff see it.' }),
  })
  .openapi('Comment', { example: commentExample });

export const CommentPageSchema = pageSchema('CommentPage', CommentSchema, commentExample);

export const CreateCommentSchema = z
  .object({
    content: multiLineText().trim().min(1, 'must not be blank').max(MAX_COMMENT_LENGTH, `must be at most ${MAX_COMMENT_LENGTH} characters`),
    parent_id: z.string().regex(ID_PATTERN, 'is not a valid comment id').nullable().optional(),
  })
  .openapi('CreateComment', { example: { content: 'Beautifully put.', parent_id: null } });

export const CommentListQuerySchema = z.object({
  parent_id: z
    .string()
    .regex(ID_PATTERN, 'is not a valid comment id')
    .optional()
    .openapi({ param: { name: 'parent_id', in: 'query' }, example: '01JC6ZA1B2C3D4E5F6G7H8J9K0' }),
});

export type Post = z.infer<typeof PostSchema>;
export type Comment = z.infer<typeof CommentSchema>;
