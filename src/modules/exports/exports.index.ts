import { createRouter } from '../../lib/create-app';
import * as handlers from './exports.handlers';
import * as routes from './exports.routes';

export const exportsRouter = createRouter()
  .openapi(routes.requestExport, handlers.requestExport)
  .openapi(routes.listExports, handlers.listExports)
  .openapi(routes.getExport, handlers.getExport)
  .openapi(routes.downloadExport, handlers.downloadExport);
