import { evictDurableObject, runInDurableObject } from 'cloudflare:test';
import { SignJWT } from 'jose';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { onSocialEvent } from '../../src/modules/notifications/events';
import { INBOX_CAP, INBOX_SCHEMA_VERSION, REPLAY_LIMIT, SOURCE_TTL_MS } from '../../src/modules/notifications/user-inbox';
import { publicUserExample } from '../../src/modules/users/users.schemas';
import { call, createUser, expectProblem, expectStatus, type TestUser } from '../helpers/client';
import { closeAll, settle, TestSocket, waitAll } from '../messaging/socket-helpers';
import {
  connectNotifications,
  eventually,
  FRAME_KEYS,
  inboxRpc,
  inboxStub,
  listNotifications,
  MARKED,
  marked,
  openNotifications,
  sendFriendRequest,
} from './stream-helpers';

const JWT_SECRET = 'test-secret-for-vitest-only-0123456789abcdef';

function decodePayload(token: string): Record<string, any> {
  const part = token.split('.')[1]!;
  const b64 = part.replaceAll('-', '+').replaceAll('_', '/');
  return JSON.parse(atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4)));
}

/** The user's own token re-signed with an expiry in the past (same session, same secret). */
async function expiredTokenFor(user: TestUser): Promise<string> {
  const claims = decodePayload(user.accessToken);
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ sid: claims.sid, typ: 'access' })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer('kith')
    .setAudience('kith-api')
    .setSubject(user.id)
    .setIssuedAt(now - 3600)
    .setExpirationTime(now - 60)
    .sign(new TextEncoder().encode(JWT_SECRET));
}

/** A refused upgrade: 401 problem+json, a Bearer challenge, and no socket. */
async function expectRefused(res: Response, label: string): Promise<any> {
  expect(res.status, label).toBe(401);
  expect(res.webSocket, `${label}: no socket on a refused upgrade`).toBeNull();
  expect(res.headers.get('Upgrade'), label).toBeNull();
  return expectProblem(res, 401);
}

const open: TestSocket[] = [];
async function track(socket: Promise<TestSocket>): Promise<TestSocket> {
  const s = await socket;
  open.push(s);
  return s;
}
afterEach(() => {
  closeAll(...open.splice(0));
  vi.restoreAllMocks();
});

describe('Notification socket authentication', () => {
  it('should refuse a connection without a token with 401 problem+json and no socket', async () => {
    const res = await connectNotifications(null);
    const body = await expectRefused(res, 'no token');
    expect(res.headers.get('WWW-Authenticate') ?? '').toMatch(/^Bearer/);
    expect(body.status).toBe(401);
  });

  it('should refuse garbage, malformed, expired and revoked tokens with 401 before the upgrade', async () => {
    const user = await createUser();
    const expired = await expiredTokenFor(user);
    for (const via of ['header', 'query'] as const) {
      await expectRefused(await connectNotifications('not.a.jwt', { via }), `garbage via ${via}`);
      await expectRefused(await connectNotifications(user.accessToken.slice(0, -4) + 'AAAA', { via }), `bad signature via ${via}`);
      const body = await expectRefused(await connectNotifications(expired, { via }), `expired via ${via}`);
      expect(body.detail).toMatch(/expired/i);
    }
    await expectRefused(await connectNotifications(null, { headers: { Authorization: 'Basic abc' } }), 'Basic scheme');
    // A malformed header is refused even when a valid ?token= is given.
    await expectRefused(await connectNotifications(user.accessToken, { via: 'query', headers: { Authorization: 'Bearer a b' } }), 'malformed header');

    // The token works until the session is logged out, then it is refused on both paths.
    const ok = await track(openNotifications(user));
    expect(ok.closeEvent).toBeNull();
    expect((await call('/auth/logout', { body: { refresh_token: user.refreshToken } })).status).toBe(204);
    await expectRefused(await connectNotifications(user.accessToken), 'revoked via header');
    await expectRefused(await connectNotifications(user.accessToken, { via: 'query' }), 'revoked via query');
  });

  it('should accept the token from the Authorization header and from ?token=', async () => {
    const user = await createUser();
    for (const via of ['header', 'query'] as const) {
      const res = await connectNotifications(user.accessToken, { via });
      expect(res.status, via).toBe(101);
      expect(res.webSocket, via).toBeTruthy();
      const socket = new TestSocket(res.webSocket!, via);
      open.push(socket);
      const pong = await socket.request('{"type":"ping"}', (_f, raw) => raw.includes('pong'), `pong via ${via}`);
      expect(pong.raw).toBe('{"type":"pong"}');
    }
  });

  it('should answer 426 problem+json to a valid token without an Upgrade header', async () => {
    const user = await createUser();
    for (const via of ['header', 'query'] as const) {
      const res = await connectNotifications(user.accessToken, { via, upgrade: false });
      expect(res.webSocket, via).toBeNull();
      const body = await expectProblem(res, 426);
      expect(body.detail).toMatch(/websocket/i);
      expect(res.headers.get('Upgrade')?.toLowerCase()).toBe('websocket');
    }
    // The 401 comes first: no token and no upgrade is still 401, not 426.
    await expectRefused(await connectNotifications(null, { upgrade: false }), 'no token, no upgrade');
  });
});

