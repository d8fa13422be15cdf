import { createRouter } from '../../lib/create-app';
import * as handlers from './push.handlers';
import * as routes from './push.routes';

export const pushRouter = createRouter()
  .openapi(routes.createSubscription, handlers.createSubscription)
  .openapi(routes.getSubscription, handlers.getSubscription)
  .openapi(routes.updateSubscription, handlers.updateSubscription)
  .openapi(routes.deleteSubscription, handlers.deleteSubscription)
  .openapi(routes.serverKey, handlers.serverKey);
