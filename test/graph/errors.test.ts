import { describe, expect, it } from 'vitest';
import { call, createUser, expectProblem, expectStatus } from '../helpers/client';
import {
  answer,
  befriend,
  block,
  counts,
  follow,
  followOk,
  friendRequests,
  listOf,
  makePrivate,
  requestFriend,
  sendFriendRequest,
  UNKNOWN_ID,
  unfollow,
  users,
} from './helpers';

const ZERO = { posts: 0, followers: 0, following: 0, friends: 0 };

describe('Self-actions', () => {
  it('should refuse to follow or unfollow yourself (400 naming id)', async () => {
    const a = await createUser();
    await expectProblem(await follow(a, a), 400, 'id');
    await expectProblem(await unfollow(a, a), 400, 'id');
    expect(await counts(a)).toEqual(ZERO);
  });

  it('should refuse a friend request to yourself (400 naming user_id)', async () => {
    const a = await createUser();
    await expectProblem(await sendFriendRequest(a, a), 400, 'user_id');
    expect(await friendRequests(a, 'outgoing')).toEqual([]);
    expect(await friendRequests(a, 'incoming')).toEqual([]);
    expect(await counts(a)).toEqual(ZERO);
  });

  it('should refuse to unfriend yourself (400 naming user_id)', async () => {
    const a = await createUser();
    await expectProblem(await call(`/friends/${a.id}`, { method: 'DELETE', token: a.accessToken }), 400, 'user_id');
  });

  it('should refuse to block or mute yourself (400 naming id)', async () => {
    const a = await createUser();
    await expectProblem(await block(a, a), 400, 'id');
    await expectProblem(await call(`/users/${a.id}/mute`, { method: 'POST', token: a.accessToken }), 400, 'id');
    expect((await expectStatus(await call('/me/blocks', { token: a.accessToken }), 200)).data).toEqual([]);
    expect((await expectStatus(await call('/me/mutes', { token: a.accessToken }), 200)).data).toEqual([]);
    // The own profile is still readable.
    await expectStatus(await call(`/users/${a.id}`, { token: a.accessToken }), 200);
  });

  it('should have no pending follow request from yourself to accept', async () => {
    const a = await createUser();
    await makePrivate(a);
    await expectProblem(await call(`/follow_requests/${a.id}/accept`, { method: 'POST', token: a.accessToken }), 404);
  });
});

describe('Unknown users', () => {
  const routes: Array<[string, string]> = [
    ['POST', `/users/${UNKNOWN_ID}/follow`],
    ['DELETE', `/users/${UNKNOWN_ID}/follow`],
    ['POST', `/users/${UNKNOWN_ID}/block`],
    ['DELETE', `/users/${UNKNOWN_ID}/block`],
    ['POST', `/users/${UNKNOWN_ID}/mute`],
    ['DELETE', `/users/${UNKNOWN_ID}/mute`],
    ['DELETE', `/friends/${UNKNOWN_ID}`],
    ['POST', `/follow_requests/${UNKNOWN_ID}/accept`],
    ['POST', `/follow_requests/${UNKNOWN_ID}/reject`],
    ['GET', `/users/${UNKNOWN_ID}/followers`],
    ['GET', `/users/${UNKNOWN_ID}/following`],
    ['GET', `/users/${UNKNOWN_ID}/friends`],
    ['GET', '/users/nobody_by_that_name/followers'],
    ['GET', '/users/nobody_by_that_name/following'],
    ['GET', '/users/nobody_by_that_name/friends'],
  ];

  for (const [method, path] of routes) {
    it(`should answer 404 for ${method} ${path.replace(UNKNOWN_ID, '{unknown}')}`, async () => {
      const a = await createUser();
      await expectProblem(await call(path, { method, token: a.accessToken }), 404);
    });
  }

  it('should answer 404 to a friend request for an unknown user', async () => {
    const a = await createUser();
    await expectProblem(await call('/friends/requests', { token: a.accessToken, body: { user_id: UNKNOWN_ID } }), 404);
    expect(await friendRequests(a, 'outgoing')).toEqual([]);
  });

  it('should answer 404 for unknown friend request ids', async () => {
    const a = await createUser();
    await expectProblem(await answer(a, UNKNOWN_ID, 'accept'), 404);
    await expectProblem(await answer(a, UNKNOWN_ID, 'decline'), 404);
    await expectProblem(await call(`/friends/requests/${UNKNOWN_ID}`, { method: 'DELETE', token: a.accessToken }), 404);
  });

  it('should answer 404 to accept/reject when that user asked nothing', async () => {
    const [a, b] = await users(2);
    await makePrivate(b!);
    await expectProblem(await call(`/follow_requests/${a!.id}/accept`, { method: 'POST', token: b!.accessToken }), 404);
    await expectProblem(await call(`/follow_requests/${a!.id}/reject`, { method: 'POST', token: b!.accessToken }), 404);
    expect(await counts(b!)).toEqual(ZERO);
  });

  it('should answer 404 to accepting a follow request twice, or one already followed', async () => {
    const [a, b, c] = await users(3);
    await followOk(c!, b!);
    await makePrivate(b!);
    await followOk(a!, b!);
    await expectStatus(await call(`/follow_requests/${a!.id}/accept`, { method: 'POST', token: b!.accessToken }), 200);
    await expectProblem(await call(`/follow_requests/${a!.id}/accept`, { method: 'POST', token: b!.accessToken }), 404);
    await expectProblem(await call(`/follow_requests/${a!.id}/reject`, { method: 'POST', token: b!.accessToken }), 404);
    // An approved follower is not a request: reject must not remove the follow.
    await expectProblem(await call(`/follow_requests/${c!.id}/reject`, { method: 'POST', token: b!.accessToken }), 404);
    expect((await counts(b!)).followers).toBe(2);
  });
});

