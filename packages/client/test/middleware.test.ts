import { BOOKMARK_HEADER, type Session } from '@kith/client';
import { describe, expect, it } from 'vitest';
import { validatingFetch } from '../../../test/contract/validating-fetch';
import { expired, kithClient, recordingFetch, signUp } from './helpers';

const REFRESH = '/api/v1/auth/refresh';

describe('Token refresh (rotating refresh tokens, single-flight)', () => {
  it('should answer N concurrent 401s with exactly one refresh call, then retry every request with the new token', async () => {
    const recorded = recordingFetch();
    const changes: (Session | null)[] = [];
    const kith = kithClient({ fetch: recorded.fetch, onSessionChange: (s) => changes.push(s) });
    const me = await signUp(kith, 'flight');
    const signedUp = kith.session;
    if (!signedUp) throw new Error('register left no session');
    // The access token has expired (same user, same session); the refresh token is still good.
    const stale = await expired(signedUp.access_token);
    kith.setSession({ ...signedUp, access_token: stale });
    recorded.requests.length = 0;

    const results = await Promise.all(Array.from({ length: 8 }, () => kith.api.GET('/api/v1/me')));

    expect(results.map((r) => r.response.status)).toEqual(Array(8).fill(200));
    expect(results.map((r) => r.data?.id)).toEqual(Array(8).fill(me.id));
    expect(recorded.count(REFRESH), 'one refresh for eight 401s').toBe(1);
    // 8 refused, 1 refresh, 8 retried.
    expect(recorded.count('/api/v1/me')).toBe(16);
    const rotated = kith.session;
    expect(rotated?.refresh_token).not.toBe(signedUp.refresh_token);
    // (The new access token may equal the one from the sign-up byte for byte: same claims, same second.)
    expect(rotated?.access_token).not.toBe(stale);
    expect(changes.at(-1)).toEqual(rotated);
    const retries = recorded.requests.slice(-8).map((r) => r.headers.get('Authorization'));
    expect(new Set(retries)).toEqual(new Set([`Bearer ${rotated?.access_token}`]));

    // An explicit refresh rotates again (through the same single-flight path).
    expect((await kith.refresh())?.refresh_token).not.toBe(rotated?.refresh_token);
    expect(recorded.count(REFRESH)).toBe(2);

    // The rotated-away refresh token is single use: replaying it revokes the whole family, and the
    // client, whose next refresh is then refused, forgets its session.
    const replay = await kithClient().api.POST(REFRESH, { body: { refresh_token: signedUp.refresh_token } });
    expect(replay.response.status).toBe(401);
    const current = kith.session;
    if (!current) throw new Error('the session went away too early');
    kith.setSession({ ...current, access_token: await expired(current.access_token) });
    const after = await kith.api.GET('/api/v1/me');
    expect(after.response.status).toBe(401);
    expect(kith.session).toBeNull();
    expect(changes.at(-1)).toBeNull();
  });

  it('should not refresh on a 401 from the sign-in itself, nor when there is no session', async () => {
    const recorded = recordingFetch();
    const kith = kithClient({ fetch: recorded.fetch });
    const user = await signUp(kith, 'wrongpw');
    const before = kith.session;
    const wrong = await kith.api.POST('/api/v1/auth/login', { body: { login: user.username, password: 'not the password at all' } });
    expect(wrong.response.status).toBe(401);
    expect(recorded.count(REFRESH)).toBe(0);
    expect(kith.session).toEqual(before);

    const anonymous = kithClient({ fetch: recorded.fetch });
    expect((await anonymous.api.GET('/api/v1/me')).response.status).toBe(401);
    expect(recorded.count(REFRESH)).toBe(0);
  });
});

describe('X-D1-Bookmark carried over', () => {
  it('should send the newest bookmark it has seen with every request, and never go back to an older one', async () => {
    // A stand-in for the replica layer's header only: each answer (already validated) carries the next
    // bookmark of a list instead of the worker's own, and none once the list is used up, so the test
    // decides their order (the worker's own are carried over in the next test).
    const issued = ['00000001-00000002-00000003-' + 'a'.repeat(32), '00000001-00000002-00000009-' + 'b'.repeat(32), '00000001-00000002-00000005-' + 'c'.repeat(32)];
    let next = 0;
    const withBookmark = async (request: Request) => {
      const response = await validatingFetch(request);
      const headers = new Headers(response.headers);
      headers.delete(BOOKMARK_HEADER);
      if (next < issued.length) headers.set(BOOKMARK_HEADER, issued[next++]!);
      return new Response(response.body, { status: response.status, headers });
    };
    const recorded = recordingFetch(withBookmark);
    const kith = kithClient({ fetch: recorded.fetch });
    expect(kith.bookmark).toBeNull();

    await signUp(kith, 'bookmark'); // answered with issued[0]
    await kith.api.GET('/api/v1/me'); // sends issued[0], answered with issued[1]
    await kith.api.GET('/api/v1/feed/home'); // sends issued[1]; answered with the older issued[2], kept out
    await kith.api.GET('/api/v1/me');
    const sent = recorded.requests.map((r) => r.headers.get(BOOKMARK_HEADER));
    expect(sent).toEqual([null, issued[0], issued[1], issued[1]]);
    expect(kith.bookmark).toBe(issued[1]);
  });

  it("should carry the worker's own bookmarks, and be harmless when it sends none or refuses the one sent", async () => {
    const recorded = recordingFetch();
    const initial = 'not-a-bookmark-this-server-issued';
    const kith = kithClient({ fetch: recorded.fetch, bookmark: initial });
    await signUp(kith, 'realmark');
    expect((await kith.api.POST('/api/v1/posts', { body: { content: 'read your writes', visibility: 'public' } })).response.status).toBe(201);
    expect((await kith.api.GET('/api/v1/feed/home')).response.status).toBe(200);
    // Each request carries the newest bookmark answered before it (at first, the one the client was given).
    let expected: string | null = initial;
    for (const [i, request] of recorded.requests.entries()) {
      expect(request.headers.get(BOOKMARK_HEADER), `request ${i}`).toBe(expected);
      expected = recorded.answers[i]?.headers.get(BOOKMARK_HEADER) ?? expected;
    }
    expect(kith.bookmark).toBe(expected);
  });
});