describe('Notification frames', () => {
  it('should push an event to every open socket of the user, in the exact frame shape, and nowhere else', async () => {
    const bob = await createUser();
    const carol = await createUser();
    const bobSockets = [
      await track(openNotifications(bob, { label: 'bob-1' })),
      await track(openNotifications(bob, { via: 'query', label: 'bob-2' })),
      await track(openNotifications(bob, { label: 'bob-3' })),
    ];
    const carolSocket = await track(openNotifications(carol, { label: 'carol' }));

    const { from: alice, requestId } = await sendFriendRequest(bob);
    await waitAll(bobSockets, (s) => s.received.length >= 1, 'the friend_request frame');
    await settle();

    const frame = bobSockets[0]!.frames[0];
    expect(Object.keys(frame).sort()).toEqual(FRAME_KEYS);
    expect(frame).toMatchObject({ type: 'friend_request', data: { request_id: requestId, from_user: { id: alice.id, username: alice.username } } });
    expect(frame.data.from_user).not.toHaveProperty('email');
    expect(typeof frame.id).toBe('string');
    expect(new Date(frame.created_at).toISOString()).toBe(frame.created_at);
    for (const s of bobSockets) {
      expect(s.received.length, s.label).toBe(1);
      expect(s.received[0]!.raw, s.label).toBe(bobSockets[0]!.received[0]!.raw);
    }
    expect(carolSocket.received, 'another user hears nothing').toEqual([]);

    // The same notification, same id, is in the list.
    const listed = await listNotifications(bob);
    expect(listed).toHaveLength(1);
    expect(listed[0]).toEqual({ id: frame.id, type: frame.type, data: frame.data, read: false, created_at: frame.created_at });
    expect(await listNotifications(carol)).toEqual([]);
  });

  it('should store a notification before pushing it (it is in the list as soon as the frame arrives)', async () => {
    const bob = await createUser();
    const socket = await track(openNotifications(bob));
    for (let i = 1; i <= 3; i += 1) {
      const { requestId } = await sendFriendRequest(bob);
      const received = await socket.next((f) => f?.data?.request_id === requestId, `friend_request #${i}`);
      // No waiting: the list is read right after the frame.
      const listed = await listNotifications(bob);
      expect(listed[0]!.id).toBe(received.data.id);
      expect(listed[0]!.data).toEqual(received.data.data);
      expect(listed).toHaveLength(i);
    }
    // Directly through the inbox: once the frame is out, the row is there too.
    let seenInList: boolean | undefined;
    const direct = new Promise<void>((resolve) => {
      socket.ws.addEventListener('message', (e) => {
        const f = JSON.parse(e.data as string);
        if (f.data?.n !== 'direct') return;
        void inboxRpc(bob.id)
          .list({ unread: false, limit: 1 })
          .then((page) => {
            seenInList = page.data[0]?.id === f.id;
            resolve();
          });
      });
    });
    await inboxRpc(bob.id).deliver(marked('direct'));
    await direct;
    expect(seenInList).toBe(true);
  });

  it('should send a grouped like as an update of the same notification with data.count 2', async () => {
    const bob = await createUser();
    const [alice, carol] = [await createUser(), await createUser()];
    const post = await expectStatus(await call('/posts', { body: { content: 'like me'}, token: bob.accessToken }), 201);
    const sockets = [await track(openNotifications(bob, { label: 'bob-1' })), await track(openNotifications(bob, { label: 'bob-2' }))];

    await expectStatus(await call(`/posts/${post.id}/like`, { method: 'POST', token: alice.accessToken }), 200);
    await waitAll(sockets, (s) => s.ofType('post_like').length >= 1, 'the first like');
    await expectStatus(await call(`/posts/${post.id}/like`, { method: 'POST', token: carol.accessToken }), 200);
    await waitAll(sockets, (s) => s.ofType('post_like').length >= 2, 'the grouped like');
    await settle();

    for (const s of sockets) {
      const [first, second] = s.ofType('post_like');
      expect(s.ofType('post_like'), s.label).toHaveLength(2);
      expect(first.data).toMatchObject({ post_id: post.id, count: 1 });
      expect(second.id, 'same notification').toBe(first.id);
      expect(Object.keys(second).sort()).toEqual(FRAME_KEYS);
      expect(second.data).toMatchObject({ post_id: post.id, count: 2 });
      expect(second.data.actors.map((u: any) => u.id)).toEqual([carol.id, alice.id]);
    }
    const likes = (await listNotifications(bob)).filter((n) => n.type === 'post_like');
    expect(likes).toHaveLength(1);
    expect(likes[0]!.id).toBe(sockets[0]!.ofType('post_like')[0].id);
    expect(likes[0]!.data.count).toBe(2);
  });
});

