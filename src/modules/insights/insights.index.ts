import { createRouter } from '../../lib/create-app';
import * as handlers from './insights.handlers';
import * as routes from './insights.routes';

export const insightsRouter = createRouter().openapi(routes.postInsights, handlers.postInsights).openapi(routes.communityInsights, handlers.communityInsights);
