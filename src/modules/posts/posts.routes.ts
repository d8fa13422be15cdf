import { createRoute } from '@hono/zod-openapi';
import { edgeCache } from '../../lib/edge-cache';
import { notePostImpressions } from '../../middleware/impressions';
import { optionalAuth, requireAuth } from '../../middleware/auth';
import { bearerSecurity, commonErrors, edgeCachedJson, errors, jsonBody, jsonContent } from '../../lib/openapi';
import { IdempotencyHeaderSchema } from '../../lib/idempotency';
import { PageQuerySchema } from '../../lib/pagination';
import { PublicUserPageSchema as UserPage, UserRefParamSchema } from '../users/users.schemas';
import { CreatePostSchema, HiddenWallPostPageSchema, LikeStateSchema, PostIdParamSchema, PostPageSchema as PostPage, PostSchema, UpdatePostSchema } from './posts.schemas';

const tags = ['Posts'];
const authed = { security: bearerSecurity, middleware: [requireAuth] };
const maybeAuthed = { security: [{}, ...bearerSecurity], middleware: [optionalAuth] };

export const createPost = createRoute({
  method: 'post',
  path: '/posts',
  tags,
  summary: 'Create a post (or a wall post)',
  description:
    'Needs non-blank `content` (at most 5,000 characters) or at least one `media_ids` item (your own uploads from POST /media, at most 10). `visibility` defaults to public. `target_user_id` writes on that user\'s wall if their `wall_policy` allows it (friends by default; 403 otherwise; 404 for a suspended owner or across a block). A silenced account writes only on the walls of people who follow it or are its friends (403). Posts on the open walls (`everyone`) of people who neither follow you nor are your friends count against a daily limit of 20 (429 with `Retry-After`, nothing written). `community_id` posts into a community you are a member of (403 otherwise, 404 if there is none); such a post is seen by the community\'s audience (everyone, or members of a private community), so `visibility` must be left out or `public`, and it cannot also be a wall post. Topics: general, news, education, faith, career, events, sports, music, arts, technology, health, family, food, travel. `space` is `personal` (the default: home feeds, discover, walls, communities) or `professional` (the professional feed, GET /feed/professional, and never a home feed); it is fixed at creation, and a professional post cannot be a wall or community post (400). `content` passes the keyword rules: `reject` → 422 (`/content-rejected`, field named), `hold` → the post is created with `held: true`, seen by you and staff only until a moderator releases it, `flag` → published and reported. The same text more than 3 times in 10 minutes, or more than 5 links in a day from an account younger than a day, is held the same way (spam). With an `Idempotency-Key` header, a retry of the same request within 24 hours answers 200 with the post the first one created (as it is now), never a second post; the same key with a different request is 409.',
  ...authed,
  request: { headers: IdempotencyHeaderSchema, body: jsonBody(CreatePostSchema) },
  responses: {
    200: jsonContent(PostSchema, 'A retry: the post the first request with this `Idempotency-Key` created, as it is now (nothing was created)'),
    201: jsonContent(PostSchema, 'The new post'),
    ...commonErrors,
    ...errors[401],
    ...errors[403],
    ...errors[404],
    ...errors[409],
    ...errors[422],
  },
});

export const getPost = createRoute({
  method: 'get',
  path: '/posts/{id}',
  tags,
  summary: 'Read a post',
  description: '404 when the post does not exist or is not visible to the caller. Anonymous reads of a public post may come from the edge cache (at most 60 s old, purged when the post is edited or deleted or its author suspended; `X-Cache`).',
  ...maybeAuthed,
  middleware: [edgeCache('posts', { onHit: (c) => notePostImpressions(c, [{ id: c.req.param('id') ?? '' }]) }), optionalAuth],
  request: { params: PostIdParamSchema },
  responses: { 200: edgeCachedJson(PostSchema, 'The post'), ...commonErrors, ...errors[401], ...errors[404] },
});

export const updatePost = createRoute({
  method: 'patch',
  path: '/posts/{id}',
  tags,
  summary: 'Edit your post',
  description: 'Author only (403 for others who can see it). Sets `edited_at`. Replacing `media_ids` replaces the attachments. A community post keeps `visibility` public (400 otherwise).',
  ...authed,
  request: { params: PostIdParamSchema, body: jsonBody(UpdatePostSchema) },
  responses: { 200: jsonContent(PostSchema, 'The edited post'), ...commonErrors, ...errors[401], ...errors[403], ...errors[404], ...errors[422] },
});