describe('Malformed ids', () => {
  const cases: Array<[string, string, string]> = [
    ['POST', '/users/not-an-id/follow', 'id'],
    ['DELETE', '/users/not-an-id/follow', 'id'],
    ['POST', '/users/not-an-id/block', 'id'],
    ['DELETE', '/users/not-an-id/block', 'id'],
    ['POST', '/users/not-an-id/mute', 'id'],
    ['DELETE', '/users/not-an-id/mute', 'id'],
    ['POST', '/follow_requests/not-an-id/accept', 'user_id'],
    ['POST', '/follow_requests/not-an-id/reject', 'user_id'],
    ['POST', '/friends/requests/not-an-id/accept', 'id'],
    ['POST', '/friends/requests/not-an-id/decline', 'id'],
    ['DELETE', '/friends/requests/not-an-id', 'id'],
    ['DELETE', '/friends/not-an-id', 'user_id'],
    // A ULID with a lower-case letter, and one character short.
    ['POST', `/users/${UNKNOWN_ID.toLowerCase()}/follow`, 'id'],
    ['POST', `/users/${UNKNOWN_ID.slice(1)}/block`, 'id'],
  ];

  for (const [method, path, field] of cases) {
    it(`should answer 400 naming ${field} for ${method} ${path}`, async () => {
      const a = await createUser();
      await expectProblem(await call(path, { method, token: a.accessToken }), 400, field);
    });
  }

  it('should answer 400 naming user_id for a friend request with a bad or missing user_id', async () => {
    const a = await createUser();
    for (const body of [{ user_id: 'nope' }, { user_id: 42 }, {}, { user_id: null }]) {
      await expectProblem(await call('/friends/requests', { token: a.accessToken, body }), 400, 'user_id');
    }
    expect(await friendRequests(a, 'outgoing')).toEqual([]);
  });

  it('should answer 400 to a friend request with a malformed JSON body', async () => {
    const a = await createUser();
    await expectProblem(await call('/friends/requests', { token: a.accessToken, body: '{"user_id":', headers: { 'Content-Type': 'application/json' } }), 400);
  });
});

describe('List parameters', () => {
  const lists = (ownerId: string) => [
    `/users/${ownerId}/followers`,
    `/users/${ownerId}/following`,
    `/users/${ownerId}/friends`,
    '/follow_requests',
    '/friends/requests',
    '/me/blocks',
    '/me/mutes',
  ];

  it('should answer 400 naming limit for limit=0, 101, -1 and non-numbers', async () => {
    const a = await createUser();
    for (const path of lists(a.id)) {
      for (const limit of ['0', '101', '-1', 'abc', '2.5']) {
        await expectProblem(await call(`${path}?limit=${limit}`, { token: a.accessToken }), 400, 'limit');
      }
      await expectStatus(await call(`${path}?limit=1`, { token: a.accessToken }), 200);
      await expectStatus(await call(`${path}?limit=100`, { token: a.accessToken }), 200);
    }
  });

  it('should answer 400 naming cursor for invalid cursors', async () => {
    const a = await createUser();
    const wrongShape = btoa(JSON.stringify(['x', 1])).replace(/=+$/, '');
    for (const path of lists(a.id)) {
      for (const cursor of ['garbage!', 'bm90LWpzb24', wrongShape, 'W10']) {
        await expectProblem(await call(`${path}?cursor=${encodeURIComponent(cursor)}`, { token: a.accessToken }), 400, 'cursor');
      }
    }
  });

  it('should answer 400 naming cursor for a cursor longer than 512 characters', async () => {
    const a = await createUser();
    await expectProblem(await call(`/users/${a.id}/followers?cursor=${'A'.repeat(600)}`), 400, 'cursor');
  });

  it('should answer 400 naming direction for an unknown direction', async () => {
    const a = await createUser();
    await expectProblem(await call('/friends/requests?direction=sideways', { token: a.accessToken }), 400, 'direction');
  });
});

