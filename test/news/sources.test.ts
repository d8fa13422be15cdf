import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { assertFetchableUrl } from '../../src/modules/news/source-url';
import { call, createUser, expectProblem, expectStatus } from '../helpers/client';
import { addSource, createStaff, feedUrl, makeStaff, uniqueFeed } from './helpers';

const SOURCE_KEYS = ['created_at', 'failure_count', 'id', 'item_count', 'last_error', 'last_fetched_at', 'last_http_status', 'last_status', 'next_fetch_at', 'title', 'topic', 'url'];

describe('News sources: staff only', () => {
  it('should answer 401 without a token and 403 to someone who is not staff', async () => {
    const user = await createUser();
    const id = '01JC6ZC1B2C3D4E5F6G7H8J9K0';
    const routes: [string, string, unknown?][] = [
      ['GET', '/admin/news/sources'],
      ['POST', '/admin/news/sources', { url: feedUrl('/rss.xml'), topic: 'career' }],
      ['PATCH', `/admin/news/sources/${id}`, { topic: 'news' }],
      ['DELETE', `/admin/news/sources/${id}`],
      ['POST', `/admin/news/sources/${id}/refresh`],
    ];
    for (const [method, path, body] of routes) {
      await expectProblem(await call(path, { method, body }), 401);
      await expectProblem(await call(path, { method, body, token: user.accessToken }), 403);
    }
  });

  it('should let moderators and admins in', async () => {
    const moderator = await createStaff();
    const admin = await makeStaff(await createUser(), 'admin');
    for (const staff of [moderator, admin]) await expectStatus(await call('/admin/news/sources', { token: staff.accessToken }), 200);
  });
});

