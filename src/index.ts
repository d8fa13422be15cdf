import app from './app';

export default app;
export { ConversationRoom } from './modules/messaging/conversation-room';
export { UserInbox } from './modules/notifications/user-inbox';
