import { afterEach, describe, expect, it } from 'vitest';
import { call, createUser, expectProblem, expectStatus } from '../helpers/client';
import { feedUrl } from '../news/helpers';
import { bindings, pushService, subscribe } from './helpers';

// A push endpoint is a URL a stranger hands Kith to POST to. These are the rules that keep Kith from being
// pointed at hosts that are not push services (addresses, ports, local names).
afterEach(() => {
  bindings.PUSH_ALLOW_HTTP = 'true';
  bindings.NEWS_DNS_RESOLVER = undefined;
});

describe('Push endpoints', () => {
  it('should refuse endpoints that name an address, a port, or a host that is (or resolves to) a private or loopback address', async () => {
    const user = await createUser();
    const { keys } = await pushService();
    const post = (endpoint: string) => call('/push/subscription', { token: user.accessToken, body: { subscription: { endpoint, keys } } });
    bindings.PUSH_ALLOW_HTTP = 'false';
    bindings.NEWS_DNS_RESOLVER = feedUrl('/dns-query');
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
});