export const deletePost = createRoute({
  method: 'delete',
  path: '/posts/{id}',
  tags,
  summary: 'Delete a post',
  description:
    "The author, the owner of the wall it is on, or the owner and moderators of its community. Its likes, comments and attachments links go with it, and the notifications about it (`new_post`, `wall_post`, its mentions) and its comments leave the inboxes that got them (`notification.removed` on open sockets). The wall owner may delete any post on their wall, also one hidden from them by a block between them and its author either way (those of people they blocked are listed by GET /me/wall/hidden): it stays hidden (204, no body). 404 to anyone else who may not see the post.",
  ...authed,
  request: { params: PostIdParamSchema },
  responses: { 204: { description: 'Deleted' }, ...commonErrors, ...errors[401], ...errors[403], ...errors[404] },
});

export const likePost = createRoute({
  method: 'post',
  path: '/posts/{id}/like',
  tags,
  summary: 'Like a post (idempotent)',
  description: '404 when the post does not exist or you may not see it; 403 when you are banned from its community (taking a like back stays allowed).',
  ...authed,
  request: { params: PostIdParamSchema },
  responses: { 200: jsonContent(LikeStateSchema, 'Like state'), ...commonErrors, ...errors[401], ...errors[403], ...errors[404] },
});

export const unlikePost = createRoute({
  method: 'delete',
  path: '/posts/{id}/like',
  tags,
  summary: 'Remove your like (idempotent)',
  ...authed,
  request: { params: PostIdParamSchema },
  responses: { 200: jsonContent(LikeStateSchema, 'Like state'), ...commonErrors, ...errors[401], ...errors[404] },
});

export const listLikes = createRoute({
  method: 'get',
  path: '/posts/{id}/likes',
  tags,
  summary: 'Who liked a post',
  description: "Newest first. Suspended accounts and people on either side of a block with you are left out, and so is a private account's like unless you are that account, the post's author, or its accepted follower or friend (`like_count` counts every like).",
  ...maybeAuthed,
  request: { params: PostIdParamSchema, query: PageQuerySchema },
  responses: { 200: jsonContent(UserPage, 'A page of users'), ...commonErrors, ...errors[401], ...errors[404] },
});

export const listUserPosts = createRoute({
  method: 'get',
  path: '/users/{id_or_username}/posts',
  tags,
  summary: "A user's posts that you may see",
  description: 'Newest first. Includes posts the user wrote on other walls.',
  ...maybeAuthed,
  request: { params: UserRefParamSchema, query: PageQuerySchema },
  responses: { 200: jsonContent(PostPage, 'A page of posts'), ...commonErrors, ...errors[401], ...errors[404] },
});

export const listWall = createRoute({
  method: 'get',
  path: '/users/{id_or_username}/wall',
  tags,
  summary: "A user's wall",
  description: "The user's own posts plus posts others wrote on their wall, newest first, as far as you may see them.",
  ...maybeAuthed,
  request: { params: UserRefParamSchema, query: PageQuerySchema },
  responses: { 200: jsonContent(PostPage, 'A page of posts'), ...commonErrors, ...errors[401], ...errors[404] },
});

export const listHiddenWallPosts = createRoute({
  method: 'get',
  path: '/me/wall/hidden',
  tags,
  summary: 'Posts on your wall by people you blocked',
  description:
    "Posts others wrote on your wall before you blocked them, which your block now hides from you and everyone else: only their `id` and `created_at`, newest first, so you can delete them (DELETE /posts/{id}, 204) without reading them. Unblocking shows what you left. A post hidden because its author blocked you is not listed (that would tell you who blocked you); it is hidden from everyone, and DELETE /posts/{id} still answers you 204 for it.",
  ...authed,
  request: { query: PageQuerySchema },
  responses: { 200: jsonContent(HiddenWallPostPageSchema, 'A page of hidden posts on your wall'), ...commonErrors, ...errors[401] },
});
