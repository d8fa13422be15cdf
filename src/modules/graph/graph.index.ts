import { createRouter } from '../../lib/create-app';
import * as handlers from './graph.handlers';
import * as routes from './graph.routes';

export const graphRouter = createRouter()
  .openapi(routes.follow, handlers.follow)
  .openapi(routes.unfollow, handlers.unfollow)
  .openapi(routes.listFollowRequests, handlers.listFollowRequests)
  .openapi(routes.acceptFollowRequest, handlers.acceptFollowRequest)
  .openapi(routes.rejectFollowRequest, handlers.rejectFollowRequest)
  .openapi(routes.listFollowers, handlers.listFollowers)
  .openapi(routes.listFollowing, handlers.listFollowing)
  .openapi(routes.listFriends, handlers.listFriends)
  .openapi(routes.sendFriendRequest, handlers.sendFriendRequest)
  .openapi(routes.listFriendRequests, handlers.listFriendRequests)
  .openapi(routes.acceptFriendRequest, handlers.acceptFriendRequest)
  .openapi(routes.declineFriendRequest, handlers.declineFriendRequest)
  .openapi(routes.cancelFriendRequest, handlers.cancelFriendRequest)
  .openapi(routes.unfriend, handlers.unfriend)
  .openapi(routes.block, handlers.block)
  .openapi(routes.unblock, handlers.unblock)
  .openapi(routes.listBlocks, handlers.listBlocks)
  .openapi(routes.mute, handlers.mute)
  .openapi(routes.unmute, handlers.unmute)
  .openapi(routes.listMutes, handlers.listMutes);