describe('Replay with ?since=', () => {
  it('should replay exactly what came after the given notification, oldest first, then go live', async () => {
    const bob = await createUser();
    const inbox = inboxRpc(bob.id);
    for (let n = 1; n <= 4; n += 1) await inbox.deliver(marked(n));
    const listed = await listNotifications(bob); // newest first: n=4,3,2,1
    expect(listed.map((x) => x.data.n)).toEqual([4, 3, 2, 1]);
    const oldest = listed[3]!;

    const socket = await track(openNotifications(bob, { since: oldest.id, via: 'query' }));
    await socket.waitForFrames(3);
    await settle();
    expect(socket.frames.map((f) => f.data.n)).toEqual([2, 3, 4]);
    expect(socket.frames.map((f) => f.id)).toEqual([listed[2]!.id, listed[1]!.id, listed[0]!.id]);
    for (const [i, f] of socket.frames.entries()) {
      expect(Object.keys(f).sort()).toEqual(FRAME_KEYS);
      expect(f).toEqual({ ...marked(i + 2), id: listed[2 - i]!.id, created_at: listed[2 - i]!.created_at });
    }

    // Then live: a real event arrives after the replay.
    const { requestId } = await sendFriendRequest(bob);
    await socket.waitForFrames(4);
    expect(socket.frames[3]).toMatchObject({ type: 'friend_request', data: { request_id: requestId } });
    await settle();
    expect(socket.received).toHaveLength(4);
  });

  it('should replay nothing when since is the newest notification', async () => {
    const bob = await createUser();
    const inbox = inboxRpc(bob.id);
    for (let n = 1; n <= 3; n += 1) await inbox.deliver(marked(n));
    const newest = (await listNotifications(bob))[0]!;
    expect(newest.data.n).toBe(3);

    const socket = await track(openNotifications(bob, { since: newest.id }));
    // Prove the socket is up and has nothing queued before the pong.
    const pong = await socket.request('{"type":"ping"}', (_f, raw) => raw === '{"type":"pong"}', 'pong');
    expect(socket.received.indexOf(pong)).toBe(0);
    await settle();
    expect(socket.received).toHaveLength(1);

    await inbox.deliver(marked(4));
    await socket.waitForFrames(2);
    expect(socket.frames[1]).toMatchObject(marked(4));
  });

  it('should replay the recent notifications (at most the replay limit, oldest first) when since is unknown', async () => {
    const bob = await createUser();
    const inbox = inboxRpc(bob.id);
    for (let n = 1; n <= 3; n += 1) await inbox.deliver(marked(n));
    const few = await track(openNotifications(bob, { since: '01JC6Z1W3R2J4D5E6F7G8H9J0K' }));
    await few.waitForFrames(3);
    await settle();
    expect(few.frames.map((f) => f.data.n)).toEqual([1, 2, 3]);

    // Past the replay limit: only the newest REPLAY_LIMIT, still oldest first.
    const total = REPLAY_LIMIT + 15;
    for (let start = 4; start <= total; start += 50) {
      await Promise.all(Array.from({ length: Math.min(50, total - start + 1) }, (_, i) => inbox.deliver(marked(start + i))));
    }
    const all = (await inbox.list({ unread: false, limit: total + 10 })).data; // newest first
    expect(all).toHaveLength(total);
    const many = await track(openNotifications(bob, { since: 'pruned-or-never-existed' }));
    await many.waitForFrames(REPLAY_LIMIT);
    await settle();
    expect(many.received).toHaveLength(REPLAY_LIMIT);
    expect(many.frames.map((f) => f.id)).toEqual(all.slice(0, REPLAY_LIMIT).reverse().map((x) => x.id));
  });

  it('should not replay anything without since', async () => {
    const bob = await createUser();
    await inboxRpc(bob.id).deliver(marked(1));
    const socket = await track(openNotifications(bob));
    const pong = await socket.request('{"type":"ping"}', (_f, raw) => raw === '{"type":"pong"}', 'pong');
    expect(socket.received).toEqual([pong]);
  });

  it('should replay a grouped notification that grew after since, once, at its new place', async () => {
    const bob = await createUser();
    const [alice, carol] = [await createUser(), await createUser()];
    const post = await expectStatus(await call('/posts', { body: { content: 'group me'}, token: bob.accessToken }), 201);
    await expectStatus(await call(`/posts/${post.id}/like`, { method: 'POST', token: alice.accessToken }), 200);
    const like = (await eventually(() => listNotifications(bob), (l) => l.some((n) => n.type === 'post_like'), 'the first like'))[0]!;
    await inboxRpc(bob.id).deliver(marked(1));
    const anchor = (await listNotifications(bob))[0]!;
    expect(anchor.type).toBe(MARKED);
    await expectStatus(await call(`/posts/${post.id}/like`, { method: 'POST', token: carol.accessToken }), 200);
    await eventually(() => listNotifications(bob), (l) => l[0]?.type === 'post_like' && l[0].data.count === 2, 'the grouped like on top');

    const socket = await track(openNotifications(bob, { since: anchor.id }));
    await socket.waitForFrames(1);
    await settle();
    expect(socket.received).toHaveLength(1);
    expect(socket.frames[0]).toMatchObject({ id: like.id, type: 'post_like', data: { count: 2 } });
  });

  it('should replay what came after a grouped notification named by since, also when it moved since the client saw it', async () => {
    const bob = await createUser();
    const [alice, carol] = [await createUser(), await createUser()];
    const post = await expectStatus(await call('/posts', { body: { content: 'group me again' }, token: bob.accessToken }), 201);
    await expectStatus(await call(`/posts/${post.id}/like`, { method: 'POST', token: alice.accessToken }), 200);
    // The client's last frame: the like, as it was then (count 1).
    const like = (await eventually(() => listNotifications(bob), (l) => l.some((n) => n.type === 'post_like'), 'the first like'))[0]!;
    // Then, while it is away: another notification, and the like grows (moving above it).
    await inboxRpc(bob.id).deliver(marked('while away'));
    await expectStatus(await call(`/posts/${post.id}/like`, { method: 'POST', token: carol.accessToken }), 200);
    await eventually(() => listNotifications(bob), (l) => l[0]?.id === like.id && l[0].data.count === 2, 'the grouped like on top');

    const socket = await track(openNotifications(bob, { since: like.id }));
    await socket.waitForFrames(2);
    await settle();
    // Nothing skipped: the notification in between, then the like as it is now.
    expect(socket.frames.map((f) => [f.id, f.type])).toEqual([
      [expect.any(String), MARKED],
      [like.id, 'post_like'],
    ]);
    expect(socket.frames[0]!.data.n).toBe('while away');
    expect(socket.frames[1]!.data.count).toBe(2);

    // Named by since after it was removed (both likes taken back): still from its oldest place, the removal last.
    for (const liker of [alice, carol]) await expectStatus(await call(`/posts/${post.id}/like`, { method: 'DELETE', token: liker.accessToken }), 200);
    await eventually(() => listNotifications(bob), (l) => !l.some((n) => n.id === like.id), 'the like retracted');
    const again = await track(openNotifications(bob, { since: like.id }));
    await again.waitForFrames(2);
    await settle();
    expect(again.frames.map((f) => f.type)).toEqual([MARKED, 'notification.removed']);
    expect(again.frames[1]).toEqual({ type: 'notification.removed', id: like.id });
  });

  it('should tell open sockets, and a later replay, that notifications quoting removed content are gone', async () => {
    const bob = await createUser();
    const inbox = inboxRpc(bob.id);
    await inbox.deliver(marked(1));
    const anchor = (await listNotifications(bob))[0]!;
    await inbox.deliver({ type: 'new_post', data: { id: 'post-to-remove', author: publicUserExample, message: 'Ada posted: “soon gone”' } });
    await inbox.deliver(marked(2));
    const quoted = (await listNotifications(bob)).find((n) => n.type === 'new_post')!;
    const socket = await track(openNotifications(bob));
    await socket.request('{"type":"ping"}', (_f, raw) => raw === '{"type":"pong"}', 'pong');

    await inbox.forget({ postId: 'post-to-remove' });
    const removed = await socket.next((f) => f?.type === 'notification.removed', 'the removal frame');
    expect(removed.data).toEqual({ type: 'notification.removed', id: quoted.id });
    expect((await listNotifications(bob)).map((n) => n.type)).toEqual([MARKED, MARKED]);

    const replay = await track(openNotifications(bob, { since: anchor.id }));
    await replay.waitForFrames(2);
    await settle();
    expect(replay.frames.map((f) => f.type)).toEqual([MARKED, 'notification.removed']);
    expect(replay.frames[1]).toEqual({ type: 'notification.removed', id: quoted.id });
    expect(JSON.stringify(replay.frames)).not.toContain('soon gone');
  });
});

