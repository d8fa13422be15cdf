import { createRoute } from '@hono/zod-openapi';
import { IdempotencyHeaderSchema } from '../../lib/idempotency';
import { optionalAuth, requireAuth } from '../../middleware/auth';
import { bearerSecurity, commonErrors, errors, jsonBody, jsonContent } from '../../lib/openapi';
import { PageQuerySchema } from '../../lib/pagination';
import { CommentIdParamSchema, CommentListQuerySchema, CommentPageSchema as CommentPage, CommentSchema, CreateCommentSchema, PostIdParamSchema } from '../posts/posts.schemas';

const tags = ['Comments'];

export const listComments = createRoute({
  method: 'get',
  path: '/posts/{id}/comments',
  tags,
  summary: 'Comments on a post, oldest first',
  description: 'Top-level comments; `?parent_id=` lists the replies to that comment instead (404 naming `parent_id` when that comment does not exist or is hidden from you: by a suspended account, across a block either way, or held for review; the thread under a hidden comment is hidden with it). Comments you may not see are left out.',
  security: [{}, ...bearerSecurity],
  middleware: [optionalAuth],
  request: { params: PostIdParamSchema, query: PageQuerySchema.merge(CommentListQuerySchema) },
  responses: { 200: jsonContent(CommentPage, 'A page of comments'), ...commonErrors, ...errors[401], ...errors[404] },
});

export const createComment = createRoute({
  method: 'post',
  path: '/posts/{id}/comments',
  tags,
  summary: 'Comment on a post, or reply to a comment',
  description: 'Content 1..2,000 characters. `parent_id` (a top-level comment of the same post) makes it a reply; replies are one level deep, and a held comment takes none until it is released (400 naming `parent_id`, its own author included). The content passes the keyword rules and spam holds as posts do (422 for `reject`; a held comment has `held: true` and is seen by you and staff only until released). A comment by a silenced account on the post of someone who neither follows it (accepted) nor is its friend is held too, with no report: seen by its writer and staff only, not counted, notifying nobody, until the silence is lifted; then it is published and counted, still notifying nobody (one also held for review stays held until a moderator releases it). With an `Idempotency-Key` header, a retry of the same request within 24 hours answers 200 with the comment the first one created, never a second one. 404 when the post does not exist or you may not see it; 403 when you are banned from its community.',
  security: bearerSecurity,
  middleware: [requireAuth],
  request: { params: PostIdParamSchema, headers: IdempotencyHeaderSchema, body: jsonBody(CreateCommentSchema) },
  responses: {
    200: jsonContent(CommentSchema, 'A retry: the comment the first request with this `Idempotency-Key` created, as it is now (nothing was created)'),
    201: jsonContent(CommentSchema, 'The new comment'),
    ...commonErrors,
    ...errors[401],
    ...errors[403],
    ...errors[404],
    ...errors[409],
    ...errors[422],
  },
});

export const deleteComment = createRoute({
  method: 'delete',
  path: '/comments/{id}',
  tags,
  summary: 'Delete a comment',
  description:
    "By the comment's author, the post's author, the owner of the wall the post is on (also while a block between them and the post's author hides the post from them), or the owner and moderators of the post's community (403 for anyone else who can see it, 404 for those who cannot). Deleting a top-level comment deletes its replies. The `post_comment`, `comment_reply` and `mention` notifications they caused leave their recipients' inboxes (`notification.removed` on open sockets), also one still on its way.",
  security: bearerSecurity,
  middleware: [requireAuth],
  request: { params: CommentIdParamSchema },
  responses: { 204: { description: 'Deleted' }, ...commonErrors, ...errors[401], ...errors[403], ...errors[404] },
});