describe('News sources: managing them', () => {
  it('should create a source (201), list it, and refuse the same URL again (409)', async () => {
    const staff = await createStaff();
    const url = uniqueFeed('/rss.xml');
    const source = await addSource(staff, { url, topic: 'career' });
    expect(Object.keys(source).sort()).toEqual(SOURCE_KEYS);
    expect(source).toMatchObject({ url, topic: 'career', title: '127.0.0.1', last_fetched_at: null, last_status: null, last_error: null, item_count: 0, failure_count: 0, next_fetch_at: new Date(0).toISOString() });
    const titled = await addSource(staff, { url: uniqueFeed('/rss.xml'), topic: 'career', title: 'My wire' });
    expect(titled.title).toBe('My wire');
    await expectProblem(await call('/admin/news/sources', { body: { url, topic: 'news' }, token: staff.accessToken }), 409, 'url');
    const page = await expectStatus(await call('/admin/news/sources?limit=100', { token: staff.accessToken }), 200);
    expect(page.data.map((s: any) => s.id)).toEqual(expect.arrayContaining([source.id, titled.id]));
    expect(page.data.findIndex((s: any) => s.id === titled.id)).toBeLessThan(page.data.findIndex((s: any) => s.id === source.id));
  });

  it('should refuse URLs that are not http(s) or that point at private addresses, with 400 naming url', async () => {
    const staff = await createStaff();
    const bad = [
      'ftp://127.0.0.1/feed.xml',
      'javascript:alert(1)',
      'file:///etc/passwd',
      'not a url',
      'http://10.0.0.1/feed.xml',
      'http://192.168.1.10/feed.xml',
      'http://172.16.5.4/feed.xml',
      'http://169.254.169.254/latest/meta-data/',
      'http://[fd00::1]/feed.xml',
      'http://[::ffff:10.0.0.1]/feed.xml',
      'http://0.0.0.0/feed.xml',
      'http://user:secret@127.0.0.1/feed.xml',
    ];
    for (const url of bad) {
      await expectProblem(await call('/admin/news/sources', { body: { url, topic: 'news' }, token: staff.accessToken }), 400, 'url');
    }
    await expectProblem(await call('/admin/news/sources', { body: { url: feedUrl('/rss.xml'), topic: 'gossip' }, token: staff.accessToken }), 400, 'topic');
    await expectProblem(await call('/admin/news/sources', { body: { url: feedUrl('/rss.xml'), topic: 'news', extra: 1 }, token: staff.accessToken }), 400, 'extra');
  });

  it('should refuse loopback unless NEWS_ALLOW_PRIVATE=true, and hosts that resolve to private addresses', async () => {
    const resolver = feedUrl('/dns-query');
    const production = { NEWS_ALLOW_PRIVATE: 'false', NEWS_DNS_RESOLVER: resolver };
    for (const url of ['http://127.0.0.1/feed', 'http://localhost:8080/feed', 'http://[::1]/feed', 'http://intranet.example/feed', 'http://rebind.example/feed', 'http://nothing.example/feed']) {
      await expect(assertFetchableUrl(production, url), url).rejects.toThrow(/private or loopback|does not resolve/);
    }
    expect((await assertFetchableUrl(production, 'https://public.example/feed.xml')).hostname).toBe('public.example');
    // The test environment allows loopback (the fixture server), never private networks.
    const local = { NEWS_ALLOW_PRIVATE: 'true', NEWS_DNS_RESOLVER: resolver };
    expect((await assertFetchableUrl(local, 'http://localhost:8080/feed')).hostname).toBe('localhost');
    await expect(assertFetchableUrl(local, 'http://intranet.example/feed')).rejects.toThrow(/private/);
  });

  it('should change a source: a new topic moves its items, a new URL starts it over, null title hands it to the feed', async () => {
    const staff = await createStaff();
    const source = await addSource(staff, { url: uniqueFeed('/rss.xml'), topic: 'career', title: 'Mine' });
    await expectStatus(await call(`/admin/news/sources/${source.id}/refresh`, { method: 'POST', token: staff.accessToken }), 200);
    const moved = await expectStatus(await call(`/admin/news/sources/${source.id}`, { method: 'PATCH', body: { topic: 'education', title: null }, token: staff.accessToken }), 200);
    expect(moved).toMatchObject({ topic: 'education', title: '127.0.0.1' });
    const { results } = await env.DB.prepare('SELECT DISTINCT topic FROM news_items WHERE source_id = ?1').bind(source.id).all<{ topic: string }>();
    expect(results.map((r) => r.topic)).toEqual(['education']);
    const newUrl = uniqueFeed('/atom.xml');
    const restarted = await expectStatus(await call(`/admin/news/sources/${source.id}`, { method: 'PATCH', body: { url: newUrl }, token: staff.accessToken }), 200);
    expect(restarted).toMatchObject({ url: newUrl, failure_count: 0, next_fetch_at: new Date(0).toISOString() });
    const row = await env.DB.prepare('SELECT etag, last_modified FROM news_sources WHERE id = ?1').bind(source.id).first();
    expect(row).toEqual({ etag: null, last_modified: null });
    await expectProblem(await call(`/admin/news/sources/${source.id}`, { method: 'PATCH', body: { url: 'http://10.0.0.1/x' }, token: staff.accessToken }), 400, 'url');
  });

  it('should delete a source with its items (204), then 404', async () => {
    const staff = await createStaff();
    const source = await addSource(staff, { url: uniqueFeed('/rss.xml'), topic: 'career' });
    await expectStatus(await call(`/admin/news/sources/${source.id}/refresh`, { method: 'POST', token: staff.accessToken }), 200);
    await expectStatus(await call(`/admin/news/sources/${source.id}`, { method: 'DELETE', token: staff.accessToken }), 204);
    const left = await env.DB.prepare('SELECT COUNT(*) AS n FROM news_items WHERE source_id = ?1').bind(source.id).first<{ n: number }>();
    expect(left?.n).toBe(0);
    await expectProblem(await call(`/admin/news/sources/${source.id}`, { method: 'DELETE', token: staff.accessToken }), 404);
    await expectProblem(await call(`/admin/news/sources/${source.id}/refresh`, { method: 'POST', token: staff.accessToken }), 404);
    await expectProblem(await call(`/admin/news/sources/${source.id}`, { method: 'PATCH', body: { topic: 'news' }, token: staff.accessToken }), 404);
  });
});
