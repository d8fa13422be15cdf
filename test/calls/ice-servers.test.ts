import { env } from 'cloudflare:workers';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { clearIceServerCache, iceServers, TURN_REFRESH_MARGIN_MS, TURN_TTL_SECONDS } from '../../src/modules/calls/calls.service';
import type { Bindings } from '../../src/lib/types';
import { TURN_TOKEN } from '../fixtures/turn/server';
import { call, createUser, expectProblem, expectStatus, type TestUser } from '../helpers/client';
import { decodeJwtPayload, loginOk, logout, refresh } from '../auth/helpers';
import { act, createStaff } from '../moderation/helpers';
import { settleAfterResponse } from '../helpers/after-response';

const turnApi = inject('turnApiUrl');
/** The worker's own env, with TURN configured for the duration of a test (the route reads it per request). */
const bindings = env as unknown as Bindings;
function configureTurn(keyId: string | undefined, token = TURN_TOKEN): void {
  bindings.TURN_KEY_ID = keyId;
  bindings.TURN_KEY_API_TOKEN = keyId ? token : undefined;
  bindings.TURN_API_BASE = turnApi;
  clearIceServerCache();
}
const callsTo = async (keyId: string) => ((await (await fetch(`${turnApi}/calls/${keyId}`)).json()) as { calls: number }).calls;
/** The usernames Cloudflare (the stand-in) was asked to revoke under a key. */
const revokedUnder = async (keyId: string) => ((await (await fetch(`${turnApi}/revoked/${keyId}`)).json()) as { revoked: string[] }).revoked;
/** How many revocations under a `held-…` key wait for their answer (the stand-in holds them until released). */
const heldUnder = async (keyId: string, how: 'held' | 'release' = 'held') =>
  ((await (await fetch(`${turnApi}/${how}/${keyId}`, { method: how === 'held' ? 'GET' : 'POST' })).json()) as { held: number }).held;
/** The TURN username an access token's session is handed. */
async function turnUsername(token: string): Promise<string> {
  const body = await expectStatus(await call('/calls/ice_servers', { token }), 200);
  return body.ice_servers.find((s: any) => s.username).username;
}
const holderOf = (user: TestUser) => ({ userId: user.id, sessionId: decodeJwtPayload(user.accessToken).sid as string });

afterEach(() => configureTurn(undefined));

describe('GET /calls/ice_servers', () => {
  it('should need a token', async () => {
    await expectProblem(await call('/calls/ice_servers'), 401);
  });

  it('should give STUN only when no TURN key is set', async () => {
    const user = await createUser();
    const res = await call('/calls/ice_servers', { token: user.accessToken });
    const body = await expectStatus(res, 200);
    expect(body.ice_servers).toEqual([{ urls: ['stun:stun.cloudflare.com:3478'] }]);
    expect(Date.parse(body.expires_at)).toBeGreaterThan(Date.now());
    expect(res.headers.get('Cache-Control')).toBe('private, no-store');
  });

  it('should hand each user TURN credentials of their own from the key, without port 53, cached until shortly before they expire', async () => {
    const keyId = `key-${crypto.randomUUID()}`;
    configureTurn(keyId);
    const user = await createUser();
    const first = await expectStatus(await call('/calls/ice_servers', { token: user.accessToken }), 200);
    const turn = first.ice_servers.find((s: any) => s.username);
    expect(turn).toMatchObject({ username: `user-${keyId}-1`, credential: 'secret-1' });
    expect(first.ice_servers.flatMap((s: any) => s.urls).filter((u: string) => /:53(\?|$)/.test(u))).toEqual([]);
    expect(turn.urls).toContain('turns:turn.cloudflare.com:5349?transport=tcp');
    expect(turn.urls).toContain('turn:turn.cloudflare.com:3478?transport=udp');
    const expires = Date.parse(first.expires_at);
    expect(Math.abs(expires - (Date.now() + TURN_TTL_SECONDS * 1000))).toBeLessThan(60_000);

    // The same user asking again gets the same ones; nobody else ever gets them.
    expect(await expectStatus(await call('/calls/ice_servers', { token: user.accessToken }), 200)).toEqual(first);
    expect(await callsTo(keyId)).toBe(1);
    const stranger = await expectStatus(await call('/calls/ice_servers', { token: (await createUser()).accessToken }), 200);
    expect(stranger.ice_servers.find((s: any) => s.username)).toMatchObject({ username: `user-${keyId}-2`, credential: 'secret-2' });
    expect(await callsTo(keyId)).toBe(2);

    // Past the refresh point (an injected clock), fresh credentials are generated.
    const later = await iceServers(bindings, env.DB, holderOf(user), expires - TURN_REFRESH_MARGIN_MS + 1);
    expect(later.ice_servers.find((s) => s.username)?.username).toBe(`user-${keyId}-3`);
    expect(await callsTo(keyId)).toBe(3);
  });

  it('should fall back to STUN only, briefly, when the TURN API fails or hangs', async () => {
    for (const keyId of ['turn-fails', 'turn-hangs']) {
      configureTurn(keyId);
      const started = Date.now();
      const body = await iceServers(bindings, env.DB, { userId: 'someone', sessionId: 'a-session' });
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(body.ice_servers).toEqual([{ urls: ['stun:stun.cloudflare.com:3478'] }]);
      expect(Date.parse(body.expires_at) - Date.now()).toBeLessThanOrEqual(30_000);
      // The failure is remembered for a while, for everyone: no second call meanwhile.
      await iceServers(bindings, env.DB, { userId: 'someone else', sessionId: 'another-session' });
      expect(await callsTo(keyId)).toBe(1);
    }
  });

  it('should not use credentials the API refused (wrong token)', async () => {
    configureTurn(`key-${crypto.randomUUID()}`, 'wrong-token');
    const body = await iceServers(bindings, env.DB, { userId: 'someone', sessionId: 'a-session' });
    expect(body.ice_servers.some((s) => s.username)).toBe(false);
  });
});

