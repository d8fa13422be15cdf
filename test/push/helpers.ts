import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import type { Notification } from '../../src/modules/notifications/notifications.schemas';
import type { UserInbox } from '../../src/modules/notifications/user-inbox';
import { inject } from 'vitest';
import type { Bindings } from '../../src/lib/types';
import type { Behaviour, Delivery } from '../fixtures/push/receiver';
import { call, expectStatus, type TestUser } from '../helpers/client';
import { eventually } from '../notifications/helpers';

export const receiver = inject('pushReceiverUrl');
export const bindings = env as unknown as Bindings;

export interface ReceiverSubscription {
  id: string;
  endpoint: string;
  keys: { p256dh: string; auth: string };
}

/** A browser-like subscription at the local push service. */
export async function pushService(behaviour: Behaviour = 'ok'): Promise<ReceiverSubscription> {
  const res = await fetch(`${receiver}/subscriptions`, { method: 'POST', body: JSON.stringify({ behaviour }) });
  return (await res.json()) as ReceiverSubscription;
}

/** What the push service received for a subscription (how often it was called, and how often its redirect was followed). */
export async function received(sub: ReceiverSubscription): Promise<{ attempts: number; redirected: number; deliveries: Delivery[] }> {
  return (await (await fetch(`${receiver}/subscriptions/${sub.id}`)).json()) as { attempts: number; redirected: number; deliveries: Delivery[] };
}

/** Waits until `n` pushes arrived for `sub`, and returns them. */
export async function waitForPushes(sub: ReceiverSubscription, n: number, timeout = 8_000): Promise<Delivery[]> {
  return eventually(async () => {
    const { deliveries } = await received(sub);
    if (deliveries.length < n) throw new Error(`${deliveries.length} of ${n} pushes arrived`);
    return deliveries;
  }, timeout, 100);
}

/** POST /push/subscription with the receiver's subscription (200). */
export async function subscribe(user: TestUser, sub: ReceiverSubscription, data?: unknown, token = user.accessToken): Promise<any> {
  return expectStatus(await call('/push/subscription', { token, body: { subscription: { endpoint: sub.endpoint, keys: sub.keys }, ...(data ? { data } : {}) } }), 200);
}

/** Logs in again: a second session (device) of the same account. */
export async function secondSession(user: TestUser): Promise<{ accessToken: string; refreshToken: string }> {
  const body = await expectStatus(await call('/auth/login', { body: { login: user.username, password: user.password } }), 200);
  return { accessToken: body.access_token, refreshToken: body.refresh_token };
}

/**
 * Puts a notification made in a test straight into the user's inbox storage, unread (so a push retried
 * for it still finds it there: see UserInbox.pushable), without delivering it (which would push it).
 */
export async function storedUnread(userId: string, notification: Notification, source: string | null = null): Promise<Notification> {
  await runInDurableObject(env.INBOXES.get(env.INBOXES.idFromName(userId)) as DurableObjectStub<UserInbox>, (_, state) => {
    const at = Date.parse(notification.created_at);
    state.storage.sql.exec(
      'INSERT INTO notifications (seq, id, type, data, created_at, updated_at, source) VALUES ((SELECT COALESCE(MAX(seq), 0) + 1 FROM notifications), ?, ?, ?, ?, ?, ?)',
      notification.id,
      notification.type,
      JSON.stringify(notification.data),
      at,
      at,
      source,
    );
  });
  return notification;
}
