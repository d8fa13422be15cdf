import { runInDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { call, expectStatus, type TestUser } from '../helpers/client';
import { eventually, follow, like, notifications, ofType, post, quiet, setVisibility, unreadCount, users, waitForCount, waitForNotification } from '../notifications/helpers';
import { inboxStub, openNotifications } from '../notifications/stream-helpers';
import { FLOOD_LIMIT } from '../../src/modules/notifications/user-inbox';

const requestFriend = async (from: TestUser, to: TestUser) => (await expectStatus(await call('/friends/requests', { token: from.accessToken, body: { user_id: to.id } }), 201)).id as string;
const cancel = async (from: TestUser, id: string) => expectStatus(await call(`/friends/requests/${id}`, { method: 'DELETE', token: from.accessToken }), 204);

describe('Friend-request retraction', () => {
  it('should remove a cancelled request’s notification from the list, the unread count and open sockets', async () => {
    const [sender, victim] = await users(2);
    const sock = await openNotifications(victim);
    try {
      const id = await requestFriend(sender, victim);
      const n = await waitForNotification(victim, 'friend_request', (x) => x.data.request_id === id);
      expect(await unreadCount(victim)).toBe(1);
      await cancel(sender, id);
      // Retracted before the DELETE answered.
      expect(await ofType(victim, 'friend_request')).toEqual([]);
      expect(await unreadCount(victim)).toBe(0);
      await sock.next((f) => f?.type === 'notification.removed', 'the removal frame');
      expect(sock.ofType('notification.removed')).toEqual([{ type: 'notification.removed', id: n.id }]);

      // A reconnect from before the removal learns about it too.
      const replay = await openNotifications(victim, { since: n.id });
      try {
        await replay.next((f) => f?.type === 'notification.removed', 'the replayed removal');
        expect(replay.frames).toEqual([{ type: 'notification.removed', id: n.id }]);
      } finally {
        replay.close();
      }
    } finally {
      sock.close();
    }
  });

  it('should leave the victim with no notification after 40 rounds of send and cancel (friend-request ping-pong)', async () => {
    const [sender, victim] = await users(2);
    for (let round = 0; round < 40; round++) await cancel(sender, await requestFriend(sender, victim));
    await quiet();
    expect(await ofType(victim, 'friend_request')).toEqual([]);
    expect(await unreadCount(victim)).toBe(0);
  });

  it('should notify nobody when the same request is sent again within 24 hours, though the request itself stands', async () => {
    const [sender, victim] = await users(2);
    const first = await requestFriend(sender, victim);
    await waitForNotification(victim, 'friend_request');
    await cancel(sender, first);
    const again = await requestFriend(sender, victim);
    await quiet();
    expect(await ofType(victim, 'friend_request')).toEqual([]);
    const incoming = await expectStatus(await call('/friends/requests?direction=incoming', { token: victim.accessToken }), 200);
    expect(incoming.data.map((r: any) => r.id)).toEqual([again]);
    // Someone else's request still notifies.
    const [other] = await users(1);
    await requestFriend(other!, victim);
    await waitForCount(victim, 'friend_request', 1);
  });

  it('should drop a request notification that arrives after its cancellation', async () => {
    const [sender, victim] = await users(2);
    // Send and cancel back to back: whichever reaches the inbox first, nothing is left.
    const id = await requestFriend(sender, victim);
    await call(`/friends/requests/${id}`, { method: 'DELETE', token: sender.accessToken });
    await quiet();
    expect(await ofType(victim, 'friend_request')).toEqual([]);
  });
});

describe('Retraction of likes and follows', () => {
  it('should take a like back out of its notification when the post is unliked', async () => {
    const [author, fan, other] = await users(3);
    const p = await post(author, 'hello');
    await like(fan, p.id);
    await like(other, p.id);
    await eventually(async () => expect((await ofType(author, 'post_like'))[0]?.data.count).toBe(2));
    await expectStatus(await call(`/posts/${p.id}/like`, { method: 'DELETE', token: other.accessToken }), 200);
    const [n] = await ofType(author, 'post_like');
    expect(n!.data).toMatchObject({ count: 1, user: { id: fan.id } });
    expect(n!.data.actors.map((a: any) => a.id)).toEqual([fan.id]);
    await expectStatus(await call(`/posts/${p.id}/like`, { method: 'DELETE', token: fan.accessToken }), 200);
    expect(await ofType(author, 'post_like')).toEqual([]);
    expect(await unreadCount(author)).toBe(0);
  });

  it('should retract new_follower on unfollow and follow_request when a request is withdrawn, and stay quiet on a re-follow within 24 hours', async () => {
    const [target, fickle, privateOne] = await users(3);
    await follow(fickle, target);
    await waitForNotification(target, 'new_follower');
    await expectStatus(await call(`/users/${target.id}/follow`, { method: 'DELETE', token: fickle.accessToken }), 200);
    expect(await ofType(target, 'new_follower')).toEqual([]);
    for (let i = 0; i < 5; i++) {
      await follow(fickle, target);
      await expectStatus(await call(`/users/${target.id}/follow`, { method: 'DELETE', token: fickle.accessToken }), 200);
    }
    await follow(fickle, target);
    await quiet();
    expect(await ofType(target, 'new_follower')).toEqual([]);

    await setVisibility(privateOne, 'private');
    await follow(fickle, privateOne);
    await waitForNotification(privateOne, 'follow_request');
    await expectStatus(await call(`/users/${privateOne.id}/follow`, { method: 'DELETE', token: fickle.accessToken }), 200);
    expect(await ofType(privateOne, 'follow_request')).toEqual([]);
  });
});

describe('Per-stranger cap', () => {
  it(`should deliver at most ${FLOOD_LIMIT} notifications an hour from a stranger, while every action succeeds`, async () => {
    const [victim, stranger] = await users(2);
    const posts = [];
    for (let i = 0; i < FLOOD_LIMIT + 5; i++) posts.push(await post(victim, `post ${i}`));
    for (const p of posts) expect((await like(stranger, p.id)).like_count).toBe(1);
    await waitForCount(victim, 'post_like', FLOOD_LIMIT);
    await quiet();
    expect((await notifications(victim, 'limit=100')).data).toHaveLength(FLOOD_LIMIT);

    // An hour later the stranger may notify again (the inbox's window, aged by hand).
    await runInDurableObject(inboxStub(victim.id), (_instance, state) => {
      state.storage.sql.exec('UPDATE flood SET at = at - 3600001');
    });
    const late = await post(victim, 'an hour later');
    await like(stranger, late.id);
    await waitForCount(victim, 'post_like', FLOOD_LIMIT + 1);
  });

  it('should not cap someone the recipient follows', async () => {
    const [victim, followed] = await users(2);
    await follow(victim, followed);
    const posts = [];
    for (let i = 0; i < FLOOD_LIMIT + 5; i++) posts.push(await post(victim, `post ${i}`));
    for (const p of posts) await like(followed, p.id);
    await waitForCount(victim, 'post_like', FLOOD_LIMIT + 5);
  });
});
