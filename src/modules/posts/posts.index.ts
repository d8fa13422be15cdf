import { createRouter } from '../../lib/create-app';
import * as handlers from './posts.handlers';
import * as routes from './posts.routes';

export const postsRouter = createRouter()
  .openapi(routes.createPost, handlers.createPost)
  .openapi(routes.getPost, handlers.getPost)
  .openapi(routes.updatePost, handlers.updatePost)
  .openapi(routes.deletePost, handlers.deletePost)
  .openapi(routes.likePost, handlers.likePost)
  .openapi(routes.unlikePost, handlers.unlikePost)
  .openapi(routes.listLikes, handlers.listLikes)
  .openapi(routes.listUserPosts, handlers.listUserPosts)
  .openapi(routes.listWall, handlers.listWall)
  .openapi(routes.listHiddenWallPosts, handlers.listHiddenWallPosts);
