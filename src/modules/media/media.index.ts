import { createRouter } from '../../lib/create-app';
import * as handlers from './media.handlers';
import * as routes from './media.routes';

export const mediaRouter = createRouter()
  .openapi(routes.uploadMedia, handlers.uploadMedia)
  .openapi(routes.deleteMedia, handlers.deleteMedia)
  .openapi(routes.getMedia, handlers.getMedia);
