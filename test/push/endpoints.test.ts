import { env } from 'cloudflare:workers';
import { afterEach, describe, expect, it } from 'vitest';
import type { Notification } from '../../src/modules/notifications/notifications.schemas';
import type { PushMessage } from '../../src/modules/notifications/inbox-push';
import { MAX_PUSH_ATTEMPTS, MAX_PUSH_FAILURES, pushNotification } from '../../src/modules/push/push-delivery';
import { vapidConfig } from '../../src/modules/push/web-push';
import { newId } from '../../src/lib/ids';
import { call, createUser, expectProblem, expectStatus, type TestUser } from '../helpers/client';
import { bindings, pushService, received, secondSession, storedUnread, subscribe } from './helpers';

// A push endpoint is a URL a stranger hands Kith to POST to. These are the rules that keep Kith from being
// pointed at hosts that are not push services (addresses, ports, local names), from following a push
// service elsewhere, and from knocking forever on a door that never opens.
afterEach(() => {
  bindings.PUSH_ALLOW_HTTP = 'true';
});

/** A notice from the site itself (every policy but none pushes it) in the inbox, as attempt `attempt` of its delivery. */
async function warning(recipient: TestUser, attempt = 0): Promise<PushMessage> {
  const notification = { id: newId(), type: 'moderation_warning', data: { action: 'warn', reason: 'Be kind.', until: null }, read: false, created_at: new Date().toISOString() } as Notification;
  return { type: 'push.notification', user_id: recipient.id, notification: await storedUnread(recipient.id, notification), attempt };
}

describe('Push endpoints', () => {
  it('should refuse endpoints that name an address, a port, or a host that is (or resolves to) a private or loopback address', async () => {
    const user = await createUser();
    const { keys } = await pushService();
    const post = (endpoint: string) => call('/push/subscription', { token: user.accessToken, body: { subscription: { endpoint, keys } } });
    bindings.PUSH_ALLOW_HTTP = 'false';
    // Hosts resolve at the stand-in resolver (test/setup.ts): public.example is public, intranet.example private.
    for (const endpoint of [
      'https://127.0.0.1/push/1',
      'https://[::1]/push/1',
      'https://169.254.169.254/latest/meta-data',
      'https://10.0.0.7/push',
      'https://[::ffff:a9fe:a9fe]/push',
      'https://2130706433/push', // 127.0.0.1 as one number
      'https://93.184.216.34/push', // public, but push services have names
      'https://localhost/push',
      'https://push.localhost/push',
      'https://public.example:8443/push', // a port other than https's own
      'https://public.example:22/push',
      'https://intranet.example/push', // resolves to 10.1.2.3
      'https://rebind.example/push', // resolves to 127.0.0.1
      'https://nothing.example/push', // resolves to nothing
      `https://public.example/${'x'.repeat(2048)}`,
    ]) {
      await expectProblem(await post(endpoint), 400, 'subscription.endpoint');
    }
    await expectProblem(await call('/push/subscription', { token: user.accessToken }), 404);
    // A push service by name, on https's own port (said or not).
    expect((await expectStatus(await post('https://public.example/push/1'), 200)).endpoint).toBe('https://public.example/push/1');
    expect((await expectStatus(await post('https://public.example:443/push/2'), 200)).endpoint).toBe('https://public.example:443/push/2');
  });

  it('should keep refusing private and link-local addresses where plain http is allowed for local development', async () => {
    const user = await createUser();
    const { keys } = await pushService();
    const post = (endpoint: string) => call('/push/subscription', { token: user.accessToken, body: { subscription: { endpoint, keys } } });
    bindings.PUSH_ALLOW_HTTP = 'true';
    await expectProblem(await post('http://169.254.169.254/latest/meta-data'), 400, 'subscription.endpoint');
    await expectProblem(await post('http://192.168.1.1:8080/push'), 400, 'subscription.endpoint');
    // The local push service (loopback, its own port) is fine there.
    await subscribe(user, await pushService());
  });

  it('should not follow a push service that redirects, and count it as a failed delivery', async () => {
    const user = await createUser();
    const sub = await pushService('redirect');
    const subscription = await subscribe(user, sub);
    await pushNotification(bindings, await warning(user), (await vapidConfig(bindings))!);
    expect(await received(sub)).toMatchObject({ attempts: 1, redirected: 0 });
    const row = await env.DB.prepare('SELECT failures FROM push_subscriptions WHERE id = ?1').bind(subscription.id).first<{ failures: number }>();
    expect(row?.failures).toBe(1);
  });

  it(`should drop a subscription whose push service failed ${MAX_PUSH_FAILURES} deliveries in a row`, async () => {
    const [refusing, failing, healthy] = [await createUser(), await createUser(), await createUser()];
    const [refuseSub, errorSub, okSub] = [await pushService('refuse'), await pushService('error'), await pushService('fail-once')];
    await subscribe(refusing, refuseSub);
    await subscribe(failing, errorSub);
    await subscribe(healthy, okSub);
    const vapid = (await vapidConfig(bindings))!;
    const exists = async (user: TestUser) => (await call('/push/subscription', { token: user.accessToken })).status === 200;
    for (let i = 1; i <= MAX_PUSH_FAILURES; i++) {
      expect(await exists(refusing), `before refusal ${i}`).toBe(true);
      await pushNotification(bindings, await warning(refusing), vapid);
      // A 5xx counts once its last attempt fails.
      await pushNotification(bindings, await warning(failing, MAX_PUSH_ATTEMPTS - 1), vapid);
    }
    expect(await exists(refusing)).toBe(false);
    expect(await exists(failing)).toBe(false);
    expect((await received(refuseSub)).attempts).toBe(MAX_PUSH_FAILURES);
    // One failure, then a delivery: the count starts over, and the subscription stays.
    for (let i = 0; i < MAX_PUSH_FAILURES + 1; i++) await pushNotification(bindings, await warning(healthy, MAX_PUSH_ATTEMPTS - 1), vapid);
    expect(await exists(healthy)).toBe(true);
    expect((await received(okSub)).deliveries).toHaveLength(MAX_PUSH_FAILURES);
  });

  it('should keep one subscription per endpoint and account: the device subscribing again from another session moves it there', async () => {
    const [user, b] = [await createUser(), await createUser()];
    const sub = await pushService();
    await subscribe(user, sub);
    const session = await secondSession(user);
    const moved = await subscribe(user, sub, undefined, session.accessToken);
    await expectProblem(await call('/push/subscription', { token: user.accessToken }), 404);
    expect((await expectStatus(await call('/push/subscription', { token: session.accessToken }), 200)).id).toBe(moved.id);
    await pushNotification(bindings, await warning(user), (await vapidConfig(bindings))!);
    expect((await received(sub)).deliveries).toHaveLength(1);
    // Another account on the same device (a second signed-in account) keeps its own.
    await subscribe(b, sub);
    expect((await expectStatus(await call('/push/subscription', { token: session.accessToken }), 200)).id).toBe(moved.id);
  });
});
