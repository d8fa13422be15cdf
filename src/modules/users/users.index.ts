import { createRouter } from '../../lib/create-app';
import * as avatarHandlers from './avatar.handlers';
import * as avatarRoutes from './avatar.routes';
import * as handlers from './users.handlers';
import * as routes from './users.routes';

export const usersRouter = createRouter()
  .openapi(routes.getMe, handlers.getMe)
  .openapi(routes.updateMe, handlers.updateMe)
  .openapi(routes.deleteMe, handlers.deleteMe)
  .openapi(routes.getUser, handlers.getUser)
  .openapi(avatarRoutes.putAvatar, avatarHandlers.putAvatar)
  .openapi(avatarRoutes.deleteAvatar, avatarHandlers.deleteAvatar);
