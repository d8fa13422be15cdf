import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { call, createUser, expectProblem, expectStatus, type TestUser } from '../helpers/client';
import { notifications, waitForNotification } from '../notifications/helpers';
import { eventually, inboxRpc } from '../notifications/stream-helpers';
import { follow, post } from '../posts/helpers';
import { send, startDirect } from '../messaging/helpers';
import { nonsenseWord } from '../moderation/helpers';

const FILTER_KEYS = ['action', 'context', 'created_at', 'expires_at', 'id', 'keywords', 'title'];

const createRaw = (user: TestUser, body: unknown) => call('/filters', { token: user.accessToken, body });
async function createFilter(user: TestUser, body: Record<string, unknown>): Promise<any> {
  return expectStatus(await createRaw(user, { title: 'F', context: ['home'], ...body }), 201);
}
const feed = async (user: TestUser, path: string) => (await expectStatus(await call(`${path}${path.includes('?') ? '&' : '?'}limit=100`, { token: user.accessToken }), 200)).data;

describe('Personal filters: managing them', () => {
  let user: TestUser;
  beforeAll(async () => {
    user = await createUser();
  });

  it('should create, read, list, change and delete a filter (Mastodon v2 shape)', async () => {
    const created = await createFilter(user, { title: 'Spoilers', keywords: [{ keyword: 'finale' }, { keyword: 'ending', whole_word: false }], context: ['home', 'discover'], action: 'warn', expires_in: 3600 });
    expect(Object.keys(created).sort()).toEqual(FILTER_KEYS);
    expect(created).toMatchObject({ title: 'Spoilers', context: ['home', 'discover'], action: 'warn' });
    expect(created.keywords.map((k: any) => [k.keyword, k.whole_word])).toEqual([['finale', true], ['ending', false]]);
    expect(Date.parse(created.expires_at) - Date.now()).toBeGreaterThan(3500_000);
    expect(await expectStatus(await call(`/filters/${created.id}`, { token: user.accessToken }), 200)).toEqual(created);
    expect((await expectStatus(await call('/filters', { token: user.accessToken }), 200)).data.map((f: any) => f.id)).toContain(created.id);
    const changed = await expectStatus(await call(`/filters/${created.id}`, { method: 'PATCH', token: user.accessToken, body: { action: 'hide', keywords: [{ keyword: 'twist' }], expires_in: null } }), 200);
    expect(changed).toMatchObject({ title: 'Spoilers', action: 'hide', expires_at: null, context: ['home', 'discover'] });
    expect(changed.keywords.map((k: any) => k.keyword)).toEqual(['twist']);
    await expectStatus(await call(`/filters/${created.id}`, { method: 'DELETE', token: user.accessToken }), 204);
    await expectProblem(await call(`/filters/${created.id}`, { token: user.accessToken }), 404);
  });

  it("should answer 404 for someone else's filter", async () => {
    const mine = await createFilter(user, { keywords: [{ keyword: 'x' }] });
    const other = await createUser();
    await expectProblem(await call(`/filters/${mine.id}`, { token: other.accessToken }), 404);
    await expectProblem(await call(`/filters/${mine.id}`, { method: 'PATCH', token: other.accessToken, body: { title: 'mine now' } }), 404);
    await expectProblem(await call(`/filters/${mine.id}`, { method: 'DELETE', token: other.accessToken }), 404);
  });

  it('should answer 400 naming the field for bad input, and 409 past 100 filters', async () => {
    const ok = { title: 'T', keywords: [{ keyword: 'k' }], context: ['home'] };
    await expectProblem(await createRaw(user, { ...ok, title: ' ' }), 400, 'title');
    await expectProblem(await createRaw(user, { ...ok, keywords: [] }), 400, 'keywords');
    await expectProblem(await createRaw(user, { ...ok, keywords: [{ keyword: 'k'.repeat(101) }] }), 400, 'keywords.0.keyword');
    await expectProblem(await createRaw(user, { ...ok, context: [] }), 400, 'context');
    await expectProblem(await createRaw(user, { ...ok, context: ['home', 'home'] }), 400, 'context');
    await expectProblem(await createRaw(user, { ...ok, context: ['timeline'] }), 400, 'context.0');
    await expectProblem(await createRaw(user, { ...ok, action: 'mute' }), 400, 'action');
    await expectProblem(await createRaw(user, { ...ok, expires_in: 0 }), 400, 'expires_in');
    const full = await createUser();
    for (let i = 0; i < 100; i++) {
      await env.DB.prepare(`INSERT INTO filters (id, user_id, title, context, action, created_at) VALUES (?1, ?2, 'x', '["home"]', 'warn', ?3)`)
        .bind(`01JC7F${String(i).padStart(3, '0')}${full.id.slice(9)}`, full.id, i)
        .run();
    }
    await expectProblem(await createRaw(full, ok), 409);
  });
});

