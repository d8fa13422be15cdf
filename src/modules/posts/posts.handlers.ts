import type { AppRouteHandler } from '../../lib/types';
import { purgeProfilesById } from '../../lib/edge-cache';
import { idempotentCreate } from '../../lib/idempotency';
import { notePostImpressions } from '../../middleware/impressions';
import { currentUser } from '../../middleware/auth';
import { findVisibleUser } from '../users/users.service';
import * as likes from './likes.service';
import * as service from './posts.service';
import type * as routes from './posts.routes';

export const createPost: AppRouteHandler<typeof routes.createPost> = async (c) => {
  const { userId } = currentUser(c);
  const input = c.req.valid('json');
  const retry = await idempotentCreate(c.req.valid('header')['idempotency-key'], 'post', input);
  const { post, created } = await service.createPost(c, userId, input, retry);
  if (!created) return c.json(post, 200);
  // The author's posts count changed: their anonymous profile leaves the edge cache.
  await purgeProfilesById(c.var.d1, [userId]);
  return c.json(post, 201);
};

export const getPost: AppRouteHandler<typeof routes.getPost> = async (c) => {
  const { row, post } = await service.getVisiblePost(c, c.get('auth')?.userId ?? null, c.req.valid('param').id);
  notePostImpressions(c, [{ id: row.id, authorId: row.authorId }]);
  return c.json(post, 200);
};

export const updatePost: AppRouteHandler<typeof routes.updatePost> = async (c) => {
  return c.json(await service.updatePost(c, currentUser(c).userId, c.req.valid('param').id, c.req.valid('json')), 200);
};

export const deletePost: AppRouteHandler<typeof routes.deletePost> = async (c) => {
  await service.deletePost(c, currentUser(c).userId, c.req.valid('param').id);
  return c.body(null, 204);
};

export const likePost: AppRouteHandler<typeof routes.likePost> = async (c) => {
  return c.json(await likes.setLike(c, currentUser(c).userId, c.req.valid('param').id, true), 200);
};

export const unlikePost: AppRouteHandler<typeof routes.unlikePost> = async (c) => {
  return c.json(await likes.setLike(c, currentUser(c).userId, c.req.valid('param').id, false), 200);
};

export const listLikes: AppRouteHandler<typeof routes.listLikes> = async (c) => {
  const { limit, cursor } = c.req.valid('query');
  return c.json(await likes.listLikers(c, c.get('auth')?.userId ?? null, c.req.valid('param').id, limit, cursor), 200);
};

export const listUserPosts: AppRouteHandler<typeof routes.listUserPosts> = async (c) => {
  const owner = await findVisibleUser(c, c.req.valid('param').id_or_username);
  const { limit, cursor } = c.req.valid('query');
  return c.json(await service.listUserPosts(c, c.get('auth')?.userId ?? null, owner.id, owner.visibility === 'private', limit, cursor), 200);
};

export const listWall: AppRouteHandler<typeof routes.listWall> = async (c) => {
  const owner = await findVisibleUser(c, c.req.valid('param').id_or_username);
  const { limit, cursor } = c.req.valid('query');
  return c.json(await service.listWall(c, c.get('auth')?.userId ?? null, owner.id, limit, cursor), 200);
};

export const listHiddenWallPosts: AppRouteHandler<typeof routes.listHiddenWallPosts> = async (c) => {
  const { limit, cursor } = c.req.valid('query');
  return c.json(await service.listHiddenWallPosts(c, currentUser(c).userId, limit, cursor), 200);
};
