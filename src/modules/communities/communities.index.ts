import { createRouter } from '../../lib/create-app';
import * as handlers from './communities.handlers';
import * as routes from './communities.routes';

// /communities/eligible is registered before /communities/{id_or_slug}, and "eligible" is never a slug.
export const communitiesRouter = createRouter()
  .openapi(routes.createCommunity, handlers.createCommunity)
  .openapi(routes.listCommunities, handlers.listCommunities)
  .openapi(routes.listEligible, handlers.listEligible)
  .openapi(routes.listMyCommunities, handlers.listMyCommunities)
  .openapi(routes.getCommunity, handlers.getCommunity)
  .openapi(routes.updateCommunity, handlers.updateCommunity)
  .openapi(routes.deleteCommunity, handlers.deleteCommunity)
  .openapi(routes.joinCommunity, handlers.joinCommunity)
  .openapi(routes.leaveCommunity, handlers.leaveCommunity)
  .openapi(routes.listMembers, handlers.listMembers)
  .openapi(routes.setMemberRole, handlers.setMemberRole)
  .openapi(routes.removeMember, handlers.removeMember)
  .openapi(routes.listBans, handlers.listBans)
  .openapi(routes.liftBan, handlers.liftBan)
  .openapi(routes.listCommunityPosts, handlers.listCommunityPosts)
  .openapi(routes.putCommunityAvatar, handlers.putCommunityAvatar)
  .openapi(routes.deleteCommunityAvatar, handlers.deleteCommunityAvatar);
