import { env } from 'cloudflare:workers';
import { unzipSync, strFromU8 } from 'fflate';
import { describe, expect, it } from 'vitest';
import { exportObjectKey, pruneExports } from '../../src/modules/exports/exports.service';
import { call, createUser, expectProblem, expectStatus, lastMailTo, type TestUser } from '../helpers/client';
import { IMAGE_FIXTURES } from '../helpers/images';
import { consume } from '../helpers/queues';
import { eventually } from '../notifications/helpers';
import { block, comment, follow, makeFriends, post, upload } from '../posts/helpers';
import { send, startDirect } from '../messaging/helpers';
import { createCommunity, join } from '../communities/helpers';

const ask = (user: TestUser) => call('/me/exports', { method: 'POST', token: user.accessToken });

/** Asks for an export (202) and waits until the queue consumer has built it. */
async function readyExport(user: TestUser): Promise<any> {
  const asked = await expectStatus(await ask(user), 202);
  expect(asked).toMatchObject({ status: 'pending', ready_at: null, expires_at: null, size_bytes: null, download_url: null });
  return eventually(async () => {
    const current = await expectStatus(await call(`/me/exports/${asked.id}`, { token: user.accessToken }), 200);
    expect(current.status).toBe('ready');
    return current;
  }, 10_000, 100);
}

async function download(user: TestUser, id: string): Promise<Record<string, Uint8Array>> {
  const res = await call(`/me/exports/${id}/archive`, { token: user.accessToken });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('application/zip');
  expect(res.headers.get('cache-control')).toBe('no-store');
  expect(res.headers.get('content-disposition')).toMatch(new RegExp(`^attachment; filename="kith-${user.username}-\\d{4}-\\d{2}-\\d{2}\\.zip"$`));
  return unzipSync(new Uint8Array(await res.arrayBuffer()));
}

const json = (files: Record<string, Uint8Array>, name: string) => JSON.parse(strFromU8(files[name]!));

