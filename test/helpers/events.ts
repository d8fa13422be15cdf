import { onSocialEvent, type SocialEvent } from '../../src/modules/notifications/events';
import type { TestUser } from './client';

/** Records every social event emitted while the test runs; `stop()` unsubscribes. */
export function recordEvents() {
  const events: SocialEvent[] = [];
  const stop = onSocialEvent((event) => {
    events.push(event);
  });
  return {
    events,
    stop,
    /** Events touching any of the given users (as actor or recipient), so parallel noise is ignored. */
    about(...people: TestUser[]): SocialEvent[] {
      const set = new Set(people.map((p) => p.id));
      return events.filter((e) => set.has(e.actorId) || ('recipientId' in e && set.has(e.recipientId)));
    },
    ofType<T extends SocialEvent['type']>(type: T): Extract<SocialEvent, { type: T }>[] {
      return events.filter((e): e is Extract<SocialEvent, { type: T }> => e.type === type);
    },
    /** new_message events of one conversation (parallel noise is ignored). */
    messagesIn(convId: string): Extract<SocialEvent, { type: 'new_message' }>[] {
      return events.filter((e): e is Extract<SocialEvent, { type: 'new_message' }> => e.type === 'new_message' && e.conversationId === convId);
    },
  };
}