describe('Personal filters: where they apply', () => {
  let reader: TestUser;
  let author: TestUser;
  let word: string;
  let hidden: any;
  let warned: any;
  let plain: any;
  let community: any;
  beforeAll(async () => {
    [reader, author] = [await createUser(), await createUser()];
    word = nonsenseWord('fw');
    await follow(reader, author);
    community = await expectStatus(await call('/communities', { token: author.accessToken, body: { name: `Filtered ${Date.now()}` } }), 201);
    hidden = await post(author, { content: `the ${word} twist`, community_id: community.id });
    warned = await post(author, `a ${word.toUpperCase()}-adjacent spoiler`);
    plain = await post(author, 'nothing to see');
  });

  it('should hide or warn in the contexts it lists, and nowhere else', async () => {
    const hide = await createFilter(reader, { title: 'Hide it', keywords: [{ keyword: 'twist' }], context: ['home', 'community', 'profile', 'discover'], action: 'hide' });
    const warn = await createFilter(reader, { title: 'Careful', keywords: [{ keyword: word }], context: ['home', 'discover', 'profile'], action: 'warn' });
    const home = await feed(reader, '/feed/home');
    const byId = new Map<string, any>(home.map((p: any) => [p.id, p]));
    expect(byId.has(hidden.id)).toBe(false);
    expect(byId.get(warned.id)?.filtered).toEqual([{ filter_id: warn.id, title: 'Careful', keyword_matches: [word] }]);
    expect(byId.get(plain.id)).toBeDefined();
    expect(byId.get(plain.id)?.filtered).toBeUndefined();
    const discover = await feed(reader, '/feed/discover');
    expect(discover.map((p: any) => p.id)).not.toContain(hidden.id);
    expect(discover.find((p: any) => p.id === warned.id)?.filtered).toHaveLength(1);
    expect((await feed(reader, `/communities/${community.id}/posts`)).map((p: any) => p.id)).not.toContain(hidden.id);
    const profile = await feed(reader, `/users/${author.id}/posts`);
    expect(profile.map((p: any) => p.id)).toEqual([plain.id, warned.id]);
    expect(profile[1].filtered[0].filter_id).toBe(warn.id);
    // A single post read is no filter context; the author's own lists are never filtered.
    expect((await expectStatus(await call(`/posts/${hidden.id}`, { token: reader.accessToken }), 200)).filtered).toBeUndefined();
    await createFilter(author, { keywords: [{ keyword: 'twist' }], context: ['profile'], action: 'hide' });
    expect((await feed(author, `/users/${author.id}/posts`)).map((p: any) => p.id)).toContain(hidden.id);
    await expectStatus(await call(`/filters/${hide.id}`, { method: 'DELETE', token: reader.accessToken }), 204);
    await expectStatus(await call(`/filters/${warn.id}`, { method: 'DELETE', token: reader.accessToken }), 204);
  });

  it('should stop applying a filter once it expires', async () => {
    const filter = await createFilter(reader, { keywords: [{ keyword: 'twist' }], context: ['community'], action: 'hide', expires_in: 60 });
    expect((await feed(reader, `/communities/${community.id}/posts`)).map((p: any) => p.id)).not.toContain(hidden.id);
    await env.DB.prepare('UPDATE filters SET expires_at = ?2 WHERE id = ?1').bind(filter.id, Date.now() - 1000).run();
    expect((await feed(reader, `/communities/${community.id}/posts`)).map((p: any) => p.id)).toContain(hidden.id);
  });

  it('should filter notifications about matching posts and messages', async () => {
    const [fan, star] = [await createUser(), await createUser()];
    await follow(fan, star);
    const quietWord = nonsenseWord('nw');
    const loudWord = nonsenseWord('lw');
    const hide = await createFilter(fan, { keywords: [{ keyword: quietWord }], context: ['notifications'], action: 'hide' });
    const warn = await createFilter(fan, { title: 'Heads up', keywords: [{ keyword: loudWord }], context: ['notifications'], action: 'warn' });
    const dropped = await post(star, `about ${quietWord}`);
    const flagged = await post(star, `about ${loudWord}`);
    const conversation = await startDirect(star, fan);
    const secret = await send(star, conversation.id, `psst ${quietWord}`);
    const clean = await post(star, 'about nothing');
    await waitForNotification(fan, 'new_post', (n) => n.data.id === clean.id);
    // Stored in the inbox (read straight from it): the list below hides it, not a slow delivery.
    await eventually(
      () => inboxRpc(fan.id).list({ unread: false, limit: 100 }),
      (page) => page.data.some((n) => n.type === 'new_message' && n.data.id === secret.id),
      'the message notification in the inbox',
    );
    await waitForNotification(fan, 'new_post', (n) => n.data.id === flagged.id);
    const listed = (await notifications(fan, 'limit=100')).data;
    const ids = listed.map((n: any) => n.data.id);
    expect(ids).not.toContain(dropped.id);
    expect(ids).not.toContain(secret.id);
    expect(listed.find((n: any) => n.data.id === flagged.id)).toMatchObject({ filtered: [{ filter_id: warn.id, title: 'Heads up', keyword_matches: [loudWord] }] });
    expect((listed.find((n: any) => n.data.id === clean.id) as any)?.filtered).toBeUndefined();
    // Without the filter it is there: hide acts at read time.
    await expectStatus(await call(`/filters/${hide.id}`, { method: 'DELETE', token: fan.accessToken }), 204);
    const unfiltered = (await notifications(fan, 'limit=100')).data.map((n: any) => n.data.id);
    expect(unfiltered).toEqual(expect.arrayContaining([dropped.id, secret.id]));
  });
});
