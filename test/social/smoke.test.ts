import { describe, expect, it } from 'vitest';
import { call, createUser, expectStatus } from '../helpers/client';

describe('social smoke', () => {
  it('should run through follow, friend, post, like, comment, feeds', async () => {
    const a = await createUser();
    const b = await createUser();
    await expectStatus(await call(`/users/${b.id}/follow`, { method: 'POST', token: a.accessToken }), 200);
    const req = await expectStatus(await call('/friends/requests', { body: { user_id: b.id }, token: a.accessToken }), 201);
    const acc = await expectStatus(await call(`/friends/requests/${req.id}/accept`, { method: 'POST', token: b.accessToken }), 200);
    expect(acc.status).toBe('accepted');
    const post = await expectStatus(await call('/posts', { body: { content: 'hello @' + a.username, visibility: 'friends', topic: 'news' }, token: b.accessToken }), 201);
    const like = await expectStatus(await call(`/posts/${post.id}/like`, { method: 'POST', token: a.accessToken }), 200);
    expect(like).toEqual({ liked: true, like_count: 1 });
    const cm = await expectStatus(await call(`/posts/${post.id}/comments`, { body: { content: 'nice' }, token: a.accessToken }), 201);
    await expectStatus(await call(`/posts/${post.id}/comments`, { body: { content: 'thanks', parent_id: cm.id }, token: b.accessToken }), 201);
    const got = await expectStatus(await call(`/posts/${post.id}`, { token: a.accessToken }), 200);
    expect(got.comment_count).toBe(2);
    const home = await expectStatus(await call('/feed/home', { token: a.accessToken }), 200);
    expect(home.data.map((p: any) => p.id)).toContain(post.id);
    const disc = await expectStatus(await call('/feed/discover', { token: a.accessToken }), 200);
    expect(Array.isArray(disc.data)).toBe(true);
    const prof = await expectStatus(await call(`/users/${b.id}`, { token: a.accessToken }), 200);
    expect(prof.counts).toMatchObject({ posts: 1, followers: 1, friends: 1 });
    expect(prof.relationship).toMatchObject({ following: true, friend: true });
    await expectStatus(await call(`/users/${b.id}/block`, { method: 'POST', token: a.accessToken }), 200);
    await expectStatus(await call(`/users/${b.id}`, { token: a.accessToken }), 404);
    await expectStatus(await call(`/posts/${post.id}`, { token: a.accessToken }), 404);
    const me = await expectStatus(await call('/me', { token: a.accessToken }), 200);
    expect(me.counts).toMatchObject({ following: 0, friends: 0 });
  });
});
