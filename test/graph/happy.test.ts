import { describe, expect, it } from 'vitest';
import { env } from 'cloudflare:workers';
import { call, createUser, expectProblem, expectStatus, walkPages } from '../helpers/client';
import {
  answer,
  befriend,
  block,
  captureEvents,
  counts,
  follow,
  followOk,
  friendRequests,
  ISO,
  listIds,
  listOf,
  makePrivate,
  makePublic,
  PUBLIC_USER_KEYS,
  relationship,
  requestFriend,
  sendFriendRequest,
  unblock,
  unfollow,
  users,
} from './helpers';

const ZERO = { posts: 0, followers: 0, following: 0, friends: 0 };

describe('Follow a public account', () => {
  it('should follow at once and answer {following:true, requested:false}', async () => {
    const [a, b] = await users(2);
    expect(await followOk(a!, b!)).toEqual({ following: true, requested: false });
  });

  it('should be idempotent and count the follow once on both profiles', async () => {
    const [a, b] = await users(2);
    await followOk(a!, b!);
    expect(await followOk(a!, b!)).toEqual({ following: true, requested: false });
    expect(await counts(a!)).toEqual({ ...ZERO, following: 1 });
    expect(await counts(b!)).toEqual({ ...ZERO, followers: 1 });
    const me = await expectStatus(await call('/me', { token: a!.accessToken }), 200);
    expect(me.counts.following).toBe(1);
  });

  it('should show following / followed_by in the relationship of both sides', async () => {
    const [a, b] = await users(2);
    await followOk(a!, b!);
    expect(await relationship(a!, b!)).toMatchObject({ following: true, followed_by: false, follow_requested: false, friend: false, blocking: false, muting: false });
    expect(await relationship(b!, a!)).toMatchObject({ following: false, followed_by: true, follow_requested: false });
  });

  it('should unfollow, idempotently, and bring the counts back to zero', async () => {
    const [a, b] = await users(2);
    await followOk(a!, b!);
    expect(await expectStatus(await unfollow(a!, b!), 200)).toEqual({ following: false, requested: false });
    expect(await expectStatus(await unfollow(a!, b!), 200)).toEqual({ following: false, requested: false });
    expect(await counts(a!)).toEqual(ZERO);
    expect(await counts(b!)).toEqual(ZERO);
    expect(await relationship(a!, b!)).toMatchObject({ following: false, followed_by: false });
    expect(await listIds(b!, 'followers')).toEqual([]);
  });

  it('should unfollow a user one never followed without touching counts', async () => {
    const [a, b, c] = await users(3);
    await followOk(c!, b!);
    expect(await expectStatus(await unfollow(a!, b!), 200)).toEqual({ following: false, requested: false });
    expect(await counts(b!)).toEqual({ ...ZERO, followers: 1 });
  });

  it('should list followers and following as public users, newest first, never with email', async () => {
    const [a, b, c] = await users(3);
    await followOk(a!, c!);
    await followOk(b!, c!);
    await followOk(c!, a!);
    const res = await listOf(c!, 'followers');
    const text = await res.clone().text();
    const page = await expectStatus(res, 200);
    expect(page.next_cursor).toBeNull();
    expect(page.data.map((u: { id: string }) => u.id).sort()).toEqual([a!.id, b!.id].sort());
    for (const user of page.data) expect(Object.keys(user).sort()).toEqual(PUBLIC_USER_KEYS);
    expect(page.data.find((u: { id: string }) => u.id === a!.id)).toMatchObject({ username: a!.username, display_name: expect.any(String), avatar_url: null });
    for (const u of [a!, b!, c!]) expect(text).not.toContain(u.email);
    expect(await listIds(c!, 'following')).toEqual([a!.id]);
    expect(await listIds(a!, 'following')).toEqual([c!.id]);
    expect(await listIds(a!, 'followers')).toEqual([c!.id]);
    expect(await listIds(b!, 'followers')).toEqual([]);
  });

  it('should resolve the list owner by username too', async () => {
    const [a, b] = await users(2);
    await followOk(a!, b!);
    const page = await expectStatus(await call(`/users/${b!.username}/followers`), 200);
    expect(page.data.map((u: { id: string }) => u.id)).toEqual([a!.id]);
  });

  it('should walk the followers list page by page without duplicates or gaps', async () => {
    const target = await createUser();
    const fans = await users(7);
    for (const fan of fans) await followOk(fan, target);
    const { items, pages } = await walkPages(`/users/${target.id}/followers`, undefined, 3);
    expect(pages).toBe(3);
    const ids = items.map((u) => u.id);
    expect(new Set(ids).size).toBe(7);
    expect(ids.sort()).toEqual(fans.map((f) => f.id).sort());
    expect((await counts(target)).followers).toBe(7);
  });

  it('should walk the following list page by page and end with next_cursor null', async () => {
    const fan = await createUser();
    const stars = await users(5);
    for (const star of stars) await followOk(fan, star);
    const { items, pages } = await walkPages(`/users/${fan.id}/following`, fan.accessToken, 2);
    expect(pages).toBe(3);
    expect(items.map((u) => u.id).sort()).toEqual(stars.map((s) => s.id).sort());
    // Exactly one full page: next_cursor is already null (no empty trailing page).
    const exact = await walkPages(`/users/${fan.id}/following`, undefined, 5);
    expect(exact.items).toHaveLength(5);
    expect(exact.pages).toBe(1);
  });

  it('should use the default limit of 20 and accept limit=100', async () => {
    const [a, b] = await users(2);
    await followOk(a!, b!);
    const page = await expectStatus(await listOf(b!, 'followers', undefined, '?limit=100'), 200);
    expect(page).toEqual({ data: [expect.objectContaining({ id: a!.id })], next_cursor: null });
    const defaults = await expectStatus(await listOf(b!, 'followers'), 200);
    expect(defaults.data).toHaveLength(1);
  });
});

