import { afterEach, describe, expect, it } from 'vitest';
import { NOTIFICATION_TYPES } from '../../src/modules/notifications/notifications.schemas';
import { call, createUser, expectProblem, expectStatus } from '../helpers/client';
import { bindings, pushService, secondSession, subscribe } from './helpers';

const b64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes)).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');

afterEach(() => {
  bindings.PUSH_ALLOW_HTTP = 'true';
});

describe('Push subscriptions', () => {
  it('should serve the VAPID public key as a 65-byte P-256 point', async () => {
    const body = await expectStatus(await call('/push/server_key'), 200);
    expect(body).toEqual({ public_key: bindings.VAPID_PUBLIC_KEY });
    const bytes = Uint8Array.from(atob(body.public_key.replaceAll('-', '+').replaceAll('_', '/')), (c) => c.charCodeAt(0));
    expect([bytes.length, bytes[0]]).toEqual([65, 4]);
  });

  it('should create, read, update and delete the subscription of the current session only', async () => {
    const user = await createUser();
    const sub = await pushService();
    const created = await subscribe(user, sub, { alerts: { post_like: false }, policy: 'friends' });
    expect(Object.keys(created).sort()).toEqual(['alerts', 'endpoint', 'id', 'policy', 'server_key']);
    expect(created).toMatchObject({ endpoint: sub.endpoint, policy: 'friends', server_key: bindings.VAPID_PUBLIC_KEY });
    expect(Object.keys(created.alerts).sort()).toEqual([...NOTIFICATION_TYPES].sort());
    expect(created.alerts).toMatchObject({ post_like: false, new_message: true, call_incoming: true });
    expect(await expectStatus(await call('/push/subscription', { token: user.accessToken }), 200)).toEqual(created);

    const updated = await expectStatus(await call('/push/subscription', { method: 'PUT', token: user.accessToken, body: { data: { alerts: { new_follower: false } } } }), 200);
    expect(updated).toMatchObject({ id: created.id, policy: 'friends', alerts: { post_like: false, new_follower: false, new_message: true } });

    // Another device of the same account has none of its own yet.
    const other = await secondSession(user);
    await expectProblem(await call('/push/subscription', { token: other.accessToken }), 404);
    const replaced = await subscribe(user, await pushService(), undefined, other.accessToken);
    expect(replaced.id).not.toBe(created.id);

    await expectStatus(await call('/push/subscription', { method: 'DELETE', token: user.accessToken }), 204);
    await expectProblem(await call('/push/subscription', { token: user.accessToken }), 404);
    await expectStatus(await call('/push/subscription', { method: 'DELETE', token: user.accessToken }), 204);
    await expectProblem(await call('/push/subscription', { method: 'PUT', token: user.accessToken, body: { data: { policy: 'all' } } }), 404);
    expect((await expectStatus(await call('/push/subscription', { token: other.accessToken }), 200)).id).toBe(replaced.id);
  });

  it('should replace the session’s subscription when it subscribes again', async () => {
    const user = await createUser();
    const first = await subscribe(user, await pushService());
    const second = await subscribe(user, await pushService());
    expect(second.id).not.toBe(first.id);
    expect((await expectStatus(await call('/push/subscription', { token: user.accessToken }), 200)).id).toBe(second.id);
  });

  it('should need a token', async () => {
    await expectProblem(await call('/push/subscription'), 401);
    await expectProblem(await call('/push/subscription', { body: {} }), 401);
  });

  it('should refuse endpoints that are not https and keys that are not a P-256 point and a 16-byte secret, naming the field', async () => {
    const user = await createUser();
    const sub = await pushService();
    const post = (subscription: unknown, data?: unknown) => call('/push/subscription', { token: user.accessToken, body: { subscription, ...(data ? { data } : {}) } });
    bindings.PUSH_ALLOW_HTTP = 'false';
    // Endpoint hosts are resolved (test/push/endpoints.test.ts): public.example is public at the stand-in resolver.
    await expectProblem(await post({ endpoint: sub.endpoint, keys: sub.keys }), 400, 'subscription.endpoint');
    await expectProblem(await post({ endpoint: 'not a url', keys: sub.keys }), 400, 'subscription.endpoint');
    await expectProblem(await post({ endpoint: 'ftp://push.example/x', keys: sub.keys }), 400, 'subscription.endpoint');
    await expectProblem(await post({ endpoint: 'https://user:pw@push.example/x', keys: sub.keys }), 400, 'subscription.endpoint');
    const https = 'https://public.example/sub/1';
    // 65 bytes in the uncompressed form, but not a point on the curve.
    const offCurve = new Uint8Array(65).fill(7);
    offCurve[0] = 4;
    await expectProblem(await post({ endpoint: https, keys: { ...sub.keys, p256dh: b64(offCurve) } }), 400, 'subscription.keys.p256dh');
    await expectProblem(await post({ endpoint: https, keys: { ...sub.keys, p256dh: b64(new Uint8Array(33).fill(2)) } }), 400, 'subscription.keys.p256dh');
    await expectProblem(await post({ endpoint: https, keys: { ...sub.keys, p256dh: 'not base64!' } }), 400, 'subscription.keys.p256dh');
    await expectProblem(await post({ endpoint: https, keys: { ...sub.keys, auth: b64(new Uint8Array(15)) } }), 400, 'subscription.keys.auth');
    await expectProblem(await post({ endpoint: https, keys: { p256dh: sub.keys.p256dh } }), 400, 'subscription.keys.auth');
    await expectProblem(await post({ endpoint: https, keys: sub.keys }, { alerts: { bogus: true } }), 400, 'data.alerts.bogus');
    await expectProblem(await post({ endpoint: https, keys: sub.keys }, { policy: 'everyone' }), 400, 'data.policy');
    await expectProblem(await call('/push/subscription', { token: user.accessToken }), 404);
    // The same keys are fine on an https endpoint.
    expect((await expectStatus(await post({ endpoint: https, keys: sub.keys }), 200)).endpoint).toBe(https);
  });

  it('should answer 503 when the server has no VAPID keys', async () => {
    const user = await createUser();
    const saved = bindings.VAPID_PRIVATE_KEY;
    bindings.VAPID_PRIVATE_KEY = undefined;
    try {
      await expectProblem(await call('/push/server_key'), 503);
      await expectProblem(await call('/push/subscription', { token: user.accessToken, body: { subscription: { endpoint: 'https://push.example/x', keys: (await pushService()).keys } } }), 503);
    } finally {
      bindings.VAPID_PRIVATE_KEY = saved;
    }
  });
});
