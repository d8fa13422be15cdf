import { createRouter } from '../../lib/create-app';
import * as handlers from './comments.handlers';
import * as routes from './comments.routes';

export const commentsRouter = createRouter()
  .openapi(routes.listComments, handlers.listComments)
  .openapi(routes.createComment, handlers.createComment)
  .openapi(routes.deleteComment, handlers.deleteComment);
