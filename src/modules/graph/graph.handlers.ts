import type { Context } from 'hono';
import { purgeProfilesById } from '../../lib/edge-cache';
import type { AppEnv, AppRouteHandler } from '../../lib/types';
import { currentUser } from '../../middleware/auth';
import { findVisibleUser } from '../users/users.service';
import * as service from './graph.service';
import type * as routes from './graph.routes';

const me = (c: Context<AppEnv>) => currentUser(c).userId;

/** Both profiles' counts changed: their anonymous copies leave the edge cache. */
const purgeBoth = (c: Context<AppEnv>, other: string) => purgeProfilesById(c.var.d1, [me(c), other]);

/** A change between the caller and `other` (follow, block, …), then both profiles purged. */
async function changed<T>(c: Context<AppEnv>, other: string, change: Promise<T>): Promise<T> {
  const answer = await change;
  await purgeBoth(c, other);
  return answer;
}

export const follow: AppRouteHandler<typeof routes.follow> = async (c) => c.json(await changed(c, c.req.valid('param').id, service.follow(c, me(c), c.req.valid('param').id)), 200);
export const unfollow: AppRouteHandler<typeof routes.unfollow> = async (c) =>
  c.json(await changed(c, c.req.valid('param').id, service.unfollow(c, me(c), c.req.valid('param').id)), 200);

export const listFollowRequests: AppRouteHandler<typeof routes.listFollowRequests> = async (c) => {
  const { limit, cursor } = c.req.valid('query');
  return c.json(await service.listFollowRequests(c, me(c), limit, cursor), 200);
};
export const acceptFollowRequest: AppRouteHandler<typeof routes.acceptFollowRequest> = async (c) =>
  c.json(await changed(c, c.req.valid('param').user_id, service.decideFollowRequest(c, me(c), c.req.valid('param').user_id, true)), 200);
export const rejectFollowRequest: AppRouteHandler<typeof routes.rejectFollowRequest> = async (c) =>
  c.json(await service.decideFollowRequest(c, me(c), c.req.valid('param').user_id, false), 200);

function connections(kind: 'followers' | 'following' | 'friends') {
  return async (c: Context<AppEnv, string, { out: { param: { id_or_username: string }; query: { limit: number; cursor?: string } } }>) => {
    const owner = await findVisibleUser(c, c.req.valid('param').id_or_username);
    const { limit, cursor } = c.req.valid('query');
    return c.json(await service.listConnections(c, c.get('auth')?.userId ?? null, owner, kind, limit, cursor), 200);
  };
}
export const listFollowers: AppRouteHandler<typeof routes.listFollowers> = connections('followers');
export const listFollowing: AppRouteHandler<typeof routes.listFollowing> = connections('following');
export const listFriends: AppRouteHandler<typeof routes.listFriends> = connections('friends');

export const sendFriendRequest: AppRouteHandler<typeof routes.sendFriendRequest> = async (c) => {
  const { created, request } = await service.sendFriendRequest(c, me(c), c.req.valid('json').user_id);
  // A crossing request is accepted at once: both friend counts changed.
  if (request.status === 'accepted') await purgeBoth(c, c.req.valid('json').user_id);
  return created ? c.json(request, 201) : c.json(request, 200);
};
export const listFriendRequests: AppRouteHandler<typeof routes.listFriendRequests> = async (c) => {
  const { limit, cursor, direction } = c.req.valid('query');
  return c.json(await service.listFriendRequests(c, me(c), direction, limit, cursor), 200);
};
export const acceptFriendRequest: AppRouteHandler<typeof routes.acceptFriendRequest> = async (c) => {
  const answer = await service.answerFriendRequest(c, me(c), c.req.valid('param').id, true);
  await purgeBoth(c, answer.from_user.id);
  return c.json(answer, 200);
};
export const declineFriendRequest: AppRouteHandler<typeof routes.declineFriendRequest> = async (c) =>
  c.json(await service.answerFriendRequest(c, me(c), c.req.valid('param').id, false), 200);
export const cancelFriendRequest: AppRouteHandler<typeof routes.cancelFriendRequest> = async (c) => {
  await service.cancelFriendRequest(c, me(c), c.req.valid('param').id);
  return c.body(null, 204);
};
export const unfriend: AppRouteHandler<typeof routes.unfriend> = async (c) => {
  await changed(c, c.req.valid('param').user_id, service.unfriend(c, me(c), c.req.valid('param').user_id));
  return c.body(null, 204);
};

export const block: AppRouteHandler<typeof routes.block> = async (c) => c.json(await changed(c, c.req.valid('param').id, service.block(c, me(c), c.req.valid('param').id)), 200);
export const unblock: AppRouteHandler<typeof routes.unblock> = async (c) => {
  await service.unblock(c, me(c), c.req.valid('param').id);
  return c.body(null, 204);
};
export const listBlocks: AppRouteHandler<typeof routes.listBlocks> = async (c) => {
  const { limit, cursor } = c.req.valid('query');
  return c.json(await service.listOwnEdges(c, me(c), 'blocks', limit, cursor), 200);
};
export const mute: AppRouteHandler<typeof routes.mute> = async (c) => c.json(await service.mute(c, me(c), c.req.valid('param').id), 200);
export const unmute: AppRouteHandler<typeof routes.unmute> = async (c) => {
  await service.unmute(c, me(c), c.req.valid('param').id);
  return c.body(null, 204);
};
export const listMutes: AppRouteHandler<typeof routes.listMutes> = async (c) => {
  const { limit, cursor } = c.req.valid('query');
  return c.json(await service.listOwnEdges(c, me(c), 'mutes', limit, cursor), 200);
};
