import { describe, expect, it } from 'vitest';
import { call, createUser, expectStatus, type TestUser } from '../helpers/client';
import { IMAGE_FIXTURES } from '../helpers/images';
import { act, createStaff } from '../moderation/helpers';

const cacheOf = (res: Response) => res.headers.get('X-Cache');

/** Two anonymous reads of one path: the first made (MISS), the second from the edge cache (HIT), same body. */
async function missThenHit(path: string): Promise<any> {
  const first = await call(path);
  const body = await expectStatus(first, 200);
  expect(cacheOf(first)).toBe('MISS');
  const second = await call(path);
  expect(await expectStatus(second, 200)).toEqual(body);
  expect(cacheOf(second)).toBe('HIT');
  expect(second.headers.get('Cache-Control')).toBe('public, max-age=0, must-revalidate');
  expect(second.headers.get('Vary')).toContain('Authorization');
  return body;
}

async function post(author: TestUser, body: Record<string, unknown>): Promise<any> {
  return expectStatus(await call('/posts', { token: author.accessToken, body }), 201);
}

describe('Edge cache (Cache API)', () => {
  it('should serve an anonymous profile read from the cache and purge it when the profile changes, under the old username too', async () => {
    const user = await createUser();
    await missThenHit(`/users/${user.id}`);
    await missThenHit(`/users/${user.username.toUpperCase()}`);
    await expectStatus(await call('/me', { method: 'PATCH', token: user.accessToken, body: { display_name: 'Renamed Person', username: `${user.username}_2` } }), 200);

    const byId = await call(`/users/${user.id}`);
    expect(cacheOf(byId)).toBe('MISS');
    expect((await expectStatus(byId, 200)).display_name).toBe('Renamed Person');
    // The old name now names nobody: a 404, never the cached profile.
    expect((await call(`/users/${user.username}`)).status).toBe(404);
  });

  it('should answer an isolate\'s fresh copy before the session and the rate limiter, with a bookmark, and drop it at a purge', async () => {
    const user = await createUser();
    const path = `/users/${user.id}`;
    const headersOf = (res: Response) => [...res.headers].filter(([name]) => !['x-request-id', 'x-d1-bookmark', 'date', 'content-length'].includes(name));
    // The first read is made (MISS), the second is the app's answer from the cache (HIT): the front
    // knows the path from then on, with that answer's headers.
    expect(cacheOf(await call(path))).toBe('MISS');
    const viaApp = await call(path);
    expect(cacheOf(viaApp)).toBe('HIT');
    await expectStatus(viaApp, 200);
    // The general limit is 600 requests a minute per address (60 blocks of 10); a copy answered by the
    // front costs no D1 read and is not counted, so 700 reads of a hot profile from one address all pass.
    const ip = '198.51.100.77';
    const statuses = new Map<number, number>();
    let last: Response | undefined;
    for (let i = 0; i < 700; i++) {
      last = await call(path, { ip });
      statuses.set(last.status, (statuses.get(last.status) ?? 0) + 1);
      if (last.status === 200) expect(cacheOf(last)).toBe('HIT');
      await last.arrayBuffer();
    }
    expect(Object.fromEntries(statuses)).toEqual({ 200: 700 });
    expect(last!.headers.get('X-D1-Bookmark')).toMatch(/^[0-9a-f-]+\.[\w-]{22}$/);
    expect(last!.headers.get('X-Request-Id')).toBeTruthy();
    // The front answers with the headers the app's answer had (security headers, Vary, Cache-Control), HIT.
    expect(headersOf(last!)).toEqual(headersOf(viaApp));
    const ownId = await call(path, { ip, headers: { 'X-Request-Id': 'client-id-1' } });
    expect(ownId.headers.get('X-Request-Id')).toBe('client-id-1');
    // A path the isolate never served from the cache still goes through the limiter: the same address is
    // refused once its minute is spent on reads that are not copies (up to two windows' worth of reads,
    // in case a window ends during the loop).
    const other = await createUser();
    let refused = 0;
    for (let i = 0; i < 1300 && refused === 0; i++) {
      const res = await call(`/users/${other.id}/followers`, { ip });
      if (res.status === 429) refused++;
      await res.arrayBuffer();
    }
    expect(refused).toBe(1);
    // A change purges the copy: the next read is made again, with the new name.
    await expectStatus(await call('/me', { method: 'PATCH', token: user.accessToken, body: { display_name: 'Front Purged' } }), 200);
    const after = await call(path, { ip: '198.51.100.78' });
    expect(cacheOf(after)).toBe('MISS');
    expect((await expectStatus(after, 200)).display_name).toBe('Front Purged');
  });

  it('should never store an answer made for a signed-in caller, nor serve one from the cache', async () => {
    const author = await createUser();
    const reader = await createUser();
    const other = await createUser();
    await expectStatus(await call(`/users/${author.id}/follow`, { method: 'POST', token: reader.accessToken }), 200);

    const signedIn = await call(`/users/${author.id}`, { token: reader.accessToken });
    const seen = await expectStatus(signedIn, 200);
    expect(seen.relationship.following).toBe(true);
    expect(cacheOf(signedIn)).toBe('BYPASS');
    expect(signedIn.headers.get('Cache-Control')).toBe('private, no-store');

    // Anonymous callers get their own copy (no relationship), and the next signed-in caller gets theirs.
    const anonymous = await missThenHit(`/users/${author.id}`);
    expect(anonymous.relationship).toBeUndefined();
    const otherView = await call(`/users/${author.id}`, { token: other.accessToken });
    expect((await expectStatus(otherView, 200)).relationship.following).toBe(false);
    expect(cacheOf(otherView)).toBe('BYPASS');

    // A private post read by its author is never in the shared cache: anonymous callers get 404.
    const secret = await post(author, { content: 'only for me', visibility: 'private' });
    await expectStatus(await call(`/posts/${secret.id}`, { token: author.accessToken }), 200);
    expect((await call(`/posts/${secret.id}`)).status).toBe(404);
    expect((await call(`/posts/${secret.id}`)).status).toBe(404);
  });

  it('should purge a cached post when it is edited and when it is deleted', async () => {
    const author = await createUser();
    const created = await post(author, { content: 'first words' });
    await missThenHit(`/posts/${created.id}`);
    await expectStatus(await call(`/posts/${created.id}`, { method: 'PATCH', token: author.accessToken, body: { content: 'second words' } }), 200);
    const edited = await call(`/posts/${created.id}`);
    expect(cacheOf(edited)).toBe('MISS');
    expect((await expectStatus(edited, 200)).content).toBe('second words');

    await call(`/posts/${created.id}`);
    expect((await call(`/posts/${created.id}`, { method: 'DELETE', token: author.accessToken })).status).toBe(204);
    expect((await call(`/posts/${created.id}`)).status).toBe(404);
  });

  it("should purge a cached post when moderation removes one of its comments, so its comment_count is right at once", async () => {
    const [author, commenter, reporter, staff] = await Promise.all([createUser(), createUser(), createUser(), createStaff('moderator')]);
    const created = await post(author, { content: 'comment away' });
    const comment = await expectStatus(await call(`/posts/${created.id}/comments`, { token: commenter.accessToken, body: { content: 'a rude remark' } }), 201);
    expect((await missThenHit(`/posts/${created.id}`)).comment_count).toBe(1);
    const filed = await expectStatus(await call('/reports', { token: reporter.accessToken, body: { subject_type: 'comment', subject_id: comment.id, category: 'harassment' } }), 201);
    await expectStatus(await call(`/admin/reports/${filed.id}/resolve`, { token: staff.accessToken, body: { action: 'remove_content' } }), 200);
    const after = await call(`/posts/${created.id}`);
    expect(cacheOf(after)).toBe('MISS');
    expect((await expectStatus(after, 200)).comment_count).toBe(0);
  });

  it('should drop the cached profile and posts of a suspended account', async () => {
    const [author, admin] = await Promise.all([createUser(), createStaff('admin')]);
    const created = await post(author, { content: 'before the suspension' });
    await missThenHit(`/users/${author.id}`);
    await missThenHit(`/posts/${created.id}`);
    await act(admin, author, 'suspend');
    expect((await call(`/users/${author.id}`)).status).toBe(404);
    expect((await call(`/posts/${created.id}`)).status).toBe(404);
  });

  it('should cache the communities list per query and show a new community at once', async () => {
    const owner = await createUser();
    const page = await missThenHit('/communities?sort=new&limit=5');
    const created = await expectStatus(await call('/communities', { token: owner.accessToken, body: { name: 'Edge Cachers' } }), 201);
    const after = await call('/communities?limit=5&sort=new');
    expect(cacheOf(after)).toBe('MISS');
    const ids = (await expectStatus(after, 200)).data.map((c: { id: string }) => c.id);
    expect(ids[0]).toBe(created.id);
    expect(ids).not.toEqual(page.data.map((c: { id: string }) => c.id));
  });

  it('should cache media bytes with their immutable Cache-Control and purge them when the image is deleted', async () => {
    const user = await createUser();
    const form = new FormData();
    form.append('file', new Blob([IMAGE_FIXTURES.png.bytes], { type: 'image/png' }), 'a.png');
    const me = await expectStatus(await call('/me/avatar', { method: 'PUT', token: user.accessToken, body: form }), 200);
    const path = new URL(me.avatar_url).pathname;
    const first = await call(path);
    expect(first.status).toBe(200);
    expect(cacheOf(first)).toBe('MISS');
    const bytes = new Uint8Array(await first.arrayBuffer());
    const second = await call(path);
    expect(cacheOf(second)).toBe('HIT');
    expect(second.headers.get('Cache-Control')).toBe('public, max-age=31536000, immutable');
    expect(new Uint8Array(await second.arrayBuffer())).toEqual(bytes);
    const signedIn = await call(path, { token: user.accessToken });
    expect(cacheOf(signedIn)).toBe('BYPASS');
    expect(signedIn.headers.get('Cache-Control')).toBe('private, max-age=31536000, immutable');
    await signedIn.arrayBuffer();

    expect((await call('/me/avatar', { method: 'DELETE', token: user.accessToken })).status).toBe(204);
    expect((await call(path)).status).toBe(404);
  });
});
