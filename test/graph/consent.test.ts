import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { call, expectProblem, expectStatus } from '../helpers/client';
import { act, createStaff } from '../moderation/helpers';
import { answer, captureEvents, follow, followOk, friendRequests, makePrivate, makePublic, relationship, requestFriend, sendFriendRequest, users } from './helpers';

const MONTH_MS = 30 * 24 * 60 * 60 * 1000;
const reject = (owner: { accessToken: string }, requester: { id: string }) => call(`/follow_requests/${requester.id}/reject`, { method: 'POST', token: owner.accessToken });

describe('A "no" holds for 30 days', () => {
  it('should refuse a friend request to someone who declined the last one (409 naming user_id), notifying nobody, until 30 days have passed', async () => {
    const [a, b] = await users(2);
    const first = await requestFriend(a!, b!);
    await expectStatus(await answer(b!, first.id, 'decline'), 200);

    const capture = captureEvents(a!.id, b!.id);
    const problem = await expectProblem(await sendFriendRequest(a!, b!), 409, 'user_id');
    capture.stop();
    expect(problem.errors[0].message).toMatch(/^declined your last friend request; you may ask again from \d{4}-\d{2}-\d{2}T/);
    expect(capture.events()).toEqual([]);
    expect(await friendRequests(b!)).toEqual([]);

    // The one who said no may still ask.
    const back = await expectStatus(await sendFriendRequest(b!, a!), 201);
    await expectStatus(await answer(a!, back.id, 'decline'), 200);

    await env.DB.prepare('UPDATE friend_requests SET responded_at = responded_at - ?2 WHERE id = ?1').bind(first.id, MONTH_MS).run();
    const again = await expectStatus(await sendFriendRequest(a!, b!), 201);
    expect(again.id).not.toBe(first.id);
  });

  it('should refuse a new follow request to a private account that rejected the last one (409 naming id), until 30 days have passed', async () => {
    const [a, b] = await users(2);
    await makePrivate(b!);
    expect(await followOk(a!, b!)).toEqual({ following: false, requested: true });
    expect(await expectStatus(await reject(b!, a!), 200)).toEqual({ following: false });

    const capture = captureEvents(a!.id, b!.id);
    const problem = await expectProblem(await follow(a!, b!), 409, 'id');
    capture.stop();
    expect(problem.errors[0].message).toMatch(/^rejected your last follow request; you may ask again from /);
    expect(capture.events()).toEqual([]);
    expect((await expectStatus(await call('/follow_requests', { token: b!.accessToken }), 200)).data).toEqual([]);
    expect(await relationship(a!, b!)).toMatchObject({ following: false, follow_requested: false });

    await env.DB.prepare('UPDATE follow_rejections SET rejected_at = rejected_at - ?3 WHERE follower_id = ?1 AND followee_id = ?2').bind(a!.id, b!.id, MONTH_MS).run();
    expect(await followOk(a!, b!)).toEqual({ following: false, requested: true });
  });

  it('should not hold back a follow of a public account, nor requests to others, nor a request nobody rejected', async () => {
    const [a, b, c] = await users(3);
    await makePrivate(b!);
    await makePrivate(c!);
    await followOk(a!, b!);
    await expectStatus(await reject(b!, a!), 200);
    // Withdrawn by the requester, not rejected: asking again is fine.
    await followOk(a!, c!);
    await call(`/users/${c!.id}/follow`, { method: 'DELETE', token: a!.accessToken });
    expect(await followOk(a!, c!)).toEqual({ following: false, requested: true });
    // A public account asks no consent to be followed.
    await makePublic(b!);
    expect(await followOk(a!, b!)).toEqual({ following: true, requested: false });
  });
});

describe('Your own lists show nothing of people who block you', () => {
  it('should show someone in /me/mutes and /me/blocks as a hidden user once they block you, and in full again once they unblock', async () => {
    const [v, x, y] = await users(3);
    await expectStatus(await call(`/users/${x!.id}/mute`, { method: 'POST', token: v!.accessToken }), 200);
    await expectStatus(await call(`/users/${y!.id}/block`, { method: 'POST', token: v!.accessToken }), 200);
    for (const them of [x!, y!]) await expectStatus(await call(`/users/${v!.id}/block`, { method: 'POST', token: them.accessToken }), 200);
    await expectStatus(await call('/me', { method: 'PATCH', token: x!.accessToken, body: { display_name: 'New name of X' } }), 200);

    const hidden = (id: string) => ({ id, username: '', display_name: '', avatar_url: null, bio: '', is_verified: false });
    const mutes = await expectStatus(await call('/me/mutes', { token: v!.accessToken }), 200);
    expect(mutes.data.map((e: any) => e.user)).toEqual([hidden(x!.id)]);
    const blocks = await expectStatus(await call('/me/blocks', { token: v!.accessToken }), 200);
    expect(blocks.data.map((e: any) => e.user)).toEqual([hidden(y!.id)]);
    // Still yours to undo.
    expect((await call(`/users/${x!.id}/mute`, { method: 'DELETE', token: v!.accessToken })).status).toBe(204);

    await call(`/users/${v!.id}/block`, { method: 'DELETE', token: y!.accessToken });
    const again = await expectStatus(await call('/me/blocks', { token: v!.accessToken }), 200);
    expect(again.data[0].user).toMatchObject({ id: y!.id, username: y!.username });
  });
});

describe('A silenced account approaches nobody who did not choose to hear from it', () => {
  it('should let it follow anyone without telling strangers, and tell the people who follow it', async () => {
    const [staff, quiet, stranger, fan] = [await createStaff(), ...(await users(3))];
    await followOk(fan!, quiet!);
    await act(staff, quiet!, 'silence');
    const capture = captureEvents(quiet!.id, stranger!.id, fan!.id);
    try {
      expect(await followOk(quiet!, stranger!)).toEqual({ following: true, requested: false });
      expect(await followOk(quiet!, fan!)).toEqual({ following: true, requested: false });
      expect(capture.events()).toEqual([{ type: 'new_follower', actorId: quiet!.id, recipientId: fan!.id }]);
    } finally {
      capture.stop();
    }
    expect((await relationship(quiet!, stranger!)).following).toBe(true);
  });

  it('should refuse its friend requests to people who do not follow it (403, nothing written), and take them to people who do', async () => {
    const [staff, quiet, stranger, fan] = [await createStaff(), ...(await users(3))];
    await followOk(fan!, quiet!);
    await act(staff, quiet!, 'silence');
    const capture = captureEvents(quiet!.id, stranger!.id);
    const refused = await expectProblem(await sendFriendRequest(quiet!, stranger!), 403);
    capture.stop();
    expect(refused.detail).toMatch(/silenced/);
    expect(capture.events()).toEqual([]);
    expect(await friendRequests(stranger!)).toEqual([]);
    await expectStatus(await sendFriendRequest(quiet!, fan!), 201);
    // Once staff lift it, strangers may be asked again.
    await act(staff, quiet!, 'unsilence');
    await expectStatus(await sendFriendRequest(quiet!, stranger!), 201);
  });
});