describe('Data export', () => {
  it('should build an archive of everything the account holds, and only what it may read', async () => {
    const [me, friend, followed, blocked, stranger] = [await createUser(), await createUser(), await createUser(), await createUser(), await createUser()];
    await makeFriends(me, friend);
    const image = await upload(me, 'png');
    const mine = await post(me, { content: 'my #holiday photo', media_ids: [image.id], visibility: 'friends' });
    const theirs = await post(friend, { content: 'friend only words', visibility: 'friends' });
    await comment(me, theirs.id, 'my comment');
    await expectStatus(await call(`/posts/${theirs.id}/like`, { method: 'POST', token: me.accessToken }), 200);
    await follow(me, followed);
    await block(me, blocked);
    await post(stranger, { content: 'a stranger post', visibility: 'public' });
    const conversation = await startDirect(me, friend);
    await send(me, conversation.id, 'hello from me');
    await send(friend, conversation.id, 'hello back');

    const ready = await readyExport(me);
    expect(ready.download_url).toMatch(new RegExp(`/api/v1/me/exports/${ready.id}/archive$`));
    expect(ready.size_bytes).toBeGreaterThan(0);
    expect(Date.parse(ready.expires_at) - Date.parse(ready.ready_at)).toBe(7 * 24 * 60 * 60 * 1000);
    const files = await download(me, ready.id);

    expect(Object.keys(files)).toEqual(expect.arrayContaining(['README.txt', 'account.json', 'security_events.json', 'posts.json', 'comments.json', 'likes.json', 'following.json', 'followers.json', 'friends.json', 'friend_requests.json', 'follow_requests_rejected.json', 'blocks.json', 'mutes.json', 'communities.json', 'professional.json', 'notifications.json', 'media.json', `conversations/${conversation.id}.json`]));
    const account = json(files, 'account.json');
    expect(account.profile).toMatchObject({ id: me.id, username: me.username, email: me.email });
    expect(account.sessions.length).toBeGreaterThan(0);
    expect(JSON.stringify(account)).not.toMatch(/password_hash|pbkdf2/);

    const posts = json(files, 'posts.json');
    expect(posts).toHaveLength(1);
    expect(posts[0]).toMatchObject({ id: mine.id, content: 'my #holiday photo', visibility: 'friends', tags: ['holiday'] });
    const [mediaPath] = posts[0].media;
    expect(mediaPath).toBe(`media/${image.url.split('/').pop()}.png`);
    // The image as stored (the same bytes GET /media serves).
    const served = new Uint8Array(await (await call(image.url.replace(/^.*\/api\/v1/, ''))).arrayBuffer());
    expect(files[mediaPath]).toEqual(served);
    expect(json(files, 'media.json')).toEqual([expect.objectContaining({ path: mediaPath, content_type: 'image/png', width: IMAGE_FIXTURES.png.width })]);

    expect(json(files, 'comments.json')).toEqual([expect.objectContaining({ post_id: theirs.id, content: 'my comment' })]);
    expect(json(files, 'likes.json')).toEqual([expect.objectContaining({ post_id: theirs.id })]);
    expect(json(files, 'friends.json').map((f: any) => f.user.id)).toEqual([friend.id]);
    expect(json(files, 'following.json').map((f: any) => f.user.id)).toEqual(expect.arrayContaining([followed.id]));
    expect(json(files, 'blocks.json').map((b: any) => b.user.username)).toEqual([blocked.username]);
    const chat = json(files, `conversations/${conversation.id}.json`);
    expect(chat).toMatchObject({ id: conversation.id, kind: 'direct', complete: true, only_own_messages: false });
    expect(chat.messages.map((m: any) => m.content)).toEqual(['hello back', 'hello from me']);
    expect(json(files, 'security_events.json').map((e: any) => e.action)).toContain('account.export_requested');

    // Nothing of anyone else's beyond what the API shows the account (the friend's post is in its
    // notifications, as GET /notifications shows it; a stranger's post nowhere).
    const everything = Object.values(files).map((bytes) => strFromU8(bytes, true)).join('\n');
    expect(strFromU8(files['posts.json']!)).not.toContain('friend only words');
    expect(json(files, 'notifications.json').map((n: any) => n.type)).toContain('new_post');
    expect(everything).not.toContain('a stranger post');
    expect(everything).not.toContain(friend.email);

    // The account's address was told, and the download is in the security events.
    expect(await lastMailTo(me.email)).toMatchObject({ kind: 'export_ready' });
    const events = await expectStatus(await call('/me/security_events', { token: me.accessToken }), 200);
    expect(events.data.map((e: any) => e.action)).toEqual(expect.arrayContaining(['account.export_requested', 'account.export_downloaded']));
  });

  it('should hold only the account\'s own messages of a community\'s chat', async () => {
    const [owner, member] = [await createUser(), await createUser()];
    const community = await createCommunity(owner);
    await join(member, community.id);
    await send(owner, community.conversation_id, 'owner speaking');
    await send(member, community.conversation_id, 'member speaking');
    const files = await download(member, (await readyExport(member)).id);
    const chat = json(files, `conversations/${community.conversation_id}.json`);
    expect(chat).toMatchObject({ kind: 'community', only_own_messages: true, complete: true });
    expect(chat.messages.map((m: any) => m.content)).toEqual(['member speaking']);
  });

  it('should show a suspended account, and one that blocks the account, among the relations with empty names', async () => {
    const [me, follower, blockedBack, blockedOnly] = [await createUser(), await createUser(), await createUser(), await createUser()];
    await follow(follower, me);
    await env.DB.prepare('UPDATE users SET suspended_at = ?2 WHERE id = ?1').bind(follower.id, Date.now()).run();
    await block(me, blockedBack);
    await block(blockedBack, me);
    await block(me, blockedOnly);
    const files = await download(me, (await readyExport(me)).id);
    expect(json(files, 'followers.json')).toEqual([expect.objectContaining({ user: expect.objectContaining({ id: follower.id, username: '', display_name: '' }) })]);
    // As GET /me/blocks shows them: someone who blocks the account back is a hidden user.
    const blocks = new Map(json(files, 'blocks.json').map((b: any) => [b.user.id, b.user.username]));
    expect(blocks).toEqual(new Map([[blockedBack.id, ''], [blockedOnly.id, blockedOnly.username]]));
  });

  it('should answer the pending export to a second request, and one archive a day (429 with Retry-After)', async () => {
    const me = await createUser();
    const [first, second] = await Promise.all([ask(me), ask(me)]);
    const [a, b] = [await expectStatus(first, 202), await expectStatus(second, 202)];
    expect(b.id).toBe(a.id);
    await eventually(async () => expect((await expectStatus(await call(`/me/exports/${a.id}`, { token: me.accessToken }), 200)).status).toBe('ready'), 10_000, 100);
    const limited = await ask(me);
    await expectProblem(limited, 429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(23 * 60 * 60);
    const list = await expectStatus(await call('/me/exports', { token: me.accessToken }), 200);
    expect(list.data.map((e: any) => e.id)).toEqual([a.id]);
  });

  it('should keep exports to their owner, and the download to a session that signed in within 15 minutes', async () => {
    const [me, other] = [await createUser(), await createUser()];
    const ready = await readyExport(me);
    await expectProblem(await call(`/me/exports/${ready.id}`, { token: other.accessToken }), 404);
    await expectProblem(await call(`/me/exports/${ready.id}/archive`, { token: other.accessToken }), 404);
    await expectProblem(await call(`/me/exports/${ready.id}/archive`), 401);
    expect((await expectStatus(await call('/me/exports', { token: other.accessToken }), 200)).data).toEqual([]);
    await env.DB.prepare('UPDATE sessions SET created_at = ?2 WHERE user_id = ?1').bind(me.id, Date.now() - 16 * 60 * 1000).run();
    const stale = await expectProblem(await call(`/me/exports/${ready.id}/archive`, { token: me.accessToken }), 403);
    expect(stale.type).toMatch(/\/recent-sign-in-required$/);
    await expectProblem(await call('/me/exports/not-an-id', { token: me.accessToken }), 400, 'id');
  });

  it('should delete archives past their 7 days, and with the account', async () => {
    const [me, leaving] = [await createUser(), await createUser()];
    const ready = await readyExport(me);
    expect(await env.MEDIA.head(exportObjectKey(me.id, ready.id))).not.toBeNull();
    await pruneExports(env, Date.parse(ready.expires_at) - 1);
    expect(await env.MEDIA.head(exportObjectKey(me.id, ready.id))).not.toBeNull();
    expect(await pruneExports(env, Date.parse(ready.expires_at))).toBeGreaterThanOrEqual(1);
    expect(await env.MEDIA.head(exportObjectKey(me.id, ready.id))).toBeNull();
    await expectProblem(await call(`/me/exports/${ready.id}`, { token: me.accessToken }), 404);
    // With the row gone, a new one may be asked for.
    await expectStatus(await ask(me), 202);

    const theirs = await readyExport(leaving);
    await expectStatus(await call('/me', { method: 'DELETE', token: leaving.accessToken, body: { password: leaving.password } }), 204);
    expect(await env.MEDIA.head(exportObjectKey(leaving.id, theirs.id))).toBeNull();
  });

  it('should mark an export failed after its last attempt, and let the account ask again at once', async () => {
    const me = await createUser();
    const pending = await expectStatus(await ask(me), 202);
    // Let the queue's own delivery finish first (it builds the archive), then replay a build that cannot succeed.
    await eventually(async () => expect((await expectStatus(await call(`/me/exports/${pending.id}`, { token: me.accessToken }), 200)).status).toBe('ready'), 10_000, 100);
    await env.DB.prepare("UPDATE account_exports SET status = 'pending', ready_at = NULL, expires_at = NULL, size_bytes = NULL WHERE id = ?1").bind(pending.id).run();
    // A stored row the archive cannot read makes every attempt throw.
    await env.DB.prepare("INSERT INTO push_subscriptions (id, user_id, session_id, endpoint, p256dh, auth, alerts, policy, created_at, updated_at, failures) SELECT 'broken', ?1, id, 'not a url', 'k', 'a', '{}', 'all', 0, 0, 0 FROM sessions WHERE user_id = ?1 LIMIT 1").bind(me.id).run();
    const body = { type: 'export.build', export_id: pending.id, user_id: me.id, base_url: 'http://localhost' };
    const early = await consume('kith-exports', [body], 1);
    expect(early.result.retryMessages).toHaveLength(1);
    const last = await consume('kith-exports', [body], 3);
    expect(last.result.explicitAcks).toHaveLength(1);
    expect((await expectStatus(await call(`/me/exports/${pending.id}`, { token: me.accessToken }), 200)).status).toBe('failed');
    await env.DB.prepare("DELETE FROM push_subscriptions WHERE id = 'broken'").run();
    // A failed export does not count against the day.
    await expectStatus(await ask(me), 202);
    // An invalid message is dropped, never retried.
    const invalid = await consume('kith-exports', [{ type: 'export.build', export_id: '' }]);
    expect(invalid.result.explicitAcks).toHaveLength(1);
  });
});
