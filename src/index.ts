import app from './app';

export default app;
export { ConversationRoom } from './modules/messaging/conversation-room';
