import { createRouter } from '../../lib/create-app';
import * as handlers from './news.handlers';
import * as routes from './news.routes';

export const newsRouter = createRouter()
  .openapi(routes.listNews, handlers.listNews)
  .openapi(routes.listSources, handlers.listSources)
  .openapi(routes.createSource, handlers.createSource)
  .openapi(routes.updateSource, handlers.updateSource)
  .openapi(routes.deleteSource, handlers.deleteSource)
  .openapi(routes.refreshSource, handlers.refreshSource);
