import { createRouter } from '../../lib/create-app';
import * as handlers from './messaging.handlers';
import * as routes from './messaging.routes';

export const messagingRouter = createRouter()
  .openapi(routes.createConversation, handlers.createConversation)
  .openapi(routes.listConversations, handlers.listConversations)
  .openapi(routes.getConversation, handlers.getConversation)
  .openapi(routes.listMessages, handlers.listMessages)
  .openapi(routes.sendMessage, handlers.sendMessage)
  .openapi(routes.directMessage, handlers.directMessage)
  .openapi(routes.editMessage, handlers.editMessage)
  .openapi(routes.deleteMessage, handlers.deleteMessage)
  .openapi(routes.markRead, handlers.markRead)
  .openapi(routes.addMembers, handlers.addMembers)
  .openapi(routes.removeMember, handlers.removeMember)
  .openapi(routes.acceptRequest, handlers.acceptRequest)
  .openapi(routes.declineRequest, handlers.declineRequest)
  .openapi(routes.stream, handlers.stream);