describe('Ping and other client frames', () => {
  it('should answer exactly {"type":"ping"} with exactly {"type":"pong"} and anything else with an error frame', async () => {
    const bob = await createUser();
    const socket = await track(openNotifications(bob));
    const pong = await socket.request('{"type":"ping"}', () => true, 'pong');
    expect(pong.raw).toBe('{"type":"pong"}');

    for (const text of ['hello', '{"type": "ping"}', '{"type":"ping"} ', '{"type":"subscribe"}']) {
      const reply = await socket.request(text, () => true, `reply to ${text}`);
      expect(reply.raw, text).not.toBe('{"type":"pong"}');
      expect(reply.data, text).toMatchObject({ type: 'error', status: 400, detail: expect.stringContaining('ping') });
    }
    // The socket is still open and still pongs.
    expect(socket.closeEvent).toBeNull();
    const again = await socket.request('{"type":"ping"}', () => true, 'pong again');
    expect(again.raw).toBe('{"type":"pong"}');
  });
});

describe('Hibernation', () => {
  it('should keep delivering to existing sockets and answering ping after the inbox is evicted', async () => {
    const bob = await createUser();
    const sockets = [await track(openNotifications(bob, { label: 'bob-1' })), await track(openNotifications(bob, { via: 'query', label: 'bob-2' }))];
    const first = await sendFriendRequest(bob);
    await waitAll(sockets, (s) => s.received.length >= 1, 'a frame before eviction');

    const stub = inboxStub(bob.id);
    await runInDurableObject(stub, (inbox) => {
      (inbox as unknown as { marker?: string }).marker = 'before eviction';
    });
    await evictDurableObject(stub);

    // The runtime answers ping without the object.
    for (const s of sockets) {
      const pong = await s.request('{"type":"ping"}', (_f, raw) => raw.includes('pong'), 'pong after eviction');
      expect(pong.raw).toBe('{"type":"pong"}');
    }

    const second = await sendFriendRequest(bob);
    await waitAll(sockets, (s) => s.ofType('friend_request').length >= 2, 'a frame after eviction');
    expect(await runInDurableObject(stub, (inbox) => (inbox as unknown as { marker?: string }).marker), 'a fresh instance').toBeUndefined();
    await settle();
    for (const s of sockets) {
      expect(s.ofType('friend_request').map((f) => f.data.request_id), s.label).toEqual([first.requestId, second.requestId]);
      expect(s.closeEvent, s.label).toBeNull();
    }
    const listed = await listNotifications(bob);
    expect(listed.map((n) => n.id)).toEqual(sockets[0]!.ofType('friend_request').map((f) => f.id).reverse());

    // Evict again and deliver straight through the inbox RPC: still on both sockets.
    await evictDurableObject(stub);
    await inboxRpc(bob.id).deliver(marked(1));
    await waitAll(sockets, (s) => s.ofType(MARKED).length >= 1, 'a direct delivery after the second eviction');
    const other = await sockets[1]!.request('nope', () => true, 'error after eviction');
    expect(other.data).toMatchObject({ type: 'error', status: 400 });
  });
});

