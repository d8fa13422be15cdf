import type { Message, NotificationFrame } from '@kith/client';
import { describe, expect, it } from 'vitest';
import { IMAGE_FIXTURES } from '../../../test/helpers/images';
import { kithClient, PASSWORD, signUp, until } from './helpers';
import source from './journey.test.ts?raw';

/**
 * A new user's journey through @kith/client (openapi-typescript types, openapi-fetch calls, the
 * reconnecting sockets), compiled by `npm run typecheck` in strict mode with no casts and no `any`.
 * Every call goes through the validating fetch, so what the types promise is what the worker sends.
 */

/** The data of a successful call; a failure fails the test with the problem the worker sent. */
function ok<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.data === undefined) throw new Error(`${result.response.status}: ${JSON.stringify(result.error)}`);
  return result.data;
}

describe('A typed client journey (@kith/client)', () => {
  it('should register, log in, post, like, comment, follow, read the feed, chat and get notifications', async () => {
    // register (the client keeps the tokens it is given) → log in on a second device
    const signup = kithClient();
    const alice = await signUp(signup, 'alice');
    expect(signup.session?.access_token).toMatch(/^eyJ/);
    const asAlice = kithClient();
    const login = ok(await asAlice.api.POST('/api/v1/auth/login', { body: { login: alice.username, password: PASSWORD } }));
    expect(login.token_type).toBe('Bearer');
    expect(asAlice.session).toEqual({ access_token: login.access_token, refresh_token: login.refresh_token });
    expect(ok(await asAlice.api.GET('/api/v1/me')).username).toBe(alice.username);

    // Alice's live notifications, from before anyone acts
    const notifications: NotificationFrame[] = [];
    const inbox = asAlice.notifications({ heartbeatMs: 0, onNotification: (n) => notifications.push(n) });
    await inbox.opened();

    // profile → avatar
    const me = ok(await asAlice.api.PATCH('/api/v1/me', { body: { bio: 'Counting things.', location: { country: 'gb', city: 'London' } } }));
    expect(me.location?.country).toBe('GB');
    const avatar = ok(
      await asAlice.api.PUT('/api/v1/me/avatar', {
        body: { file: new Blob([IMAGE_FIXTURES.png.bytes], { type: 'image/png' }) },
        // The body type covers every documented media type (multipart, or the raw image).
        bodySerializer(body) {
          const form = new FormData();
          form.set('file', body instanceof Blob ? body : body.file, 'avatar.png');
          return form;
        },
      }),
    );
    expect(avatar.avatar_url).toEqual(expect.stringContaining('/api/v1/media/'));

    // post → like → comment → follow, by a second user
    const post = ok(await asAlice.api.POST('/api/v1/posts', { body: { content: 'Hello from @kith/client', visibility: 'public' } }));
    expect(post.target_user).toBeNull();
    const asBob = kithClient();
    const bob = await signUp(asBob, 'bob');
    const postPath = { params: { path: { id: post.id } } };
    expect(ok(await asBob.api.POST('/api/v1/posts/{id}/like', postPath))).toEqual({ liked: true, like_count: 1 });
    const comment = ok(await asBob.api.POST('/api/v1/posts/{id}/comments', { ...postPath, body: { content: 'Nice one.' } }));
    expect(comment.parent_id).toBeNull();
    expect(ok(await asBob.api.POST('/api/v1/users/{id}/follow', { params: { path: { id: alice.id } } }))).toEqual({ following: true, requested: false });

    // feed
    const feed = ok(await asBob.api.GET('/api/v1/feed/home', { params: { query: { limit: 10 } } }));
    const inFeed = feed.data.find((p) => p.id === post.id);
    expect(inFeed?.author.username).toBe(alice.username);
    expect(inFeed?.comment_count).toBe(1);

    // chat: Bob writes, Alice finds the conversation and opens its socket, Bob writes again
    const first = ok(await asBob.api.POST('/api/v1/messages', { body: { receiver_id: alice.id, content: 'Hi Alice', client_id: 'journey-1' } }));
    expect(first.seq).toBe(1);
    const conversations = ok(await asAlice.api.GET('/api/v1/conversations'));
    expect(conversations.data.map((c) => c.id)).toContain(first.conversation_id);
    const live: Message[] = [];
    const chat = asAlice.conversation(first.conversation_id, { heartbeatMs: 0, onMessage: (m) => live.push(m) });
    await chat.opened();
    expect(chat.lastSeq).toBe(1);
    const chatPath = { params: { path: { id: first.conversation_id } } };
    ok(await asBob.api.POST('/api/v1/conversations/{id}/messages', { ...chatPath, body: { content: 'Coffee at six?', client_id: 'journey-2' } }));
    await until(() => live.length === 1, 'the live message');
    expect(live.map((m) => [m.seq, m.content, m.sender?.username])).toEqual([[2, 'Coffee at six?', bob.username]]);
    const reply = ok(await asAlice.api.POST('/api/v1/conversations/{id}/messages', { ...chatPath, body: { content: 'See you there', client_id: 'journey-3' } }));
    await until(() => live.length === 2, 'her own message on her socket');
    expect(live[1]?.id).toBe(reply.id);
    chat.close();

    // notifications, live: the types narrow `data` on `type`
    const expected: NotificationFrame['type'][] = ['post_like', 'post_comment', 'new_follower', 'new_message'];
    await until(() => expected.every((type) => notifications.some((n) => n.type === type)), 'the like, comment, follow and message notifications');
    const like = notifications.find((n): n is Extract<NotificationFrame, { type: 'post_like' }> => n.type === 'post_like');
    expect(like?.data.post_id).toBe(post.id);
    const message = notifications.find((n): n is Extract<NotificationFrame, { type: 'new_message' }> => n.type === 'new_message');
    expect(message?.data.conversation_id).toBe(first.conversation_id);
    inbox.close();
    const read = ok(await asAlice.api.POST('/api/v1/notifications/read', { body: {} }));
    expect(read.unread_count).toBe(0);

    // sign out: the refresh token is dead, the client forgets it
    const refreshToken = asAlice.session?.refresh_token;
    await asAlice.signOut();
    expect(asAlice.session).toBeNull();
    const again = await kithClient().api.POST('/api/v1/auth/refresh', { body: { refresh_token: refreshToken ?? '' } });
    expect(again.response.status).toBe(401);
  });
});

describe('The journey source', () => {
  it('should use the generated types as they are: no casts, no any, no non-null assertions', () => {
    const journey = source.slice(0, source.indexOf("describe('The journey source'"));
    const code = journey.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
    expect(code).toContain('asAlice.api.GET');
    expect(code.match(/\bas\s+(?!const\b)[\w{[(]|\bany\b|<any>|!\.|!\)/g) ?? []).toEqual([]);
  });
});