describe('Follow a private account', () => {
  it('should file a request instead of following', async () => {
    const [a, b] = await users(2);
    await makePrivate(b!);
    expect(await followOk(a!, b!)).toEqual({ following: false, requested: true });
    expect(await followOk(a!, b!)).toEqual({ following: false, requested: true });
    expect(await relationship(a!, b!)).toMatchObject({ following: false, follow_requested: true });
    expect(await relationship(b!, a!)).toMatchObject({ followed_by: false });
    expect(await counts(b!)).toEqual(ZERO);
    expect(await counts(a!)).toEqual(ZERO);
  });

  it('should list pending requests as {user, created_at}', async () => {
    const [a, b, c] = await users(3);
    await makePrivate(c!);
    await followOk(a!, c!);
    await followOk(b!, c!);
    const page = await expectStatus(await call('/follow_requests', { token: c!.accessToken }), 200);
    expect(page.next_cursor).toBeNull();
    expect(page.data).toHaveLength(2);
    for (const edge of page.data) {
      expect(Object.keys(edge).sort()).toEqual(['created_at', 'user']);
      expect(edge.created_at).toMatch(ISO);
      expect(Object.keys(edge.user).sort()).toEqual(PUBLIC_USER_KEYS);
    }
    expect(page.data.map((e: any) => e.user.id).sort()).toEqual([a!.id, b!.id].sort());
    // The requester sees nothing in their own inbox.
    expect((await expectStatus(await call('/follow_requests', { token: a!.accessToken }), 200)).data).toEqual([]);
  });

  it('should paginate follow requests', async () => {
    const owner = await createUser();
    await makePrivate(owner);
    const fans = await users(5);
    for (const fan of fans) await followOk(fan, owner);
    const { items, pages } = await walkPages('/follow_requests', owner.accessToken, 2);
    expect(pages).toBe(3);
    expect(items.map((e) => e.user.id).sort()).toEqual(fans.map((f) => f.id).sort());
  });

  it('should accept a request: the requester follows and counts go up', async () => {
    const [a, b] = await users(2);
    await makePrivate(b!);
    await followOk(a!, b!);
    expect(await expectStatus(await call(`/follow_requests/${a!.id}/accept`, { method: 'POST', token: b!.accessToken }), 200)).toEqual({ following: true });
    expect(await counts(b!)).toEqual({ ...ZERO, followers: 1 });
    expect(await counts(a!)).toEqual({ ...ZERO, following: 1 });
    expect(await relationship(a!, b!)).toMatchObject({ following: true, follow_requested: false });
    expect((await expectStatus(await call('/follow_requests', { token: b!.accessToken }), 200)).data).toEqual([]);
    expect(await listIds(b!, 'followers', b!)).toEqual([a!.id]);
    // Following again stays a plain follow.
    expect(await followOk(a!, b!)).toEqual({ following: true, requested: false });
  });

  it('should reject a request: no follow, request gone, counts untouched', async () => {
    const [a, b] = await users(2);
    await makePrivate(b!);
    await followOk(a!, b!);
    expect(await expectStatus(await call(`/follow_requests/${a!.id}/reject`, { method: 'POST', token: b!.accessToken }), 200)).toEqual({ following: false });
    expect((await expectStatus(await call('/follow_requests', { token: b!.accessToken }), 200)).data).toEqual([]);
    expect(await relationship(a!, b!)).toMatchObject({ following: false, follow_requested: false });
    expect(await counts(b!)).toEqual(ZERO);
    // Rejecting it again finds nothing.
    await expectProblem(await call(`/follow_requests/${a!.id}/reject`, { method: 'POST', token: b!.accessToken }), 404);
  });

  it('should let the requester withdraw a pending request with DELETE', async () => {
    const [a, b] = await users(2);
    await makePrivate(b!);
    await followOk(a!, b!);
    expect(await expectStatus(await unfollow(a!, b!), 200)).toEqual({ following: false, requested: false });
    expect((await expectStatus(await call('/follow_requests', { token: b!.accessToken }), 200)).data).toEqual([]);
    expect(await counts(b!)).toEqual(ZERO);
  });

  it('should keep existing followers when going private', async () => {
    const [a, b] = await users(2);
    await followOk(a!, b!);
    await makePrivate(b!);
    expect(await relationship(a!, b!)).toMatchObject({ following: true });
    expect(await counts(b!)).toEqual({ ...ZERO, followers: 1 });
  });

  it('should accept every pending request when the account goes public again', async () => {
    const [a, b, owner] = await users(3);
    await makePrivate(owner!);
    await followOk(a!, owner!);
    await followOk(b!, owner!);
    expect(await counts(owner!)).toEqual(ZERO);
    await makePublic(owner!);
    expect((await expectStatus(await call('/follow_requests', { token: owner!.accessToken }), 200)).data).toEqual([]);
    expect(await counts(owner!)).toEqual({ ...ZERO, followers: 2 });
    expect(await counts(a!)).toEqual({ ...ZERO, following: 1 });
    expect((await listIds(owner!, 'followers')).sort()).toEqual([a!.id, b!.id].sort());
    expect(await relationship(a!, owner!)).toMatchObject({ following: true, follow_requested: false });
  });

  it("should show a private account's lists to itself, approved followers and friends", async () => {
    const [owner, follower, friend, pending, other] = await users(5);
    await followOk(other!, owner!);
    await makePrivate(owner!);
    await followOk(follower!, owner!);
    await expectStatus(await call(`/follow_requests/${follower!.id}/accept`, { method: 'POST', token: owner!.accessToken }), 200);
    await befriend(friend!, owner!);
    await followOk(pending!, owner!);
    for (const viewer of [owner!, follower!, friend!]) {
      expect((await listIds(owner!, 'followers', viewer)).sort()).toEqual([other!.id, follower!.id].sort());
      expect(await listIds(owner!, 'following', viewer)).toEqual([]);
      expect(await listIds(owner!, 'friends', viewer)).toEqual([friend!.id]);
    }
  });
});

