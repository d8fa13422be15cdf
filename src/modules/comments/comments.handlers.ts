import { idempotentCreate } from '../../lib/idempotency';
import type { AppRouteHandler } from '../../lib/types';
import { currentUser } from '../../middleware/auth';
import * as service from './comments.service';
import type * as routes from './comments.routes';

export const listComments: AppRouteHandler<typeof routes.listComments> = async (c) => {
  const { limit, cursor, parent_id } = c.req.valid('query');
  return c.json(await service.listComments(c, c.get('auth')?.userId ?? null, c.req.valid('param').id, parent_id, limit, cursor), 200);
};

export const createComment: AppRouteHandler<typeof routes.createComment> = async (c) => {
  const { content, parent_id } = c.req.valid('json');
  const postId = c.req.valid('param').id;
  const retry = await idempotentCreate(c.req.valid('header')['idempotency-key'], 'comment', { post_id: postId, content, parent_id: parent_id ?? null });
  const { comment, created } = await service.createComment(c, currentUser(c).userId, postId, content, parent_id, retry);
  return created ? c.json(comment, 201) : c.json(comment, 200);
};

export const deleteComment: AppRouteHandler<typeof routes.deleteComment> = async (c) => {
  await service.deleteComment(c, currentUser(c).userId, c.req.valid('param').id);
  return c.body(null, 204);
};
