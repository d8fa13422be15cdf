import app from './app';
import type { Bindings } from './lib/types';
import { handleQueue } from './queues';
import { handleScheduled } from './scheduled';

export default {
  fetch: app.fetch,
  scheduled: handleScheduled,
  queue: handleQueue,
} satisfies ExportedHandler<Bindings>;
export { ConversationRoom } from './modules/messaging/conversation-room';
export { UserInbox } from './modules/notifications/user-inbox';
