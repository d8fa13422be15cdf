import { describe, expect, it } from 'vitest';
import { call, createUser, expectProblem, expectStatus } from '../helpers/client';
import {
  answer,
  befriend,
  block,
  captureEvents,
  counts,
  follow,
  followOk,
  friendRequests,
  listIds,
  listOf,
  makePrivate,
  relationship,
  requestFriend,
  sendFriendRequest,
  unblock,
  UNKNOWN_ID,
  users,
} from './helpers';

const PROTECTED: Array<[string, string]> = [
  ['POST', `/users/${UNKNOWN_ID}/follow`],
  ['DELETE', `/users/${UNKNOWN_ID}/follow`],
  ['GET', '/follow_requests'],
  ['POST', `/follow_requests/${UNKNOWN_ID}/accept`],
  ['POST', `/follow_requests/${UNKNOWN_ID}/reject`],
  ['POST', '/friends/requests'],
  ['GET', '/friends/requests'],
  ['POST', `/friends/requests/${UNKNOWN_ID}/accept`],
  ['POST', `/friends/requests/${UNKNOWN_ID}/decline`],
  ['DELETE', `/friends/requests/${UNKNOWN_ID}`],
  ['DELETE', `/friends/${UNKNOWN_ID}`],
  ['POST', `/users/${UNKNOWN_ID}/block`],
  ['DELETE', `/users/${UNKNOWN_ID}/block`],
  ['GET', '/me/blocks'],
  ['POST', `/users/${UNKNOWN_ID}/mute`],
  ['DELETE', `/users/${UNKNOWN_ID}/mute`],
  ['GET', '/me/mutes'],
];

