import app from './app';
import { answerFromFront, noteFrontHeaders } from './lib/edge-cache';
import type { Bindings } from './lib/types';
import { handleQueue } from './queues';
import { handleScheduled } from './scheduled';

export default {
  /**
   * An anonymous read this isolate just answered from the edge cache is answered again before the app
   * runs (src/lib/edge-cache.ts, answerFromFront); everything else is the app's.
   */
  async fetch(request, env, ctx) {
    const fromFront = await answerFromFront(request, env);
    if (fromFront) return fromFront;
    const response = await app.fetch(request, env, ctx);
    noteFrontHeaders(request, response);
    return response;
  },
  scheduled: handleScheduled,
  queue: handleQueue,
} satisfies ExportedHandler<Bindings>;
export { ConversationRoom } from './modules/messaging/conversation-room';
export { UserInbox } from './modules/notifications/user-inbox';
export { ImpressionCounter } from './modules/insights/impression-counter';
