import { createRouter } from '../../lib/create-app';
import * as handlers from './calls.handlers';
import * as routes from './calls.routes';

export const callsRouter = createRouter().openapi(routes.iceServers, handlers.iceServers);