describe('Authentication', () => {
  for (const [method, path] of PROTECTED) {
    it(`should answer 401 without a token to ${method} ${path.replace(UNKNOWN_ID, '{id}')}`, async () => {
      const body = method === 'POST' && path === '/friends/requests' ? { user_id: UNKNOWN_ID } : undefined;
      await expectProblem(await call(path, { method, body }), 401);
    });
  }

  it('should answer 401 to a garbage or wrongly signed token', async () => {
    const target = await createUser();
    for (const token of ['garbage', 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl']) {
      await expectProblem(await call(`/users/${target.id}/follow`, { method: 'POST', token }), 401);
      await expectProblem(await call('/friends/requests', { token, body: { user_id: target.id } }), 401);
      await expectProblem(await call('/me/blocks', { token }), 401);
    }
    expect((await counts(target)).followers).toBe(0);
  });

  it('should not change anything on an unauthenticated follow of a real user', async () => {
    const target = await createUser();
    await expectProblem(await call(`/users/${target.id}/follow`, { method: 'POST' }), 401);
    await expectProblem(await call(`/users/${target.id}/block`, { method: 'POST' }), 401);
    expect(await counts(target)).toEqual({ posts: 0, followers: 0, following: 0, friends: 0 });
  });

  it("should let anonymous callers read a public account's lists", async () => {
    const [a, b] = await users(2);
    await followOk(a!, b!);
    const page = await expectStatus(await listOf(b!, 'followers'), 200);
    expect(page.data.map((u: { id: string }) => u.id)).toEqual([a!.id]);
    for (const user of page.data) expect(user).not.toHaveProperty('relationship');
  });
});

describe('Ownership of requests', () => {
  it('should only let the receiver accept or decline a friend request', async () => {
    const [a, b, c] = await users(3);
    const r = await requestFriend(a!, b!);
    await expectProblem(await answer(a!, r.id, 'accept'), 404);
    await expectProblem(await answer(a!, r.id, 'decline'), 404);
    await expectProblem(await answer(c!, r.id, 'accept'), 404);
    await expectProblem(await answer(c!, r.id, 'decline'), 404);
    expect((await friendRequests(b!)).map((x) => x.id)).toEqual([r.id]);
    expect((await counts(a!)).friends).toBe(0);
    expect((await counts(c!)).friends).toBe(0);
  });

  it('should only let the sender cancel a friend request (receiver and others get 404)', async () => {
    const [a, b, c] = await users(3);
    const r = await requestFriend(a!, b!);
    await expectProblem(await call(`/friends/requests/${r.id}`, { method: 'DELETE', token: b!.accessToken }), 404);
    await expectProblem(await call(`/friends/requests/${r.id}`, { method: 'DELETE', token: c!.accessToken }), 404);
    expect((await friendRequests(b!)).map((x) => x.id)).toEqual([r.id]);
    // The receiver can still accept it.
    await expectStatus(await answer(b!, r.id, 'accept'), 200);
  });

  it("should not let a third party see or answer someone else's follow requests", async () => {
    const [a, owner, c] = await users(3);
    await makePrivate(owner!);
    await followOk(a!, owner!);
    expect((await expectStatus(await call('/follow_requests', { token: c!.accessToken }), 200)).data).toEqual([]);
    await expectProblem(await call(`/follow_requests/${a!.id}/accept`, { method: 'POST', token: c!.accessToken }), 404);
    expect(await relationship(a!, owner!)).toMatchObject({ following: false, follow_requested: true });
    expect((await counts(owner!)).followers).toBe(0);
  });

  it("should keep each user's blocks and mutes private to them", async () => {
    const [a, b, c] = await users(3);
    await expectStatus(await block(a!, c!), 200);
    await expectStatus(await call(`/users/${c!.id}/mute`, { method: 'POST', token: b!.accessToken }), 200);
    expect((await expectStatus(await call('/me/blocks', { token: b!.accessToken }), 200)).data).toEqual([]);
    expect((await expectStatus(await call('/me/mutes', { token: a!.accessToken }), 200)).data).toEqual([]);
    expect((await expectStatus(await call('/me/blocks', { token: c!.accessToken }), 200)).data).toEqual([]);
    expect((await expectStatus(await call('/me/mutes', { token: c!.accessToken }), 200)).data).toEqual([]);
  });

  it('should not let B remove a block that A placed', async () => {
    const [a, b] = await users(2);
    await expectStatus(await block(a!, b!), 200);
    expect((await unblock(b!, a!)).status).toBe(204);
    await expectProblem(await call(`/users/${a!.id}`, { token: b!.accessToken }), 404);
    await expectProblem(await follow(b!, a!), 404);
  });
});

describe('Blocks isolate both sides', () => {
  it('should hide each profile from the other (404) but not from third parties', async () => {
    const [a, b, c] = await users(3);
    await expectStatus(await block(a!, b!), 200);
    await expectProblem(await call(`/users/${b!.id}`, { token: a!.accessToken }), 404);
    await expectProblem(await call(`/users/${a!.id}`, { token: b!.accessToken }), 404);
    await expectProblem(await call(`/users/${a!.username}`, { token: b!.accessToken }), 404);
    await expectStatus(await call(`/users/${a!.id}`, { token: c!.accessToken }), 200);
    await expectStatus(await call(`/users/${b!.id}`), 200);
  });

  it('should refuse follows in both directions (404) and leave counts at zero', async () => {
    const [a, b] = await users(2);
    await expectStatus(await block(a!, b!), 200);
    await expectProblem(await follow(a!, b!), 404);
    await expectProblem(await follow(b!, a!), 404);
    expect((await counts(a!)).followers + (await counts(a!)).following).toBe(0);
    expect((await counts(b!)).followers + (await counts(b!)).following).toBe(0);
  });

  it('should refuse friend requests in both directions (404)', async () => {
    const [a, b] = await users(2);
    await expectStatus(await block(a!, b!), 200);
    await expectProblem(await sendFriendRequest(a!, b!), 404);
    await expectProblem(await sendFriendRequest(b!, a!), 404);
    expect(await friendRequests(a!, 'incoming')).toEqual([]);
    expect(await friendRequests(b!, 'incoming')).toEqual([]);
  });

  it('should not let a request sent before the block be accepted afterwards', async () => {
    const [a, b] = await users(2);
    const r = await requestFriend(a!, b!);
    await expectStatus(await block(a!, b!), 200);
    await expectProblem(await answer(b!, r.id, 'accept'), 404);
    await expectProblem(await call(`/friends/requests/${r.id}`, { method: 'DELETE', token: a!.accessToken }), 404);
    expect((await counts(a!)).friends).toBe(0);
    expect((await counts(b!)).friends).toBe(0);
  });

  it('should not let the blocked side accept a follow request filed before the block', async () => {
    const [a, owner] = await users(2);
    await makePrivate(owner!);
    await followOk(a!, owner!);
    await expectStatus(await block(a!, owner!), 200);
    await expectProblem(await call(`/follow_requests/${a!.id}/accept`, { method: 'POST', token: owner!.accessToken }), 404);
    expect((await counts(owner!)).followers).toBe(0);
  });

  it("should hide each side's lists from the other (404)", async () => {
    const [a, b, c] = await users(3);
    await followOk(c!, a!);
    await expectStatus(await block(b!, a!), 200);
    for (const kind of ['followers', 'following', 'friends'] as const) {
      await expectProblem(await listOf(a!, kind, b), 404);
      await expectProblem(await listOf(b!, kind, a), 404);
    }
  });

  it("should leave out of any list the users blocked with the viewer", async () => {
    const [owner, blocked, viewer, other] = await users(4);
    await followOk(blocked!, owner!);
    await followOk(other!, owner!);
    await befriend(blocked!, owner!);
    await befriend(other!, owner!);
    await followOk(owner!, blocked!);
    // The viewer blocks one of owner's connections.
    await expectStatus(await block(viewer!, blocked!), 200);
    expect(await listIds(owner!, 'followers', viewer)).toEqual([other!.id]);
    expect(await listIds(owner!, 'friends', viewer)).toEqual([other!.id]);
    expect(await listIds(owner!, 'following', viewer)).toEqual([]);
    // And the other way round: someone who blocks the viewer is hidden from the viewer too.
    const [viewer2] = await users(1);
    await expectStatus(await block(blocked!, viewer2!), 200);
    expect(await listIds(owner!, 'followers', viewer2)).toEqual([other!.id]);
    // Anyone else still sees everybody.
    expect((await listIds(owner!, 'followers', other)).sort()).toEqual([blocked!.id, other!.id].sort());
    expect((await listIds(owner!, 'followers')).sort()).toEqual([blocked!.id, other!.id].sort());
  });

  it('should not count a hidden connection as a page gap', async () => {
    const [owner, viewer] = await users(2);
    const fans = await users(5);
    for (const fan of fans) await followOk(fan, owner!);
    await expectStatus(await block(viewer!, fans[2]!), 200);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const qs: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
      const page: any = await expectStatus(await call(`/users/${owner!.id}/followers?limit=2${qs}`, { token: viewer!.accessToken }), 200);
      seen.push(...page.data.map((u: { id: string }) => u.id));
      cursor = page.next_cursor;
      pages += 1;
    } while (cursor && pages < 10);
    expect(seen.sort()).toEqual(fans.filter((_, i) => i !== 2).map((f) => f.id).sort());
  });

  it('should refuse to mute across a block (404)', async () => {
    const [a, b] = await users(2);
    await expectStatus(await block(a!, b!), 200);
    await expectProblem(await call(`/users/${a!.id}/mute`, { method: 'POST', token: b!.accessToken }), 404);
  });

  it('should emit no events for attempts across a block', async () => {
    const [a, b] = await users(2);
    await expectStatus(await block(a!, b!), 200);
    const capture = captureEvents(a!.id, b!.id);
    try {
      await expectProblem(await follow(b!, a!), 404);
      await expectProblem(await sendFriendRequest(b!, a!), 404);
      expect(capture.events()).toEqual([]);
    } finally {
      capture.stop();
    }
  });

  it('should keep the block when the blocked side blocks back, and need both unblocks', async () => {
    const [a, b] = await users(2);
    await expectStatus(await block(a!, b!), 200);
    await expectStatus(await block(b!, a!), 200);
    expect((await unblock(a!, b!)).status).toBe(204);
    await expectProblem(await call(`/users/${b!.id}`, { token: a!.accessToken }), 404);
    expect((await unblock(b!, a!)).status).toBe(204);
    await expectStatus(await call(`/users/${b!.id}`, { token: a!.accessToken }), 200);
    await followOk(a!, b!);
  });
});