describe('Friend requests', () => {
  it('should create a pending request (201) with public users on both ends', async () => {
    const [a, b] = await users(2);
    const res = await sendFriendRequest(a!, b!);
    const text = await res.clone().text();
    const request = await expectStatus(res, 201);
    expect(request).toEqual({
      id: expect.stringMatching(/^[0-9A-HJKMNP-TV-Z]{26}$/),
      from_user: expect.objectContaining({ id: a!.id, username: a!.username }),
      to_user: expect.objectContaining({ id: b!.id, username: b!.username }),
      status: 'pending',
      created_at: expect.stringMatching(ISO),
      responded_at: null,
    });
    expect(Object.keys(request.from_user).sort()).toEqual(PUBLIC_USER_KEYS);
    expect(Object.keys(request.to_user).sort()).toEqual(PUBLIC_USER_KEYS);
    expect(text).not.toContain(a!.email);
    expect(text).not.toContain(b!.email);
    expect(await relationship(a!, b!)).toMatchObject({ friend: false, friend_request: 'outgoing' });
    expect(await relationship(b!, a!)).toMatchObject({ friend: false, friend_request: 'incoming' });
  });

  it('should list incoming by default, and outgoing on request', async () => {
    const [a, b, c] = await users(3);
    const r1 = await requestFriend(a!, c!);
    const r2 = await requestFriend(b!, c!);
    const incoming = await friendRequests(c!);
    expect(incoming.map((r) => r.id).sort()).toEqual([r1.id, r2.id].sort());
    for (const r of incoming) expect(r).toMatchObject({ status: 'pending', to_user: { id: c!.id } });
    expect(await friendRequests(c!, 'incoming')).toEqual(incoming);
    expect(await friendRequests(c!, 'outgoing')).toEqual([]);
    expect((await friendRequests(b!, 'outgoing')).map((r) => r.id)).toEqual([r2.id]);
    expect(await friendRequests(b!, 'incoming')).toEqual([]);
  });

  it('should list outgoing requests newest first and paginate them', async () => {
    const sender = await createUser();
    const targets = await users(5);
    const sent: string[] = [];
    for (const t of targets) sent.push((await requestFriend(sender, t)).id);
    // The default direction is incoming: the sender has none.
    const { items: none } = await walkPages('/friends/requests', sender.accessToken, 2);
    expect(none).toEqual([]);
    const all: any[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const qs: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
      const page: any = await expectStatus(await call(`/friends/requests?direction=outgoing&limit=2${qs}`, { token: sender.accessToken }), 200);
      pages += 1;
      all.push(...page.data);
      cursor = page.next_cursor;
    } while (cursor && pages < 10);
    expect(pages).toBe(3);
    expect(all.map((r) => r.id).sort()).toEqual([...sent].sort());
    const times = all.map((r) => r.created_at);
    expect([...times].sort().reverse()).toEqual(times);
    for (const r of all) expect(r).toMatchObject({ status: 'pending', from_user: { id: sender.id } });
  });

  it('should accept a request: 200 accepted, friends both ways, counts 1 each', async () => {
    const [a, b] = await users(2);
    const request = await requestFriend(a!, b!);
    const accepted = await expectStatus(await answer(b!, request.id, 'accept'), 200);
    expect(accepted).toMatchObject({ id: request.id, status: 'accepted', from_user: { id: a!.id }, to_user: { id: b!.id }, responded_at: expect.stringMatching(ISO) });
    expect((await counts(a!)).friends).toBe(1);
    expect((await counts(b!)).friends).toBe(1);
    expect(await relationship(a!, b!)).toMatchObject({ friend: true, friend_request: null });
    expect(await relationship(b!, a!)).toMatchObject({ friend: true, friend_request: null });
    expect(await listIds(a!, 'friends')).toEqual([b!.id]);
    expect(await listIds(b!, 'friends')).toEqual([a!.id]);
    expect(await friendRequests(b!)).toEqual([]);
    expect(await friendRequests(a!, 'outgoing')).toEqual([]);
    // Friendship is not following.
    expect(await counts(a!)).toEqual({ ...ZERO, friends: 1 });
  });

  it('should decline a request: 200 declined, no friendship, and allow asking again 30 days later', async () => {
    const [a, b] = await users(2);
    const request = await requestFriend(a!, b!);
    const declined = await expectStatus(await answer(b!, request.id, 'decline'), 200);
    expect(declined).toMatchObject({ id: request.id, status: 'declined', responded_at: expect.stringMatching(ISO) });
    expect(await counts(a!)).toEqual(ZERO);
    expect(await relationship(a!, b!)).toMatchObject({ friend: false, friend_request: null });
    expect(await friendRequests(b!)).toEqual([]);
    await expectProblem(await answer(b!, request.id, 'accept'), 404);
    await expectProblem(await sendFriendRequest(a!, b!), 409, 'user_id');
    await env.DB.prepare('UPDATE friend_requests SET responded_at = responded_at - ?2 WHERE id = ?1').bind(request.id, 30 * 24 * 3600 * 1000).run();
    const again = await requestFriend(a!, b!);
    expect(again.id).not.toBe(request.id);
  });

  it('should accept a crossing request instead of creating a second one (200 accepted)', async () => {
    const [a, b] = await users(2);
    const first = await requestFriend(b!, a!);
    const crossing = await expectStatus(await sendFriendRequest(a!, b!), 200);
    expect(crossing).toMatchObject({ id: first.id, status: 'accepted', from_user: { id: b!.id }, to_user: { id: a!.id } });
    expect((await counts(a!)).friends).toBe(1);
    expect((await counts(b!)).friends).toBe(1);
    for (const u of [a!, b!]) {
      expect(await friendRequests(u, 'incoming')).toEqual([]);
      expect(await friendRequests(u, 'outgoing')).toEqual([]);
    }
    expect(await relationship(a!, b!)).toMatchObject({ friend: true, friend_request: null });
  });

  it('should end concurrent crossing requests with exactly one friendship and nothing pending', async () => {
    for (let round = 0; round < 3; round++) {
      const [a, b] = await users(2);
      const [r1, r2] = await Promise.all([sendFriendRequest(a!, b!), sendFriendRequest(b!, a!)]);
      const statuses = [r1.status, r2.status].sort();
      const bodies = [await r1.json<any>(), await r2.json<any>()];
      expect(statuses, JSON.stringify(bodies)).toEqual([200, 201]);
      const created = bodies.find((b) => b.status === 'pending' || b.status === 'accepted');
      expect(created).toBeDefined();
      expect(bodies.some((body) => body.status === 'accepted')).toBe(true);
      expect((await counts(a!)).friends).toBe(1);
      expect((await counts(b!)).friends).toBe(1);
      expect(await listIds(a!, 'friends')).toEqual([b!.id]);
      expect(await listIds(b!, 'friends')).toEqual([a!.id]);
      for (const u of [a!, b!]) {
        expect(await friendRequests(u, 'incoming')).toEqual([]);
        expect(await friendRequests(u, 'outgoing')).toEqual([]);
      }
    }
  });

  it('should let the sender cancel (204); the request disappears and cannot be accepted', async () => {
    const [a, b] = await users(2);
    const request = await requestFriend(a!, b!);
    const res = await call(`/friends/requests/${request.id}`, { method: 'DELETE', token: a!.accessToken });
    expect(res.status).toBe(204);
    expect(await res.text()).toBe('');
    expect(await friendRequests(b!)).toEqual([]);
    expect(await friendRequests(a!, 'outgoing')).toEqual([]);
    await expectProblem(await answer(b!, request.id, 'accept'), 404);
    await expectProblem(await answer(b!, request.id, 'decline'), 404);
    expect(await counts(b!)).toEqual(ZERO);
    // A cancelled request can be replaced by a new one.
    await requestFriend(a!, b!);
  });

  it('should unfriend (204) in both directions, idempotently, with counts back to 0', async () => {
    const [a, b] = await users(2);
    await befriend(a!, b!);
    const res = await call(`/friends/${b!.id}`, { method: 'DELETE', token: a!.accessToken });
    expect(res.status).toBe(204);
    expect(await counts(a!)).toEqual(ZERO);
    expect(await counts(b!)).toEqual(ZERO);
    expect(await listIds(a!, 'friends')).toEqual([]);
    expect(await listIds(b!, 'friends')).toEqual([]);
    expect(await relationship(b!, a!)).toMatchObject({ friend: false });
    expect((await call(`/friends/${b!.id}`, { method: 'DELETE', token: a!.accessToken })).status).toBe(204);
    expect((await call(`/friends/${a!.id}`, { method: 'DELETE', token: b!.accessToken })).status).toBe(204);
    expect(await counts(a!)).toEqual(ZERO);
    expect(await counts(b!)).toEqual(ZERO);
    // They can become friends again.
    await befriend(b!, a!);
    expect((await counts(a!)).friends).toBe(1);
  });

  it('should paginate a friends list', async () => {
    const hub = await createUser();
    const pals = await users(5);
    for (const pal of pals) await befriend(pal, hub);
    const { items, pages } = await walkPages(`/users/${hub.id}/friends`, undefined, 2);
    expect(pages).toBe(3);
    expect(items.map((u) => u.id).sort()).toEqual(pals.map((p) => p.id).sort());
    expect((await counts(hub)).friends).toBe(5);
  });
});

