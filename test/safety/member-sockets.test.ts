import { describe, expect, it } from 'vitest';
import { call, expectStatus, type TestUser } from '../helpers/client';
import { users } from '../notifications/helpers';
import { openSocket, settle } from '../messaging/socket-helpers';

const group = async (admin: TestUser, others: TestUser[]) =>
  (await expectStatus(await call('/conversations', { token: admin.accessToken, body: { participant_ids: others.map((o) => o.id), title: 'Room' } }), 201)).id as string;
const removeRaw = (actor: TestUser, convId: string, userId: string) => call(`/conversations/${convId}/members/${userId}`, { method: 'DELETE', token: actor.accessToken });

describe('Member removal closes sockets', () => {
  it('should close a removed member’s open socket with 4403 within a second, and send it nothing more', async () => {
    const [admin, stays, removed] = await users(3);
    const id = await group(admin, [stays, removed]);
    const held = await openSocket(id, removed.accessToken, { label: 'removed' });
    const other = await openSocket(id, stays.accessToken, { label: 'stays' });
    try {
      const started = Date.now();
      await expectStatus(await removeRaw(admin, id, removed.id), 204);
      const close = await held.closed(1000);
      expect(close.code).toBe(4403);
      expect(Date.now() - started).toBeLessThan(1000);
      await expectStatus(await call(`/conversations/${id}/messages`, { token: admin.accessToken, body: { content: 'after' } }), 201);
      await other.waitForMessages(1);
      await settle();
      expect(held.messages).toEqual([]);
    } finally {
      held.close();
      other.close();
    }
  });

  it('should close a leaving member’s sockets with 4403 within a second', async () => {
    const [admin, leaver] = await users(2);
    const id = await group(admin, [leaver, (await users(1))[0]!]);
    const sockets = [await openSocket(id, leaver.accessToken), await openSocket(id, leaver.accessToken, { via: 'query' })];
    const started = Date.now();
    await expectStatus(await removeRaw(leaver, id, leaver.id), 204);
    for (const s of sockets) expect((await s.closed(1000)).code).toBe(4403);
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
