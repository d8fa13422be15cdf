import { createRouter } from '../../lib/create-app';
import * as handlers from './feeds.handlers';
import * as routes from './feeds.routes';

export const feedsRouter = createRouter()
  .openapi(routes.homeFeed, handlers.home)
  .openapi(routes.discoverFeed, handlers.discover)
  .openapi(routes.professionalFeed, handlers.professional);