describe('Blocks', () => {
  it('should block (200 {blocking:true, user}) and list the block under /me/blocks', async () => {
    const [a, b] = await users(2);
    const res = await block(a!, b!);
    const body = await expectStatus(res, 200);
    expect(body).toEqual({ blocking: true, user: expect.objectContaining({ id: b!.id, username: b!.username }) });
    expect(Object.keys(body.user).sort()).toEqual(PUBLIC_USER_KEYS);
    // Idempotent.
    expect(await expectStatus(await block(a!, b!), 200)).toMatchObject({ blocking: true });
    const page = await expectStatus(await call('/me/blocks', { token: a!.accessToken }), 200);
    expect(page).toEqual({ data: [{ user: expect.objectContaining({ id: b!.id }), created_at: expect.stringMatching(ISO) }], next_cursor: null });
    expect((await expectStatus(await call('/me/blocks', { token: b!.accessToken }), 200)).data).toEqual([]);
  });

  it('should remove follows both ways, the friendship and pending friend requests in one go', async () => {
    const [a, b, c] = await users(3);
    await followOk(a!, b!);
    await followOk(b!, a!);
    await befriend(a!, b!);
    await followOk(c!, a!);
    await befriend(c!, b!);
    expect(await counts(a!)).toEqual({ ...ZERO, followers: 2, following: 1, friends: 1 });
    expect(await counts(b!)).toEqual({ ...ZERO, followers: 1, following: 1, friends: 2 });

    await expectStatus(await block(a!, b!), 200);

    expect(await counts(a!)).toEqual({ ...ZERO, followers: 1 });
    expect(await counts(b!)).toEqual({ ...ZERO, friends: 1 });
    expect(await listIds(a!, 'followers', c!)).toEqual([c!.id]);
    expect(await listIds(a!, 'following', c!)).toEqual([]);
    expect(await listIds(a!, 'friends', c!)).toEqual([]);
    expect(await listIds(b!, 'followers', c!)).toEqual([]);
    expect(await listIds(b!, 'friends', c!)).toEqual([c!.id]);
  });

  it('should cancel pending friend requests in both directions', async () => {
    const [a, b, c] = await users(3);
    await requestFriend(a!, b!);
    await makePrivate(b!);
    await followOk(a!, b!);
    await requestFriend(c!, a!);
    await expectStatus(await block(b!, a!), 200);
    expect(await friendRequests(b!, 'incoming')).toEqual([]);
    expect(await friendRequests(a!, 'outgoing')).toEqual([]);
    // The follow request is gone too.
    expect((await expectStatus(await call('/follow_requests', { token: b!.accessToken }), 200)).data).toEqual([]);
    // Unrelated requests survive.
    expect((await friendRequests(a!, 'incoming')).map((r) => r.from_user.id)).toEqual([c!.id]);

    const [d, e] = await users(2);
    await requestFriend(e!, d!);
    await expectStatus(await block(d!, e!), 200);
    expect(await friendRequests(d!, 'incoming')).toEqual([]);
    expect(await friendRequests(e!, 'outgoing')).toEqual([]);
  });

  it('should unblock (204): the profile is visible again, follows and friendship are not restored', async () => {
    const [a, b] = await users(2);
    await befriend(a!, b!);
    await followOk(b!, a!);
    await expectStatus(await block(a!, b!), 200);
    await expectProblem(await call(`/users/${a!.id}`, { token: b!.accessToken }), 404);
    const res = await unblock(a!, b!);
    expect(res.status).toBe(204);
    expect((await unblock(a!, b!)).status).toBe(204);
    expect(await relationship(a!, b!)).toMatchObject({ following: false, followed_by: false, friend: false, blocking: false });
    expect(await relationship(b!, a!)).toMatchObject({ following: false, friend: false, blocking: false });
    expect(await counts(a!)).toEqual(ZERO);
    expect((await expectStatus(await call('/me/blocks', { token: a!.accessToken }), 200)).data).toEqual([]);
    // They may follow each other again.
    expect(await followOk(b!, a!)).toEqual({ following: true, requested: false });
  });

  it('should show blocking:true in the relationship while the block stands (to the blocker)', async () => {
    const [a, b, c] = await users(3);
    await expectStatus(await block(a!, b!), 200);
    // The blocker cannot read the profile either, so check via the list and a third party's view instead.
    await expectProblem(await call(`/users/${b!.id}`, { token: a!.accessToken }), 404);
    expect(await relationship(c!, b!)).toMatchObject({ blocking: false });
    expect((await expectStatus(await call('/me/blocks', { token: a!.accessToken }), 200)).data.map((e: any) => e.user.id)).toEqual([b!.id]);
  });

  it('should paginate /me/blocks', async () => {
    const blocker = await createUser();
    const targets = await users(5);
    for (const t of targets) await expectStatus(await block(blocker, t), 200);
    const { items, pages } = await walkPages('/me/blocks', blocker.accessToken, 2);
    expect(pages).toBe(3);
    expect(items.map((e) => e.user.id).sort()).toEqual(targets.map((t) => t.id).sort());
  });
});

