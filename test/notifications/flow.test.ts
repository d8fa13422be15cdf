import { describe, expect, it } from 'vitest';
import { call, createUser, expectStatus } from '../helpers/client';
import { openNotifications } from './stream-helpers';

const settle = () => new Promise((resolve) => setTimeout(resolve, 60));

describe('Notifications flow', () => {
  it('should store notifications for offline users and push them live, with replay and grouping', async () => {
    const a = await createUser();
    const b = await createUser();
    const c = await createUser();
    // b is offline: the friend request waits in the inbox.
    const request = await expectStatus(await call('/friends/requests', { body: { user_id: b.id }, token: a.accessToken }), 201);
    await settle();
    const listed = await expectStatus(await call('/notifications', { token: b.accessToken }), 200);
    expect(listed.data[0]).toMatchObject({ type: 'friend_request', read: false, data: { request_id: request.id, from_user: { id: a.id, username: a.username } } });
    expect(listed.data[0].data.from_user).not.toHaveProperty('email');
    expect(await expectStatus(await call('/notifications/unread_count', { token: b.accessToken }), 200)).toEqual({ unread_count: 1 });

    // b comes online: new notifications arrive on the socket; since= replays what came after.
    const socket = await openNotifications(b, { via: 'query', since: listed.data[0].id });
    const post = await expectStatus(await call('/posts', { body: { content: 'hello' }, token: b.accessToken }), 201);
    await expectStatus(await call(`/posts/${post.id}/like`, { method: 'POST', token: a.accessToken }), 200);
    await expectStatus(await call(`/posts/${post.id}/like`, { method: 'POST', token: c.accessToken }), 200);
    await settle();
    const likes = socket.ofType('post_like');
    expect(likes.length).toBe(2);
    // Grouped: the second like updates the same notification.
    expect(likes[1].id).toBe(likes[0].id);
    expect(likes[1].data.count).toBe(2);
    expect(likes[1].data.actors.map((u: any) => u.id)).toEqual([c.id, a.id]);
    expect(Object.keys(likes[1]).sort()).toEqual(['created_at', 'data', 'id', 'type']);
    expect(await expectStatus(await call('/notifications/read', { body: {}, token: b.accessToken }), 200)).toEqual({ unread_count: 0 });
    socket.close();
  });
});