describe('TURN credentials end with the session', () => {
  it('should hand each session credentials of its own, and revoke a session\'s when it signs out', async () => {
    const keyId = `key-${crypto.randomUUID()}`;
    configureTurn(keyId);
    const user = await createUser();
    const phone = await loginOk(user.username, user.password);
    const [laptopName, phoneName] = [await turnUsername(user.accessToken), await turnUsername(phone.access_token)];
    expect(phoneName).not.toBe(laptopName);
    await settleAfterResponse(async () => expectStatus(await logout(phone.refresh_token), 204));
    expect(await revokedUnder(keyId)).toEqual([phoneName]);
    await expectProblem(await call('/calls/ice_servers', { token: phone.access_token }), 401);
    // The device still signed in keeps its own.
    expect(await turnUsername(user.accessToken)).toBe(laptopName);
  });

  it('should revoke every credential of an account when it is suspended, or signs every other device out', async () => {
    const keyId = `key-${crypto.randomUUID()}`;
    configureTurn(keyId);
    const [user, other] = [await createUser(), await createUser()];
    const phone = await loginOk(user.username, user.password);
    const names = [await turnUsername(user.accessToken), await turnUsername(phone.access_token)];
    const bystander = await turnUsername(other.accessToken);
    await settleAfterResponse(async () => expectStatus(await call('/me/sessions', { method: 'DELETE', token: user.accessToken }), 204));
    expect(await revokedUnder(keyId)).toEqual([names[1]]);
    const admin = await createStaff('admin');
    await settleAfterResponse(() => act(admin, user, 'suspend'));
    expect((await revokedUnder(keyId)).sort()).toEqual([...names].sort());
    expect(await revokedUnder(keyId)).not.toContain(bystander);
    await expectProblem(await call('/calls/ice_servers', { token: user.accessToken }), 401);
  });

  it('should revoke them when the account is deleted', async () => {
    const keyId = `key-${crypto.randomUUID()}`;
    configureTurn(keyId);
    const user = await createUser();
    const name = await turnUsername(user.accessToken);
    await settleAfterResponse(async () => expectStatus(await call('/me', { method: 'DELETE', token: user.accessToken, body: { password: user.password } }), 204));
    expect(await revokedUnder(keyId)).toEqual([name]);
  });

  it('should revoke a session\'s credentials when its refresh token is reused, though the answer is a 401', async () => {
    const keyId = `key-${crypto.randomUUID()}`;
    configureTurn(keyId);
    const user = await createUser();
    const phone = await loginOk(user.username, user.password);
    const name = await turnUsername(phone.access_token);
    await expectStatus(await refresh(phone.refresh_token), 200);
    await settleAfterResponse(async () => expectProblem(await refresh(phone.refresh_token), 401));
    expect(await revokedUnder(keyId)).toEqual([name]);
  });

  it('should answer a sign-out without waiting for Cloudflare, and revoke once it answers', async () => {
    const keyId = `held-${crypto.randomUUID()}`;
    configureTurn(keyId);
    const user = await createUser();
    const phone = await loginOk(user.username, user.password);
    const name = await turnUsername(phone.access_token);
    await settleAfterResponse(async () => {
      await expectStatus(await logout(phone.refresh_token), 204);
      // Answered while the revocation is still on its way, or waiting at Cloudflare (a revocation the
      // request had waited for and then given up on would no longer be waiting).
      const deadline = Date.now() + 2_000;
      while ((await heldUnder(keyId)) === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(await heldUnder(keyId)).toBe(1);
      expect(await revokedUnder(keyId)).toEqual([]);
      await heldUnder(keyId, 'release');
    });
    expect(await revokedUnder(keyId)).toEqual([name]);
    await expectProblem(await call('/calls/ice_servers', { token: phone.access_token }), 401);
  });

  it('should hand none to a session D1 says has ended, whatever this isolate remembers of it', async () => {
    configureTurn(`key-${crypto.randomUUID()}`);
    const user = await createUser();
    await turnUsername(user.accessToken); // this isolate now remembers the session as live
    // Ended elsewhere (another isolate signed it out): only D1 knows.
    await env.DB.prepare('UPDATE sessions SET revoked_at = ?2 WHERE id = ?1').bind(holderOf(user).sessionId, Date.now()).run();
    await expectProblem(await call('/calls/ice_servers', { token: user.accessToken }), 401);
  });
});