describe('Mutes', () => {
  it('should mute (200 {muting:true, user}), show it in relationship and /me/mutes, and unmute (204)', async () => {
    const [a, b] = await users(2);
    await followOk(a!, b!);
    const muted = await expectStatus(await call(`/users/${b!.id}/mute`, { method: 'POST', token: a!.accessToken }), 200);
    expect(muted).toEqual({ muting: true, user: expect.objectContaining({ id: b!.id }) });
    expect(Object.keys(muted.user).sort()).toEqual(PUBLIC_USER_KEYS);
    expect(await expectStatus(await call(`/users/${b!.id}/mute`, { method: 'POST', token: a!.accessToken }), 200)).toMatchObject({ muting: true });
    expect(await relationship(a!, b!)).toMatchObject({ muting: true, following: true });
    // Muting is silent: the muted side sees nothing.
    expect(await relationship(b!, a!)).toMatchObject({ muting: false });
    const page = await expectStatus(await call('/me/mutes', { token: a!.accessToken }), 200);
    expect(page).toEqual({ data: [{ user: expect.objectContaining({ id: b!.id }), created_at: expect.stringMatching(ISO) }], next_cursor: null });
    // Muting does not touch the follow.
    expect((await counts(b!)).followers).toBe(1);

    const res = await call(`/users/${b!.id}/mute`, { method: 'DELETE', token: a!.accessToken });
    expect(res.status).toBe(204);
    expect((await call(`/users/${b!.id}/mute`, { method: 'DELETE', token: a!.accessToken })).status).toBe(204);
    expect(await relationship(a!, b!)).toMatchObject({ muting: false });
    expect((await expectStatus(await call('/me/mutes', { token: a!.accessToken }), 200)).data).toEqual([]);
  });

  it('should paginate /me/mutes', async () => {
    const muter = await createUser();
    const targets = await users(3);
    for (const t of targets) await expectStatus(await call(`/users/${t.id}/mute`, { method: 'POST', token: muter.accessToken }), 200);
    const { items, pages } = await walkPages('/me/mutes', muter.accessToken, 2);
    expect(pages).toBe(2);
    expect(items.map((e) => e.user.id).sort()).toEqual(targets.map((t) => t.id).sort());
  });
});