describe('Data exposure', () => {
  it('should never expose email or private fields in graph responses', async () => {
    const [a, b, c] = await users(3);
    await call('/me', { method: 'PATCH', token: a!.accessToken, body: { birthdate: '1991-02-03', gender: 'female' } });
    await makePrivate(c!);
    const bodies: string[] = [];
    const keep = async (res: Response) => {
      const text = await res.text();
      expect(res.status, text).toBeLessThan(300);
      bodies.push(text);
    };
    await keep(await follow(a!, b!));
    await keep(await follow(a!, c!));
    await keep(await call('/follow_requests', { token: c!.accessToken }));
    await keep(await listOf(b!, 'followers'));
    await keep(await listOf(a!, 'following', b));
    const r = await sendFriendRequest(a!, b!);
    const rText = await r.text();
    bodies.push(rText);
    await keep(await call('/friends/requests', { token: b!.accessToken }));
    await keep(await answer(b!, JSON.parse(rText).id, 'accept'));
    await keep(await listOf(b!, 'friends'));
    await keep(await call(`/users/${a!.id}/mute`, { method: 'POST', token: c!.accessToken }));
    await keep(await call('/me/mutes', { token: c!.accessToken }));
    await keep(await block(c!, a!));
    await keep(await call('/me/blocks', { token: c!.accessToken }));
    for (const text of bodies) {
      expect(text).not.toContain(a!.email);
      expect(text).not.toContain(b!.email);
      expect(text).not.toContain(c!.email);
      expect(text).not.toContain('1991-02-03');
      expect(text).not.toMatch(/"(email|birthdate|gender|visibility|password_hash|wall_policy)"/);
    }
  });
});