describe('Friend request conflicts', () => {
  it('should answer 409 naming user_id to a duplicate pending request', async () => {
    const [a, b] = await users(2);
    await requestFriend(a!, b!);
    await expectProblem(await sendFriendRequest(a!, b!), 409, 'user_id');
    expect(await friendRequests(b!)).toHaveLength(1);
  });

  it('should answer 409 to concurrent duplicate requests except one', async () => {
    const [a, b] = await users(2);
    const results = await Promise.all([sendFriendRequest(a!, b!), sendFriendRequest(a!, b!), sendFriendRequest(a!, b!)]);
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([201, 409, 409]);
    expect(await friendRequests(b!)).toHaveLength(1);
  });

  it('should answer 409 to a request between existing friends (either side)', async () => {
    const [a, b] = await users(2);
    await befriend(a!, b!);
    await expectProblem(await sendFriendRequest(a!, b!), 409, 'user_id');
    await expectProblem(await sendFriendRequest(b!, a!), 409, 'user_id');
    expect(await friendRequests(a!)).toEqual([]);
    expect(await friendRequests(b!)).toEqual([]);
    expect((await counts(a!)).friends).toBe(1);
  });

  it('should answer 404 to answering a request twice', async () => {
    const [a, b] = await users(2);
    const r = await requestFriend(a!, b!);
    await expectStatus(await answer(b!, r.id, 'accept'), 200);
    await expectProblem(await answer(b!, r.id, 'accept'), 404);
    await expectProblem(await answer(b!, r.id, 'decline'), 404);
    await expectProblem(await call(`/friends/requests/${r.id}`, { method: 'DELETE', token: a!.accessToken }), 404);
    expect((await counts(a!)).friends).toBe(1);
    expect((await counts(b!)).friends).toBe(1);
  });

  it('should answer 404 to cancelling a request twice, or a declined one', async () => {
    const [a, b, c] = await users(3);
    const r1 = await requestFriend(a!, b!);
    expect((await call(`/friends/requests/${r1.id}`, { method: 'DELETE', token: a!.accessToken })).status).toBe(204);
    await expectProblem(await call(`/friends/requests/${r1.id}`, { method: 'DELETE', token: a!.accessToken }), 404);
    const r2 = await requestFriend(a!, c!);
    await expectStatus(await answer(c!, r2.id, 'decline'), 200);
    await expectProblem(await call(`/friends/requests/${r2.id}`, { method: 'DELETE', token: a!.accessToken }), 404);
  });

  it('should answer 404 to unfriending an unknown user, but 204 to one who is not a friend', async () => {
    const [a, b] = await users(2);
    await expectProblem(await call(`/friends/${UNKNOWN_ID}`, { method: 'DELETE', token: a!.accessToken }), 404);
    expect((await call(`/friends/${b!.id}`, { method: 'DELETE', token: a!.accessToken })).status).toBe(204);
  });
});

describe('Private account lists', () => {
  it('should answer 403 to strangers, anonymous callers and pending requesters', async () => {
    const [owner, stranger, pending] = await users(3);
    await makePrivate(owner!);
    await followOk(pending!, owner!);
    for (const kind of ['followers', 'following', 'friends'] as const) {
      await expectProblem(await listOf(owner!, kind, stranger), 403);
      await expectProblem(await listOf(owner!, kind), 403);
      await expectProblem(await listOf(owner!, kind, pending), 403);
      await expectStatus(await listOf(owner!, kind, owner), 200);
    }
  });

  it('should answer 403 again once an approved follower unfollows, or a friend unfriends', async () => {
    const [owner, follower, friend] = await users(3);
    await makePrivate(owner!);
    await followOk(follower!, owner!);
    await expectStatus(await call(`/follow_requests/${follower!.id}/accept`, { method: 'POST', token: owner!.accessToken }), 200);
    await befriend(friend!, owner!);
    await expectStatus(await listOf(owner!, 'followers', follower), 200);
    await expectStatus(await listOf(owner!, 'friends', friend), 200);
    await expectStatus(await unfollow(follower!, owner!), 200);
    expect((await call(`/friends/${owner!.id}`, { method: 'DELETE', token: friend!.accessToken })).status).toBe(204);
    await expectProblem(await listOf(owner!, 'followers', follower), 403);
    await expectProblem(await listOf(owner!, 'friends', friend), 403);
  });

  it('should not grant access to the private lists through following the other way round', async () => {
    const [owner, fan] = await users(2);
    await makePrivate(owner!);
    // The owner follows the other user; that does not let the other user in.
    await followOk(owner!, fan!);
    await expectProblem(await listOf(owner!, 'following', fan), 403);
  });
});
