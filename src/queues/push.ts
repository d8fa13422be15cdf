import type { Bindings } from '../lib/types';
import { consumePushBatch } from '../modules/push/push-delivery';
import type { PushMessage } from '../modules/notifications/inbox-push';

/** The push queue (`kith-push`): notifications to send as Web Push (src/modules/push/push-delivery.ts). */
export function consumePush(batch: MessageBatch<PushMessage>, env: Bindings): Promise<void> {
  return consumePushBatch(batch, env);
}
