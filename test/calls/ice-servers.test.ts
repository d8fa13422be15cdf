import { env } from 'cloudflare:workers';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { clearIceServerCache, iceServers, TURN_REFRESH_MARGIN_MS, TURN_TTL_SECONDS } from '../../src/modules/calls/calls.service';
import type { Bindings } from '../../src/lib/types';
import { TURN_TOKEN } from '../fixtures/turn/server';
import { call, createUser, expectProblem, expectStatus } from '../helpers/client';

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
    const later = await iceServers(bindings, user.id, expires - TURN_REFRESH_MARGIN_MS + 1);
    expect(later.ice_servers.find((s) => s.username)?.username).toBe(`user-${keyId}-3`);
    expect(await callsTo(keyId)).toBe(3);
  });

  it('should fall back to STUN only, briefly, when the TURN API fails or hangs', async () => {
    for (const keyId of ['turn-fails', 'turn-hangs']) {
      configureTurn(keyId);
      const started = Date.now();
      const body = await iceServers(bindings, 'someone');
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(body.ice_servers).toEqual([{ urls: ['stun:stun.cloudflare.com:3478'] }]);
      expect(Date.parse(body.expires_at) - Date.now()).toBeLessThanOrEqual(30_000);
      // The failure is remembered for a while, for everyone: no second call meanwhile.
      await iceServers(bindings, 'someone else');
      expect(await callsTo(keyId)).toBe(1);
    }
  });

  it('should not use credentials the API refused (wrong token)', async () => {
    configureTurn(`key-${crypto.randomUUID()}`, 'wrong-token');
    const body = await iceServers(bindings, 'someone');
    expect(body.ice_servers.some((s) => s.username)).toBe(false);
  });
});
