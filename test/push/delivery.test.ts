import { env } from 'cloudflare:workers';
import { afterEach, describe, expect, it } from 'vitest';
import { call, createUser, expectStatus } from '../helpers/client';
import { accept, closeSockets, newCallId, SDP, socketOf, startDirect } from '../calls/helpers';
import { befriend, eventually, follow, notifications, requestFriend, waitForNotification } from '../notifications/helpers';
import { openNotifications } from '../notifications/stream-helpers';
import { bindings, pushService, receiver, received, secondSession, subscribe, waitForPushes } from './helpers';

afterEach(closeSockets);
const quiet = (ms = 2_000) => new Promise((r) => setTimeout(r, ms));

describe('Web Push delivery', () => {
  it('should push a notification to a user with no socket open: encrypted, VAPID-signed, with TTL and Urgency, and nothing more than the notification', async () => {
    const [a, b] = [await createUser(), await createUser({ display_name: 'Bea Pusher' })];
    const sub = await pushService();
    const subscription = await subscribe(a, sub);
    await requestFriend(b, a);
    const [push] = await waitForPushes(sub, 1);
    expect(push!.problems).toEqual([]);
    const notification = await waitForNotification(a, 'friend_request');
    expect(push!.payload).toEqual({ notification_id: notification.id, type: 'friend_request', title: 'Bea Pusher', body: 'Sent you a friend request', url: `${env.APP_URL}/friends/requests` });
    expect(push).toMatchObject({ ttl: String(7 * 24 * 3600), urgency: 'normal', topic: null });
    expect(push!.vapid).toMatchObject({ aud: receiver, sub: env.VAPID_SUBJECT, k: subscription.server_key });
    expect(JSON.stringify(push!.payload)).not.toContain(b.email);
  });

  it('should not push to someone whose notifications socket is open', async () => {
    const [a, b, c] = [await createUser(), await createUser(), await createUser()];
    const sub = await pushService();
    await subscribe(a, sub);
    const live = await openNotifications(a);
    try {
      await requestFriend(b, a);
      await live.next((f) => f?.type === 'friend_request', 'the live notification');
    } finally {
      live.close();
    }
    await live.closed();
    // The barrier: a later notification, once the socket is gone, does push.
    await follow(c, a);
    const pushes = await waitForPushes(sub, 1);
    await quiet(500);
    expect((await received(sub)).deliveries.map((d) => (d.payload as { type: string }).type)).toEqual(['new_follower']);
    expect(pushes[0]!.urgency).toBe('low');
  });

  it('should push only what the alerts and the policy let through', async () => {
    const [a, friend, stranger] = [await createUser(), await createUser(), await createUser()];
    await befriend(a, friend);
    const sub = await pushService();
    await subscribe(a, sub, { alerts: { new_follower: false }, policy: 'friends' });
    await follow(friend, a); // alert off
    await requestFriend(stranger, a); // not a friend
    const [bMsg] = [await expectStatus(await call('/messages', { token: friend.accessToken, body: { receiver_id: a.id, content: 'hello from a friend' } }), 201)];
    const [push] = await waitForPushes(sub, 1);
    expect(push!.payload).toMatchObject({ type: 'new_message', body: 'hello from a friend', url: `${env.APP_URL}/conversations/${bMsg.conversation_id}` });
    expect(push!.urgency).toBe('high');
    await quiet(1_500);
    expect((await received(sub)).deliveries).toHaveLength(1);
  });

  it('should push to every device of the user, and stop for a device that signed out', async () => {
    const [a, b] = [await createUser(), await createUser()];
    const [phone, laptop] = [await pushService(), await pushService()];
    await subscribe(a, phone);
    const session = await secondSession(a);
    await subscribe(a, laptop, undefined, session.accessToken);
    await follow(b, a);
    await Promise.all([waitForPushes(phone, 1), waitForPushes(laptop, 1)]);
    await expectStatus(await call('/auth/logout', { body: { refresh_token: session.refreshToken } }), 204);
    await requestFriend(b, a);
    await waitForPushes(phone, 2);
    await eventually(async () => {
      const row = await env.DB.prepare('SELECT COUNT(*) AS n FROM push_subscriptions WHERE user_id = ?1').bind(a.id).first<{ n: number }>();
      expect(row?.n).toBe(1);
    }, 5_000);
    expect((await received(laptop)).deliveries).toHaveLength(1);
  });

  it('should delete a subscription the push service says is gone (410)', async () => {
    const [a, b] = [await createUser(), await createUser()];
    const sub = await pushService('gone');
    await subscribe(a, sub);
    await requestFriend(b, a);
    await eventually(async () => expect((await call('/push/subscription', { token: a.accessToken })).status).toBe(404), 8_000, 200);
    expect((await received(sub)).attempts).toBe(1);
  });

  it('should retry a failed push with backoff until it is delivered', async () => {
    const [a, b] = [await createUser(), await createUser()];
    const sub = await pushService('fail-once');
    await subscribe(a, sub);
    await requestFriend(b, a);
    const [push] = await waitForPushes(sub, 1, 15_000);
    expect(push!.problems).toEqual([]);
    expect((await received(sub)).attempts).toBe(2);
  });

  it('should never let a hanging push service delay the request that caused the notification', async () => {
    const [a, b] = [await createUser(), await createUser()];
    const sub = await pushService('hang');
    await subscribe(a, sub);
    const started = Date.now();
    await requestFriend(b, a);
    expect(Date.now() - started).toBeLessThan(1_000);
    await eventually(async () => expect((await received(sub)).attempts).toBeGreaterThanOrEqual(1), 8_000, 200);
    // The subscription survives a timeout (it is retried, not deleted).
    expect((await call('/push/subscription', { token: a.accessToken })).status).toBe(200);
    expect((await notifications(a)).data[0]?.type).toBe('friend_request');
  });

  it('should ring an offline callee through push (60 s, high urgency) and replace the ring with the missed call', async () => {
    const [a, b] = [await createUser(), await createUser()];
    const conv = await startDirect(a, b);
    await accept(b, conv.id);
    const sub = await pushService();
    await subscribe(b, sub);
    const sa = await socketOf(a, conv.id);
    const callId = newCallId();
    sa.send({ type: 'call.invite', call_id: callId, media: 'video', sdp: SDP });
    const [ring] = await waitForPushes(sub, 1);
    expect(ring).toMatchObject({ ttl: '60', urgency: 'high', problems: [] });
    expect(ring!.payload).toMatchObject({ type: 'call_incoming', title: 'Incoming video call' });
    expect(ring!.topic).toMatch(/^[A-Za-z0-9_-]{32}$/);
    sa.send({ type: 'call.hangup', call_id: callId });
    const [, missed] = await waitForPushes(sub, 2);
    expect(missed!.payload).toMatchObject({ type: 'missed_call', title: 'Missed video call' });
    expect(missed!.topic).toBe(ring!.topic);
  });
});

void bindings;
