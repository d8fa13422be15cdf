import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import type { Notification } from '../../src/modules/notifications/notifications.schemas';
import type { PushMessage } from '../../src/modules/notifications/inbox-push';
import { pushNotification } from '../../src/modules/push/push-delivery';
import { vapidConfig } from '../../src/modules/push/web-push';
import { newId } from '../../src/lib/ids';
import { call, createUser, expectStatus, type TestUser } from '../helpers/client';
import { befriend, block, notifications, requestFriend } from '../notifications/helpers';
import { bindings, pushService, received, storedUnread, subscribe, waitForPushes, type ReceiverSubscription } from './helpers';

// What reaches a lock screen is decided when the push is sent, not only when the notification was made: a push
// waiting in the queue (or retried for half an hour) must not carry the words or name of someone the recipient
// has blocked or muted since, or whose account is suspended; and a stranger's message request shows no text.
const publicUser = (u: TestUser) => ({ id: u.id, username: u.username, display_name: u.username, avatar_url: null, bio: '', is_verified: false });

function message(recipient: TestUser, sender: TestUser, content: string): PushMessage {
  const notification = {
    id: newId(),
    type: 'new_message',
    data: { id: newId(), conversation_id: newId(), seq: 1, sender: publicUser(sender), content, created_at: new Date().toISOString() },
    read: false,
    created_at: new Date().toISOString(),
  } as Notification;
  return { type: 'push.notification', user_id: recipient.id, notification };
}

/** Pushes a notification the recipient's inbox holds (unread), as a delivery leaves it; true when it arrived. */
async function pushedNow(sub: ReceiverSubscription, msg: PushMessage): Promise<boolean> {
  await storedUnread(msg.user_id, msg.notification);
  await pushNotification(bindings, msg, (await vapidConfig(bindings))!);
  return (await received(sub)).deliveries.some((d) => (d.payload as { notification_id?: string } | null)?.notification_id === msg.notification.id);
}

describe('Push consent', () => {
  it('should push nothing from someone the recipient has blocked, been blocked by or muted since, or whose account is suspended', async () => {
    const [me, blocked, blocker, muted, suspended, friend] = [await createUser(), await createUser(), await createUser(), await createUser(), await createUser(), await createUser()];
    const sub = await pushService();
    await subscribe(me, sub);
    await befriend(me, friend);
    // Each was made while nothing stood between them; the push goes out after.
    const pending = [message(me, blocked, 'from blocked'), message(me, blocker, 'from blocker'), message(me, muted, 'from muted'), message(me, suspended, 'from suspended')];
    await block(me, blocked);
    await block(blocker, me);
    await expectStatus(await call(`/users/${muted.id}/mute`, { method: 'POST', token: me.accessToken }), 200);
    await env.DB.prepare('UPDATE users SET suspended_at = ?1 WHERE id = ?2').bind(Date.now(), suspended.id).run();
    for (const msg of pending) expect(await pushedNow(sub, msg), JSON.stringify(msg.notification.data)).toBe(false);
    // The barrier: the same push from a friend goes out.
    expect(await pushedNow(sub, message(me, friend, 'from a friend'))).toBe(true);
    expect((await received(sub)).deliveries.map((d) => (d.payload as { body: string }).body)).toEqual(['from a friend']);
  });

  it('should not retry a push whose notification was retracted, read or hidden since, and retry one still unread', async () => {
    const [me, canceller, reader, suspended, waiting] = [await createUser(), await createUser(), await createUser(), await createUser(), await createUser()];
    const sub = await pushService();
    await subscribe(me, sub);
    const requests = [await requestFriend(canceller, me), await requestFriend(reader, me), await requestFriend(suspended, me), await requestFriend(waiting, me)];
    await waitForPushes(sub, 4);
    const list = (await notifications(me)).data as Notification[];
    const of = (u: TestUser) => list.find((n) => (n.data as { from_user?: { id: string } }).from_user?.id === u.id)!;
    const [cancelled, read, hidden, unread] = [of(canceller), of(reader), of(suspended), of(waiting)];
    // Meanwhile: one request is cancelled, one notification read in the app, one sender suspended (and the inbox told).
    await expectStatus(await call(`/friends/requests/${requests[0].id}`, { method: 'DELETE', token: canceller.accessToken }), 204);
    await expectStatus(await call('/notifications/read', { token: me.accessToken, body: { ids: [read.id] } }), 200);
    await env.DB.prepare('UPDATE users SET suspended_at = ?1 WHERE id = ?2').bind(Date.now(), suspended.id).run();
    await env.INBOXES.get(env.INBOXES.idFromName(me.id)).refreshStanding(suspended.id);
    /** How many pushes of the notification arrived after a retry of it (one arrived before). */
    const afterRetry = async (notification: Notification) => {
      await pushNotification(bindings, { type: 'push.notification', user_id: me.id, notification, attempt: 1 }, (await vapidConfig(bindings))!);
      return (await received(sub)).deliveries.filter((d) => (d.payload as { notification_id?: string } | null)?.notification_id === notification.id).length;
    };
    for (const n of [cancelled, read, hidden]) expect(await afterRetry(n), n.id).toBe(1);
    expect(await afterRetry(unread)).toBe(2);
  });

  it('should not push a notification retracted before its first attempt (a message unsent right after it was sent)', async () => {
    const [me, sender] = [await createUser(), await createUser()];
    const sub = await pushService();
    await subscribe(me, sub);
    const [unsent, kept] = [message(me, sender, 'sent to the wrong person'), message(me, sender, 'meant for you')];
    for (const msg of [unsent, kept]) await storedUnread(me.id, msg.notification, `message:${msg.notification.id}`);
    // The unsend retracts its notification from the inbox between the delivery and the queue batch.
    await env.INBOXES.get(env.INBOXES.idFromName(me.id)).retract({ source: `message:${unsent.notification.id}`, at: Date.now() });
    const vapid = (await vapidConfig(bindings))!;
    for (const msg of [unsent, kept]) await pushNotification(bindings, msg, vapid);
    expect((await received(sub)).deliveries.map((d) => (d.payload as { body: string }).body)).toEqual(['meant for you']);
  });

  it('should show a message request without its text, and the message once the request is accepted', async () => {
    const [me, stranger] = [await createUser(), await createUser({ display_name: 'Sam Stranger' })];
    const sub = await pushService();
    await subscribe(me, sub);
    const first = await expectStatus(await call('/messages', { token: stranger.accessToken, body: { receiver_id: me.id, content: 'unsolicited words' } }), 201);
    const [push] = await waitForPushes(sub, 1);
    expect(push!.payload).toMatchObject({ type: 'new_message', title: 'Sam Stranger', body: 'Sent you a message request', url: `${env.APP_URL}/conversations/${first.conversation_id}` });
    expect(JSON.stringify(push!.payload)).not.toContain('unsolicited');

    await expectStatus(await call(`/conversations/${first.conversation_id}/accept`, { method: 'POST', token: me.accessToken }), 200);
    await expectStatus(await call('/messages', { token: stranger.accessToken, body: { receiver_id: me.id, content: 'now welcome' } }), 201);
    const [, second] = await waitForPushes(sub, 2);
    expect(second!.payload).toMatchObject({ type: 'new_message', body: 'now welcome' });
  });
});