describe('Inbox tables', () => {
  const tables = (stub: DurableObjectStub) =>
    runInDurableObject(stub, (_inbox, state) => state.storage.sql.exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").toArray().map((r) => r.name));

  it('should create every table once, then wake at the current version without running the migration again', async () => {
    const bob = await createUser();
    const stub = inboxStub(bob.id);
    await inboxRpc(bob.id).deliver(marked(1));
    const created = await tables(stub);
    for (const name of ['notifications', 'delivered', 'sources', 'flood', 'removed', 'moved', 'push_targets', 'post_impressions', 'impression_keys', 'inbox_meta']) expect(created, name).toContain(name);
    expect(await runInDurableObject(stub, (_i, state) => state.storage.sql.exec('SELECT version FROM inbox_meta').toArray())).toEqual([{ version: INBOX_SCHEMA_VERSION }]);

    // A table dropped behind the inbox's back stays dropped on the next wake: the version says it is done.
    await runInDurableObject(stub, (_i, state) => state.storage.sql.exec('DROP TABLE flood'));
    await evictDurableObject(stub);
    await inboxRpc(bob.id).deliver(marked(2));
    expect(await tables(stub)).not.toContain('flood');
  });

  it('should keep no row per notification of a source without a quiet window (comments, likes), only its retraction', async () => {
    const bob = await createUser();
    const stub = inboxStub(bob.id);
    const inbox = inboxRpc(bob.id);
    for (const n of [1, 2, 3]) {
      await inbox.deliver({ type: 'post_comment', data: { post_id: 'p', comment_id: `c${n}`, user: publicUserExample }, source: `comment:c${n}` });
    }
    await inbox.deliver({ type: 'post_like', data: { post_id: 'p', user: publicUserExample }, groupKey: 'post_like:p', actor: publicUserExample, source: `post_like:p:${publicUserExample.id}` });
    const sources = () => runInDurableObject(stub, (_i, state) => state.storage.sql.exec<{ key: string }>('SELECT key FROM sources ORDER BY key').toArray().map((r) => r.key));
    expect(await sources()).toEqual([]);
    await inbox.forget({ commentIds: ['c2'], at: Date.now() });
    expect(await sources()).toEqual(['comment:c2']);
    expect((await listNotifications(bob)).map((n) => [n.type, n.data.comment_id ?? null])).toEqual([
      ['post_like', null],
      ['post_comment', 'c3'],
      ['post_comment', 'c1'],
    ]);
  });

  it('should delete the source rows unused for SOURCE_TTL_MS as new ones are written, through an index', async () => {
    const bob = await createUser();
    const stub = inboxStub(bob.id);
    const inbox = inboxRpc(bob.id);
    const now = Date.now();
    // A retraction older than any queued delivery can be, and a quiet window long closed.
    await inbox.forget({ commentIds: ['old'], at: now - SOURCE_TTL_MS - 60_000 });
    await runInDurableObject(stub, (_i, state) => {
      state.storage.sql.exec('INSERT INTO sources (key, sent_at) VALUES (?, ?)', 'friend_request:someone', now - SOURCE_TTL_MS - 60_000);
      state.storage.sql.exec('INSERT INTO sources (key, sent_at, retracted_at) VALUES (?, ?, ?)', 'friend_request:lately', now - SOURCE_TTL_MS - 60_000, now - 60_000);
    });
    await inbox.forget({ commentIds: ['new'], at: now });
    const sources = () => runInDurableObject(stub, (_i, state) => state.storage.sql.exec<{ key: string }>('SELECT key FROM sources ORDER BY key').toArray().map((r) => r.key));
    expect(await sources()).toEqual(['comment:new', 'friend_request:lately']);
    const plan = await runInDurableObject(stub, (_i, state) =>
      state.storage.sql.exec<{ detail: string }>('EXPLAIN QUERY PLAN DELETE FROM sources WHERE MAX(COALESCE(sent_at, 0), COALESCE(retracted_at, 0)) < ?', now).toArray().map((r) => r.detail),
    );
    expect(plan.join(' ')).toContain('sources_last_used');
  });

  it('should remember at most INBOX_CAP earlier places of a group that keeps moving', async () => {
    const bob = await createUser();
    const stub = inboxStub(bob.id);
    const moves = INBOX_CAP + 50;
    const counts = await runInDurableObject(stub, async (inbox: unknown, state) => {
      const deliver = (inbox as { deliver(d: unknown): Promise<void> }).deliver.bind(inbox);
      for (let i = 0; i <= moves; i += 1) {
        await deliver({ type: 'post_like', data: { post_id: 'p1', user: { id: `u${i}` } }, groupKey: 'post_like:p1', actor: { id: `u${i}` } });
      }
      const one = (sql: string) => state.storage.sql.exec<{ n: number }>(sql).one().n;
      return { notifications: one('SELECT COUNT(*) AS n FROM notifications'), moved: one('SELECT COUNT(*) AS n FROM moved'), oldest: one('SELECT MIN(seq) AS n FROM moved') };
    });
    expect(counts.notifications).toBe(1);
    expect(counts.moved).toBe(INBOX_CAP - 1);
    expect(counts.oldest).toBe(moves - INBOX_CAP + 2);
  });

  it('should bring an inbox from before the version up to date when it wakes, keeping its notifications', async () => {
    const bob = await createUser();
    const stub = inboxStub(bob.id);
    await inboxRpc(bob.id).deliver(marked(1));
    // As an inbox from before the version and the move log was: neither table, no source column.
    await runInDurableObject(stub, (_i, state) => {
      for (const sql of ['DROP TABLE inbox_meta', 'DROP TABLE moved', 'DROP INDEX notifications_source', 'ALTER TABLE notifications DROP COLUMN source']) state.storage.sql.exec(sql);
    });
    await evictDurableObject(stub);
    await inboxRpc(bob.id).deliver(marked(2));
    expect(await tables(stub)).toEqual(expect.arrayContaining(['moved', 'inbox_meta']));
    const columns = await runInDurableObject(stub, (_i, state) => state.storage.sql.exec<{ name: string }>('PRAGMA table_info(notifications)').toArray().map((c) => c.name));
    expect(columns).toContain('source');
    expect((await listNotifications(bob)).map((n) => n.data.n)).toEqual([2, 1]);
  });
});

describe('Tokens in logs', () => {
  it('should never log the token of a ?token= connection, whether it succeeds or fails', async () => {
    const bob = await createUser();
    const expired = await expiredTokenFor(bob);
    const tampered = bob.accessToken.slice(0, -6) + 'AAAAAA';
    const spies = (['log', 'error', 'warn', 'info', 'debug'] as const).map((m) => vi.spyOn(console, m));
    // Positive control: the spies do see what code inside the worker's request handling logs.
    const stop = onSocialEvent((event) => console.log('stream-test probe', event.type));

    const socket = await track(openNotifications(bob, { via: 'query' }));
    const { requestId } = await sendFriendRequest(bob);
    await socket.next((f) => f?.data?.request_id === requestId, 'the friend_request frame');
    await socket.request('{"type":"ping"}', (_f, raw) => raw === '{"type":"pong"}', 'pong');
    await socket.request('not json', (f) => f?.type === 'error', 'error frame');
    await expectRefused(await connectNotifications(expired, { via: 'query' }), 'expired');
    await expectRefused(await connectNotifications(tampered, { via: 'query' }), 'tampered');
    await expectProblem(await connectNotifications(bob.accessToken, { via: 'query', upgrade: false }), 426);
    const withSince = await track(openNotifications(bob, { via: 'query', since: 'unknown-id' }));
    await withSince.waitForFrames(1);
    socket.close();
    await settle();
    stop();
    expect(spies[0]!.mock.calls.some((args) => args[0] === 'stream-test probe' && args[1] === 'friend_request'), 'the console spy sees worker logs').toBe(true);

    const secrets = [bob.accessToken, expired, tampered, bob.accessToken.split('.')[2]!, expired.split('.')[2]!];
    for (const spy of spies) {
      for (const args of spy.mock.calls) {
        const text = args.map((a) => (typeof a === 'string' ? a : (() => { try { return JSON.stringify(a) ?? String(a); } catch { return String(a); } })())).join(' ');
        for (const secret of secrets) expect(text.includes(secret), `a console call logged a token: ${text.slice(0, 200)}`).toBe(false);
      }
    }
  });
});

describe('Inbox cap', () => {
  it(`should keep at most INBOX_CAP (${INBOX_CAP}) notifications, pruning the oldest`, { timeout: 60_000 }, async () => {
    const bob = await createUser();
    const inbox = inboxRpc(bob.id);
    const extra = 10;
    // The first `extra` strictly in order, so they are exactly the oldest.
    for (let n = 0; n < extra; n += 1) await inbox.deliver(marked(n));
    const batch = 100;
    for (let start = extra; start < INBOX_CAP + extra; start += batch) {
      await Promise.all(Array.from({ length: batch }, (_, i) => inbox.deliver(marked(start + i))));
      const size = (await inbox.list({ unread: false, limit: INBOX_CAP + 100 })).data.length;
      expect(size, `after n < ${start + batch}`).toBe(Math.min(start + batch, INBOX_CAP));
    }
    const kept = (await inbox.list({ unread: false, limit: INBOX_CAP + 100 })).data;
    expect(kept).toHaveLength(INBOX_CAP);
    const ns = kept.map((x) => x.data.n as number);
    expect(new Set(ns).size).toBe(INBOX_CAP);
    expect(Math.min(...ns)).toBe(extra);
    expect(Math.max(...ns)).toBe(INBOX_CAP + extra - 1);

    // One more: the oldest remaining goes, the new one is on top (also through the API and the count).
    await inbox.deliver(marked('last'));
    const after = (await inbox.list({ unread: false, limit: INBOX_CAP + 100 })).data;
    expect(after).toHaveLength(INBOX_CAP);
    expect(after[0]!.data.n).toBe('last');
    expect(after.some((x) => x.data.n === extra)).toBe(false);
    expect(after.map((x) => x.id).slice(1)).toEqual(kept.map((x) => x.id).slice(0, INBOX_CAP - 1));
    expect((await listNotifications(bob, 1))[0]!.data.n).toBe('last');
    expect(await expectStatus(await call('/notifications/unread_count', { token: bob.accessToken }), 200)).toEqual({ unread_count: INBOX_CAP });
  });
});