describe('Social events', () => {
  it('should emit exactly one new_follower when following a public account', async () => {
    const [a, b] = await users(2);
    const capture = captureEvents(a!.id, b!.id);
    try {
      await followOk(a!, b!);
      await followOk(a!, b!);
      expect(capture.events()).toEqual([{ type: 'new_follower', actorId: a!.id, recipientId: b!.id }]);
    } finally {
      capture.stop();
    }
  });

  it('should emit follow_request for a private account, and new_follower on accept', async () => {
    const [a, b] = await users(2);
    await makePrivate(b!);
    const capture = captureEvents(a!.id, b!.id);
    try {
      await followOk(a!, b!);
      expect(capture.events()).toEqual([{ type: 'follow_request', actorId: a!.id, recipientId: b!.id }]);
      await expectStatus(await call(`/follow_requests/${a!.id}/accept`, { method: 'POST', token: b!.accessToken }), 200);
      expect(capture.events()).toEqual([
        { type: 'follow_request', actorId: a!.id, recipientId: b!.id },
        { type: 'new_follower', actorId: a!.id, recipientId: b!.id },
      ]);
    } finally {
      capture.stop();
    }
  });

  it('should emit nothing on unfollow, reject, mute or block', async () => {
    const [a, b, c] = await users(3);
    await makePrivate(c!);
    await followOk(a!, b!);
    await followOk(a!, c!);
    const capture = captureEvents(a!.id, b!.id, c!.id);
    try {
      await expectStatus(await unfollow(a!, b!), 200);
      await expectStatus(await call(`/follow_requests/${a!.id}/reject`, { method: 'POST', token: c!.accessToken }), 200);
      await expectStatus(await call(`/users/${b!.id}/mute`, { method: 'POST', token: a!.accessToken }), 200);
      await expectStatus(await block(b!, a!), 200);
      expect(capture.events()).toEqual([]);
    } finally {
      capture.stop();
    }
  });

  it('should emit friend_request with the request id, and friend_accepted to the requester', async () => {
    const [a, b] = await users(2);
    const capture = captureEvents(a!.id, b!.id);
    try {
      const request = await requestFriend(a!, b!);
      expect(capture.events()).toEqual([{ type: 'friend_request', actorId: a!.id, recipientId: b!.id, requestId: request.id }]);
      await expectStatus(await answer(b!, request.id, 'accept'), 200);
      expect(capture.events()[1]).toEqual({ type: 'friend_accepted', actorId: b!.id, recipientId: a!.id });
      expect(capture.events()).toHaveLength(2);
    } finally {
      capture.stop();
    }
  });

  it('should emit friend_accepted (and no friend_request) for a crossing request', async () => {
    const [a, b] = await users(2);
    const first = await requestFriend(b!, a!);
    const capture = captureEvents(a!.id, b!.id);
    try {
      const crossing = await expectStatus(await sendFriendRequest(a!, b!), 200);
      expect(crossing.id).toBe(first.id);
      expect(capture.events()).toEqual([{ type: 'friend_accepted', actorId: a!.id, recipientId: b!.id }]);
    } finally {
      capture.stop();
    }
  });

  it('should emit nothing on decline, cancel or unfriend', async () => {
    const [a, b, c] = await users(3);
    const r1 = await requestFriend(a!, b!);
    const r2 = await requestFriend(a!, c!);
    await befriend(b!, c!);
    const capture = captureEvents(a!.id, b!.id, c!.id);
    try {
      await expectStatus(await answer(b!, r1.id, 'decline'), 200);
      expect((await call(`/friends/requests/${r2.id}`, { method: 'DELETE', token: a!.accessToken })).status).toBe(204);
      expect((await call(`/friends/${c!.id}`, { method: 'DELETE', token: b!.accessToken })).status).toBe(204);
      expect(capture.events()).toEqual([]);
    } finally {
      capture.stop();
    }
  });

  it('should never emit for self-actions', async () => {
    const a = await createUser();
    const capture = captureEvents(a.id);
    try {
      await expectProblem(await follow(a, a), 400);
      await expectProblem(await sendFriendRequest(a, a), 400);
      await expectProblem(await block(a, a), 400);
      expect(capture.events()).toEqual([]);
    } finally {
      capture.stop();
    }
  });
});
