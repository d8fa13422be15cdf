import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { validatingFetch } from '../contract/validating-fetch';
import { describe, expect, it } from 'vitest';
import { onSocialEvent, type SocialEvent } from '../../src/modules/notifications/events';
import { call, createUser, expectStatus } from '../helpers/client';
import { openSocket } from './socket-helpers';

describe('Messaging flow', () => {
  it('should send over REST and deliver on a socket', async () => {
    const a = await createUser();
    const b = await createUser();
    const conv = await expectStatus(await call('/conversations', { body: { participant_ids: [b.id] }, token: a.accessToken }), 201);
    const again = await expectStatus(await call('/conversations', { body: { participant_ids: [b.id] }, token: a.accessToken }), 200);
    expect(again.id).toBe(conv.id);
    const socket = await openSocket(conv.id, b.accessToken, { via: 'query' });
    const m1 = await expectStatus(await call(`/conversations/${conv.id}/messages`, { body: { content: 'hello', client_id: 'x1' }, token: a.accessToken }), 201);
    expect(m1.seq).toBe(1);
    const dup = await expectStatus(await call(`/conversations/${conv.id}/messages`, { body: { content: 'hello', client_id: 'x1' }, token: a.accessToken }), 200);
    expect(dup.id).toBe(m1.id);
    socket.send({ type: 'message.send', client_id: 's1', content: 'from socket' });
    await new Promise((r) => setTimeout(r, 100));
    expect(socket.frames.map((f) => f.type)).toEqual(['message.new', 'message.new', 'ack']);
    expect(socket.frames[1].message.seq).toBe(2);
    const list = await expectStatus(await call('/conversations', { token: a.accessToken }), 200);
    expect(list.data[0].last_message.seq).toBe(2);
    expect(list.data[0].unread_count).toBe(1);
    const listB = await expectStatus(await call('/conversations', { token: b.accessToken }), 200);
    expect(listB.data[0].unread_count).toBe(0);
    const hist = await expectStatus(await call(`/conversations/${conv.id}/messages`, { token: b.accessToken }), 200);
    expect(hist.data.map((m: any) => m.seq)).toEqual([2, 1]);
    const read = await expectStatus(await call(`/conversations/${conv.id}/read`, { body: {}, token: a.accessToken }), 200);
    expect(read).toEqual({ last_read_seq: 2, unread_count: 0 });
    const stranger = await createUser();
    await expectStatus(await call(`/conversations/${conv.id}`, { token: stranger.accessToken }), 404);
    const bad = await validatingFetch(`http://kith.test/api/v1/conversations/${conv.id}/stream?token=nope`, { headers: { Upgrade: 'websocket' } });
    expect(bad.status).toBe(401);
    socket.close();
  });
});

describe('Messaging events', () => {
  it('should emit one new_message for the other members, whether sent over REST or a socket', async () => {
    const a = await createUser();
    const b = await createUser();
    const conv = await expectStatus(await call('/conversations', { body: { participant_ids: [b.id] }, token: a.accessToken }), 201);
    const seen: SocialEvent[] = [];
    const stop = onSocialEvent((event) => {
      if (event.type === 'new_message' && event.conversationId === conv.id) seen.push(event);
    });
    try {
      await expectStatus(await call(`/conversations/${conv.id}/messages`, { body: { content: 'rest', client_id: 'r1' }, token: a.accessToken }), 201);
      await expectStatus(await call(`/conversations/${conv.id}/messages`, { body: { content: 'rest', client_id: 'r1' }, token: a.accessToken }), 200);
      const socket = await openSocket(conv.id, b.accessToken, { via: 'query' });
      await socket.request({ type: 'message.send', client_id: 's1', content: 'socket' }, (f) => f?.type === 'ack', 'the ack');
      await new Promise((r) => setTimeout(r, 20));
      expect(seen.map((e) => (e.type === 'new_message' ? [e.actorId, e.seq, e.recipientIds] : null))).toEqual([
        [a.id, 1, [b.id]],
        [b.id, 2, [a.id]],
      ]);
      socket.close();
    } finally {
      stop();
    }
  });
});

describe('Room membership follows D1', () => {
  it('should re-sync a room that lost its members from D1 and carry on', async () => {
    const a = await createUser();
    const b = await createUser();
    const conv = await expectStatus(await call('/conversations', { body: { participant_ids: [b.id] }, token: a.accessToken }), 201);
    const stub = env.ROOMS.get(env.ROOMS.idFromName(conv.id));
    await runInDurableObject(stub, (_room, state) => {
      state.storage.sql.exec('DELETE FROM members');
    });
    const sent = await expectStatus(await call(`/conversations/${conv.id}/messages`, { body: { content: 'still here' }, token: a.accessToken }), 201);
    expect(sent.seq).toBe(1);
    const res = await validatingFetch(`http://kith.test/api/v1/conversations/${conv.id}/stream?token=${b.accessToken}`, { headers: { Upgrade: 'websocket' } });
    expect(res.status).toBe(101);
    res.webSocket!.accept();
    res.webSocket!.close();
  });
});
