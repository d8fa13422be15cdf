import app from './app';
import { scheduled } from './scheduled';

export default { fetch: app.fetch, scheduled } satisfies ExportedHandler<Env>;
export { ConversationRoom } from './modules/messaging/conversation-room';
export { UserInbox } from './modules/notifications/user-inbox';
