import { createRouter } from '../../lib/create-app';
import * as handlers from './oauth.handlers';
import * as routes from './oauth.routes';

export const oauthRouter = createRouter()
  .openapi(routes.listProviders, handlers.listProviders)
  .openapi(routes.exchange, handlers.exchange)
  .openapi(routes.authorize, handlers.authorize)
  .openapi(routes.callback, handlers.callback)
  .openapi(routes.callbackPost, handlers.callbackPost)
  .openapi(routes.listIdentities, handlers.identities)
  .openapi(routes.linkIdentity, handlers.link)
  .openapi(routes.unlinkIdentity, handlers.unlink);
