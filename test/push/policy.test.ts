import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Notification } from '../../src/modules/notifications/notifications.schemas';
import { consumePushBatch, pushNotification, retryDelay } from '../../src/modules/push/push-delivery';
import { vapidConfig } from '../../src/modules/push/web-push';
import type { PushMessage } from '../../src/modules/notifications/inbox-push';
import { newId } from '../../src/lib/ids';
import { createUser, type TestUser } from '../helpers/client';
import { befriend, follow } from '../notifications/helpers';
import { bindings, pushService, received, secondSession, storedUnread, subscribe, type ReceiverSubscription } from './helpers';

// The push policy of each device, one notification at a time, straight through pushNotification (each delivery
// is awaited there, so what the local push service received is final when it returns: no waiting).
afterEach(() => {
  vi.restoreAllMocks();
});

const publicUser = (u: TestUser) => ({ id: u.id, username: u.username, display_name: u.username, avatar_url: null, bio: '', is_verified: false });

function like(recipient: TestUser, actor: TestUser, createdAt = new Date()): PushMessage {
  const notification = {
    id: newId(),
    type: 'post_like',
    data: { post_id: newId(), user: publicUser(actor), actors: [publicUser(actor)], count: 1 },
    read: false,
    created_at: createdAt.toISOString(),
  } as Notification;
  return { type: 'push.notification', user_id: recipient.id, notification };
}

const delivered = async (sub: ReceiverSubscription, notificationId: string) =>
  (await received(sub)).deliveries.filter((d) => (d.payload as { notification_id?: string } | null)?.notification_id === notificationId).length;

describe('Push policies', () => {
  it('should push to each device only what its policy lets through: all, followed, friends or none', async () => {
    const [me, friend, followed, stranger] = [await createUser(), await createUser(), await createUser(), await createUser()];
    await befriend(me, friend);
    await follow(me, followed);
    const policies = ['all', 'followed', 'friends', 'none'] as const;
    const subs: Record<string, ReceiverSubscription> = {};
    for (const [i, policy] of policies.entries()) {
      subs[policy] = await pushService();
      await subscribe(me, subs[policy]!, { policy }, i === 0 ? me.accessToken : (await secondSession(me)).accessToken);
    }
    const vapid = (await vapidConfig(bindings))!;
    const reached = async (message: PushMessage) => {
      await storedUnread(message.user_id, message.notification);
      await pushNotification(bindings, message, vapid);
      const out: string[] = [];
      for (const policy of policies) if ((await delivered(subs[policy]!, message.notification.id)) > 0) out.push(policy);
      return out;
    };
    expect(await reached(like(me, friend))).toEqual(['all', 'followed', 'friends']);
    expect(await reached(like(me, followed))).toEqual(['all', 'followed']);
    expect(await reached(like(me, stranger))).toEqual(['all']);
    // A notice from the site itself passes every policy but none.
    const warning: PushMessage = {
      type: 'push.notification',
      user_id: me.id,
      notification: { id: newId(), type: 'moderation_warning', data: { action: 'warn', reason: 'Be kind.', until: null }, read: false, created_at: new Date().toISOString() } as Notification,
    };
    expect(await reached(warning)).toEqual(['all', 'followed', 'friends']);
    // Past its TTL (a day for a like) a notification is no longer worth a push.
    expect(await reached(like(me, friend, new Date(Date.now() - 25 * 3_600_000)))).toEqual([]);
  });

  it('should retry a message whose delivery failed on our side, and drop pushes when no VAPID keys are configured', async () => {
    const me = await createUser();
    const message = (body: PushMessage, attempts = 1) => ({ id: newId(), timestamp: new Date(), attempts, body, ack: vi.fn(), retry: vi.fn() });
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    // A notification (its inbox holds it) without its data cannot be read: a fault to retry, after the
    // backoff of the attempts so far.
    const held = await storedUnread(me.id, like(me, me).notification);
    const broken = message({ ...like(me, me), notification: { ...held, data: undefined as never } });
    await consumePushBatch({ queue: 'kith-push', messages: [broken], ackAll: vi.fn(), retryAll: vi.fn() } as unknown as MessageBatch<PushMessage>, bindings);
    expect(broken.ack).not.toHaveBeenCalled();
    expect(broken.retry).toHaveBeenCalledWith({ delaySeconds: retryDelay(bindings, 0) });
    // Delivered again once the inbox no longer holds it (read or retracted meanwhile): it asks the inbox
    // first, so there is nothing to push, and it is done.
    const again = message({ ...broken.body, notification: { ...broken.body.notification, id: newId() } }, 2);
    await consumePushBatch({ queue: 'kith-push', messages: [again], ackAll: vi.fn(), retryAll: vi.fn() } as unknown as MessageBatch<PushMessage>, bindings);
    expect(again.ack).toHaveBeenCalledOnce();
    expect(again.retry).not.toHaveBeenCalled();
    expect(retryDelay(bindings, 1)).toBe(4); // PUSH_RETRY_BASE_SECONDS=1 in tests: 1 · 4¹
    expect(retryDelay(bindings, 1, 90)).toBe(90); // a push service's Retry-After wins when longer
    expect(retryDelay(bindings, 20)).toBe(12 * 3600); // capped at 12 hours

    const unconfigured = message(like(me, me));
    const noKeys = { ...bindings, VAPID_PUBLIC_KEY: '', VAPID_PRIVATE_KEY: '' };
    await consumePushBatch({ queue: 'kith-push', messages: [unconfigured] } as unknown as MessageBatch<PushMessage>, noKeys);
    expect(unconfigured.ack).toHaveBeenCalledOnce();
    expect(unconfigured.retry).not.toHaveBeenCalled();
  });
});
