import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { call, createUser, expectProblem, expectStatus, type TestUser } from '../helpers/client';
import { openSocket } from '../messaging/socket-helpers';
import { startDirect } from '../messaging/helpers';
import { openNotifications } from '../notifications/stream-helpers';
import { decodeJwtPayload, refresh, type TokenBody } from './helpers';

const DEVICE_IP = '198.51.100.23';

/** Signs in again from another "device" (its own address and User-Agent). */
async function signInFrom(user: TestUser, ip: string, userAgent: string): Promise<TokenBody> {
  return expectStatus(await call('/auth/login', { body: { login: user.username, password: user.password }, ip, headers: { 'User-Agent': userAgent } }), 200);
}
const sessions = async (token: string) => expectStatus<any[]>(await call('/me/sessions', { token }), 200);

describe('Device sessions', () => {
  it('should list one session per device with its address, user agent and the current one marked', async () => {
    const user = await createUser();
    const phone = await signInFrom(user, DEVICE_IP, 'KithPhone/1.0 (\u0007Android)');
    const list = await sessions(phone.access_token);
    expect(list).toHaveLength(2);
    const current = list.find((s) => s.current)!;
    expect(current).toMatchObject({ id: decodeJwtPayload(phone.access_token).sid, ip: DEVICE_IP, user_agent: 'KithPhone/1.0 (Android)' });
    expect(current.last_used_at >= current.created_at).toBe(true);
    expect(list.filter((s) => s.current)).toHaveLength(1);
    expect(list.map((s) => s.id)).toContain(decodeJwtPayload(user.accessToken).sid);
  });

  it('should move last_used_at and the address on refresh', async () => {
    const user = await createUser();
    const sid = decodeJwtPayload(user.accessToken).sid;
    await env.DB.prepare('UPDATE sessions SET last_used_at = last_used_at - 60000 WHERE id = ?1').bind(sid).run();
    const before = (await sessions(user.accessToken)).find((s) => s.id === sid)!;
    const next = await expectStatus<TokenBody>(await refresh(user.refreshToken, '203.0.113.99'), 200);
    const after = (await sessions(next.access_token)).find((s) => s.id === sid)!;
    expect(after.last_used_at > before.last_used_at).toBe(true);
    expect(after.ip).toBe('203.0.113.99');
  });

  it('should sign one device out: its access token, refresh token and sockets stop at once; recorded without tokens', async () => {
    const [user, friend] = [await createUser(), await createUser()];
    const phone = await signInFrom(user, DEVICE_IP, 'KithPhone/1.0');
    const phoneSid = decodeJwtPayload(phone.access_token).sid;
    const conversation = await startDirect(user, friend);
    const phoneUser = { ...user, accessToken: phone.access_token };
    const [roomSocket, inboxSocket] = [await openSocket(conversation.id, phone.access_token), await openNotifications(phoneUser)];
    const laptopSocket = await openNotifications(user);

    await expectStatus(await call(`/me/sessions/${phoneSid}`, { method: 'DELETE', token: user.accessToken }), 204);
    await expectProblem(await call('/me', { token: phone.access_token }), 401);
    await expectProblem(await refresh(phone.refresh_token), 401);
    expect((await roomSocket.closed()).code).toBe(4401);
    expect((await inboxSocket.closed()).code).toBe(4401);
    // The device that did it keeps working, its socket too.
    await expectStatus(await call('/me', { token: user.accessToken }), 200);
    expect(laptopSocket.closeEvent).toBeNull();
    laptopSocket.close();

    const entry = await env.DB.prepare("SELECT data FROM audit_log WHERE action = 'session.revoked' AND subject_id = ?1").bind(user.id).first<{ data: string }>();
    expect(JSON.parse(entry!.data)).toEqual({ session_ids: [phoneSid] });
    expect(entry!.data).not.toContain(phone.refresh_token);
    expect((await sessions(user.accessToken)).map((s) => s.id)).not.toContain(phoneSid);
  });

  it('should sign every other device out and keep the current one', async () => {
    const user = await createUser();
    const [a, b] = [await signInFrom(user, '198.51.100.1', 'A'), await signInFrom(user, '198.51.100.2', 'B')];
    await expectStatus(await call('/me/sessions', { method: 'DELETE', token: a.access_token }), 204);
    for (const token of [user.accessToken, b.access_token]) await expectProblem(await call('/me', { token }), 401);
    const left = await sessions(a.access_token);
    expect(left.map((s) => s.current)).toEqual([true]);
    // Nothing else to end: still 204.
    await expectStatus(await call('/me/sessions', { method: 'DELETE', token: a.access_token }), 204);
  });

  it("should answer 404 for another account's session, an ended one, and 400 for a malformed id", async () => {
    const [user, other] = [await createUser(), await createUser()];
    const otherSid = decodeJwtPayload(other.accessToken).sid;
    await expectProblem(await call(`/me/sessions/${otherSid}`, { method: 'DELETE', token: user.accessToken }), 404);
    await expectStatus(await call('/me', { token: other.accessToken }), 200);
    const extra = await signInFrom(user, DEVICE_IP, 'X');
    const sid = decodeJwtPayload(extra.access_token).sid;
    await expectStatus(await call(`/me/sessions/${sid}`, { method: 'DELETE', token: user.accessToken }), 204);
    await expectProblem(await call(`/me/sessions/${sid}`, { method: 'DELETE', token: user.accessToken }), 404);
    await expectProblem(await call('/me/sessions/not-an-id', { method: 'DELETE', token: user.accessToken }), 400, 'id');
  });
});
