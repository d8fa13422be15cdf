import { createRouter } from '../../lib/create-app';
import * as handlers from './professional.handlers';
import * as routes from './professional.routes';

export const professionalRouter = createRouter()
  .openapi(routes.getOwnProfessional, handlers.getOwnProfessional)
  .openapi(routes.putOwnProfessional, handlers.putOwnProfessional)
  .openapi(routes.patchOwnProfessional, handlers.patchOwnProfessional)
  .openapi(routes.getUserProfessional, handlers.getUserProfessional)
  .openapi(routes.importLinkedIn, handlers.importLinkedInExport);
