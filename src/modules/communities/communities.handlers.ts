import type { AppRouteHandler } from '../../lib/types';
import { currentUser } from '../../middleware/auth';
import { readUpload, storeImage } from '../media/media.service';
import { renderPostPage, postCursor } from '../posts/posts.service';
import { COMMUNITY_POSTS_SQL } from './communities.queries';
import * as service from './communities.service';
import * as membership from './membership.service';
import { isMember } from './roles';
import type * as routes from './communities.routes';
import { ApiError } from '../../lib/errors';

const viewerOf = (c: { get(key: 'auth'): { userId: string } | undefined }) => c.get('auth')?.userId ?? null;

export const createCommunity: AppRouteHandler<typeof routes.createCommunity> = async (c) => {
  return c.json(await service.createCommunity(c, currentUser(c).userId, c.req.valid('json')), 201);
};

export const listCommunities: AppRouteHandler<typeof routes.listCommunities> = async (c) => {
  const { limit, cursor, ...filters } = c.req.valid('query');
  return c.json(await service.listCommunities(c, viewerOf(c), filters, limit, cursor), 200);
};

export const listEligible: AppRouteHandler<typeof routes.listEligible> = async (c) => {
  const { limit, cursor } = c.req.valid('query');
  return c.json(await service.listEligible(c, currentUser(c).userId, limit, cursor), 200);
};

export const listMyCommunities: AppRouteHandler<typeof routes.listMyCommunities> = async (c) => {
  const { limit, cursor } = c.req.valid('query');
  return c.json(await service.listMyCommunities(c, currentUser(c).userId, limit, cursor), 200);
};

export const getCommunity: AppRouteHandler<typeof routes.getCommunity> = async (c) => {
  const viewer = viewerOf(c);
  return c.json(await service.presentCommunity(c, viewer, await service.resolveCommunity(c, c.req.valid('param').id_or_slug, viewer)), 200);
};

export const updateCommunity: AppRouteHandler<typeof routes.updateCommunity> = async (c) => {
  return c.json(await service.updateCommunity(c, currentUser(c).userId, c.req.valid('param').id_or_slug, c.req.valid('json')), 200);
};

export const deleteCommunity: AppRouteHandler<typeof routes.deleteCommunity> = async (c) => {
  await service.deleteCommunity(c, currentUser(c).userId, c.req.valid('param').id_or_slug);
  return c.body(null, 204);
};

export const joinCommunity: AppRouteHandler<typeof routes.joinCommunity> = async (c) => {
  return c.json(await membership.joinCommunity(c, currentUser(c).userId, c.req.valid('param').id), 200);
};

export const leaveCommunity: AppRouteHandler<typeof routes.leaveCommunity> = async (c) => {
  await membership.leaveCommunity(c, currentUser(c).userId, c.req.valid('param').id);
  return c.body(null, 204);
};

export const listMembers: AppRouteHandler<typeof routes.listMembers> = async (c) => {
  const { limit, cursor, role } = c.req.valid('query');
  return c.json(await membership.listMembers(c, viewerOf(c), c.req.valid('param').id, role, limit, cursor), 200);
};

export const setMemberRole: AppRouteHandler<typeof routes.setMemberRole> = async (c) => {
  const { id, user_id } = c.req.valid('param');
  return c.json(await membership.setMemberRole(c, currentUser(c).userId, id, user_id, c.req.valid('json').role), 200);
};

export const removeMember: AppRouteHandler<typeof routes.removeMember> = async (c) => {
  const { id, user_id } = c.req.valid('param');
  await membership.removeMember(c, currentUser(c).userId, id, user_id, c.req.valid('query').ban ?? false);
  return c.body(null, 204);
};

export const listBans: AppRouteHandler<typeof routes.listBans> = async (c) => {
  const { limit, cursor } = c.req.valid('query');
  return c.json(await membership.listBans(c, currentUser(c).userId, c.req.valid('param').id, limit, cursor), 200);
};

export const liftBan: AppRouteHandler<typeof routes.liftBan> = async (c) => {
  const { id, user_id } = c.req.valid('param');
  await membership.liftBan(c, currentUser(c).userId, id, user_id);
  return c.body(null, 204);
};

export const listCommunityPosts: AppRouteHandler<typeof routes.listCommunityPosts> = async (c) => {
  const viewer = viewerOf(c);
  const community = await service.resolveCommunity(c, c.req.valid('param').id, viewer);
  if (community.visibility === 'private' && !isMember(community.myRole)) {
    throw new ApiError('forbidden', 'The posts of a private community are visible to its members only.');
  }
  const { limit, cursor } = c.req.valid('query');
  const [ts, after] = await postCursor(c, cursor);
  return c.json(await renderPostPage(c, viewer, COMMUNITY_POSTS_SQL, [community.id, ts, after, limit + 1], limit, { context: 'community' }), 200);
};

export const putCommunityAvatar: AppRouteHandler<typeof routes.putCommunityAvatar> = async (c) => {
  const { userId } = currentUser(c);
  const community = await service.setCommunityAvatar(c, userId, c.req.valid('param').id, async (communityId) => (await storeImage(c.env, communityId, await readUpload(c))).key);
  return c.json(community, 200);
};

export const deleteCommunityAvatar: AppRouteHandler<typeof routes.deleteCommunityAvatar> = async (c) => {
  await service.setCommunityAvatar(c, currentUser(c).userId, c.req.valid('param').id, async () => null);
  return c.body(null, 204);
};
