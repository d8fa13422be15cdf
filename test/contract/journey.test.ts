import createClient, { type Client } from 'openapi-fetch';
import { describe, expect, it } from 'vitest';
import { randomIp, uniqueName } from '../helpers/client';
import { IMAGE_FIXTURES } from '../helpers/images';
import type { components, paths } from './kith-api';
import source from './journey.test.ts?raw';
import { ORIGIN, validatingFetch } from './validating-fetch';

/**
 * A new user's journey through a client generated from the served document (openapi-typescript types,
 * openapi-fetch calls), compiled by `npm run typecheck` in strict mode with no casts and no `any`. Every
 * call goes through the validating fetch, so what the types promise is what the worker sends.
 */

type Api = Client<paths>;
type Notification = components['schemas']['Notification'];

function client(token?: string): Api {
  const headers: Record<string, string> = { 'CF-Connecting-IP': randomIp() };
  if (token) headers.Authorization = `Bearer ${token}`;
  return createClient<paths>({ baseUrl: ORIGIN, fetch: validatingFetch, headers });
}

/** The data of a successful call; a failure fails the test with the problem the worker sent. */
function ok<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.data === undefined) throw new Error(`${result.response.status}: ${JSON.stringify(result.error)}`);
  return result.data;
}

async function register(name: string) {
  const username = uniqueName(name);
  const password = 'correct horse battery staple';
  const body = { email: `${username}@example.com`, username, password, display_name: `${name} journey` };
  const account = ok(await client().POST('/api/v1/auth/register', { body }));
  return { username, password, account };
}

/** Polls an inbox (notifications arrive in the background) until `check` finds what it looks for. */
async function waitForNotification<T extends Notification>(api: Api, check: (n: Notification) => n is T): Promise<T> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const page = ok(await api.GET('/api/v1/notifications', { params: { query: { unread: true, limit: 50 } } }));
    const found = page.data.find(check);
    if (found) return found;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('the notification never arrived');
}

describe('A typed client journey (openapi-typescript + openapi-fetch)', () => {
  it('should register, sign in, set up a profile, post, connect, feed, message and read notifications', async () => {
    // register → login → refresh
    const alice = await register('alice');
    expect(alice.account.token_type).toBe('Bearer');
    expect(alice.account.user.avatar_url).toBeNull();
    const login = ok(await client().POST('/api/v1/auth/login', { body: { login: alice.username, password: alice.password } }));
    const refreshed = ok(await client().POST('/api/v1/auth/refresh', { body: { refresh_token: login.refresh_token } }));
    expect(refreshed.refresh_token).not.toBe(login.refresh_token);
    const asAlice = client(refreshed.access_token);

    // profile → avatar
    const me = ok(await asAlice.PATCH('/api/v1/me', { body: { bio: 'Counting things.', location: { country: 'gb', city: 'London' } } }));
    expect(me.location?.country).toBe('GB');
    const avatar = ok(
      await asAlice.PUT('/api/v1/me/avatar', {
        body: { file: new Blob([IMAGE_FIXTURES.png.bytes], { type: 'image/png' }) },
        // The body type covers every documented media type (multipart, or the raw image).
        bodySerializer(body) {
          const form = new FormData();
          form.set('file', body instanceof Blob ? body : body.file, 'avatar.png');
          return form;
        },
      }),
    );
    const avatarUrl = avatar.avatar_url;
    if (avatarUrl === null) throw new Error('the avatar upload set no avatar_url');
    const profile = ok(await client().GET('/api/v1/users/{id_or_username}', { params: { path: { id_or_username: alice.username } } }));
    expect(profile).toMatchObject({ id: alice.account.user.id, bio: 'Counting things.', avatar_url: avatarUrl });

    // post → like → comment → follow, by a second user
    const post = ok(await asAlice.POST('/api/v1/posts', { body: { content: 'Hello from a typed client', visibility: 'public' } }));
    expect(post.target_user).toBeNull();
    const bob = await register('bob');
    const asBob = client(bob.account.access_token);
    const postPath = { params: { path: { id: post.id } } };
    expect(ok(await asBob.POST('/api/v1/posts/{id}/like', postPath))).toEqual({ liked: true, like_count: 1 });
    const comment = ok(await asBob.POST('/api/v1/posts/{id}/comments', { ...postPath, body: { content: 'Nice one.' } }));
    expect(comment.parent_id).toBeNull();
    const follow = ok(await asBob.POST('/api/v1/users/{id}/follow', { params: { path: { id: alice.account.user.id } } }));
    expect(follow).toEqual({ following: true, requested: false });

    // feed
    const feed = ok(await asBob.GET('/api/v1/feed/home', { params: { query: { limit: 10 } } }));
    const inFeed = feed.data.find((p) => p.id === post.id);
    expect(inFeed?.author.username).toBe(alice.username);
    expect(inFeed?.comment_count).toBe(1);

    // message
    const message = ok(await asBob.POST('/api/v1/messages', { body: { receiver_id: alice.account.user.id, content: 'Hi Alice', client_id: 'journey-1' } }));
    expect(message.seq).toBe(1);
    expect(message.sender?.id).toBe(bob.account.user.id);
    const history = ok(await asAlice.GET('/api/v1/conversations/{id}/messages', { params: { path: { id: message.conversation_id } } }));
    expect(history.data.map((m) => m.content)).toEqual(['Hi Alice']);

    // notifications: the types narrow `data` on `type`
    const isNewMessage = (n: Notification): n is Extract<Notification, { type: 'new_message' }> => n.type === 'new_message';
    const notification = await waitForNotification(asAlice, isNewMessage);
    expect(notification.data.conversation_id).toBe(message.conversation_id);
    expect(notification.data.sender?.username).toBe(bob.username);
    const isLike = (n: Notification): n is Extract<Notification, { type: 'post_like' }> => n.type === 'post_like';
    expect((await waitForNotification(asAlice, isLike)).data.post_id).toBe(post.id);
    const read = ok(await asAlice.POST('/api/v1/notifications/read', { body: {} }));
    expect(read.unread_count).toBe(0);
    expect(ok(await asAlice.GET('/api/v1/notifications/unread_count'))).toEqual({ unread_count: 0 });
  });
});

describe('The journey source', () => {
  it('should use the generated types as they are: no casts, no any, no non-null assertions', () => {
    const journey = source.slice(0, source.indexOf("describe('The journey source'"));
    const code = journey.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
    expect(code).toContain('createClient<paths>');
    expect(code.match(/\bas\s+(?!const\b)[\w{[(]|\bany\b|<any>|!\.|!\)/g) ?? []).toEqual([]);
  });
});
