import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { fetchFeed } from '../../src/modules/news/feed-fetch';
import { htmlToText } from '../../src/modules/news/feed-parse';
import { NEWS_INTERVAL_MS } from '../../src/modules/news/news.service';
import { call, expectProblem, expectStatus } from '../helpers/client';
import { addSource, createStaff, feedUrl, refresh, requestsTo, uniqueFeed } from './helpers';

const itemsOf = async (sourceId: string) =>
  (await env.DB.prepare('SELECT key, title, url, summary, image_url, topic, published_at FROM news_items WHERE source_id = ?1 ORDER BY published_at DESC').bind(sourceId).all<any>()).results;

describe('News fetch: formats and markup', () => {
  it('should read RSS 2.0 items once each, stripped of markup, with the feed title and validators', async () => {
    const staff = await createStaff();
    const source = await addSource(staff, { url: uniqueFeed('/rss.xml'), topic: 'career' });
    const after = await refresh(staff, source.id);
    expect(after).toMatchObject({ title: 'Kith Career Wire', last_status: 'ok', last_http_status: 200, last_error: null, item_count: 2, failure_count: 0 });
    expect(Date.parse(after.last_fetched_at)).toBeGreaterThan(Date.now() - 60_000);
    expect(Date.parse(after.next_fetch_at) - Date.parse(after.last_fetched_at)).toBeLessThanOrEqual(NEWS_INTERVAL_MS);
    const items = await itemsOf(source.id);
    expect(items).toEqual([
      {
        key: 'wire-1',
        title: 'Hiring & remote work in 2026',
        url: 'https://wire.example/hiring',
        summary: 'Employers expand remote roles. Second paragraph & more.',
        image_url: 'https://wire.example/hiring.jpg',
        topic: 'career',
        published_at: Date.parse('2026-01-13T09:00:00Z'),
      },
      { key: 'wire-2', title: 'Salary survey', url: 'https://wire.example/salaries', summary: 'Plain text summary', image_url: null, topic: 'career', published_at: Date.parse('2026-01-12T09:00:00Z') },
    ]);
  });

  it('should read Atom and JSON Feed', async () => {
    const staff = await createStaff();
    const atom = await addSource(staff, { url: uniqueFeed('/atom.xml'), topic: 'education' });
    expect(await refresh(staff, atom.id)).toMatchObject({ title: 'Atom Education', item_count: 1, last_status: 'ok' });
    expect(await itemsOf(atom.id)).toEqual([
      expect.objectContaining({ key: 'urn:atom-edu:1', title: 'New courses', url: 'https://edu.example/courses', summary: 'Enrolment opens today.', image_url: 'https://edu.example/courses.png' }),
    ]);
    const json = await addSource(staff, { url: uniqueFeed('/feed.json'), topic: 'faith', title: 'Faith notes' });
    expect(await refresh(staff, json.id)).toMatchObject({ title: 'Faith notes', item_count: 2 });
    expect((await itemsOf(json.id)).map((i: any) => [i.key, i.title, i.summary, i.image_url])).toEqual([
      ['jf-2', 'Text only', 'Plain words.', null],
      ['jf-1', 'Interfaith dialogue', 'A quiet gathering.', 'https://faith.example/1.png'],
    ]);
  });

  it('should keep each item once: by guid, else by link; items with neither are dropped', async () => {
    const staff = await createStaff();
    const source = await addSource(staff, { url: uniqueFeed('/dupes.xml'), topic: 'news' });
    await refresh(staff, source.id);
    await refresh(staff, source.id);
    const items = await itemsOf(source.id);
    expect(items.map((i: any) => i.key).sort()).toEqual(['https://dupes.example/c', 'same-guid']);
    // The first occurrence in the feed wins.
    expect(items.find((i: any) => i.key === 'same-guid').title).toBe('First copy');
  });

  it('should strip markup, scripts and entities from HTML', async () => {
    expect(await htmlToText('<p>One <b>two</b></p><p>three&amp;four &lt;tag&gt;</p><script>var x = "<p>no</p>";</script><style>p{}</style>')).toBe('One two three&four');
    expect(await htmlToText('plain   text\n here')).toBe('plain text here');
    // Markup escaped once more at each level, deeper than the passes go: no tag opener survives.
    const escape = (html: string) => html.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
    let nested = '<b>deep</b>';
    for (let level = 0; level < 6; level++) nested = `<i>${level}</i>${escape(nested)}`;
    expect(await htmlToText(nested)).not.toMatch(/<[a-z!/?]/i);
  });
});

describe('News fetch: conditional GET and failures', () => {
  it('should send the validators back and record a 304 as not_modified, without duplicating items', async () => {
    const staff = await createStaff();
    const url = uniqueFeed('/rss.xml');
    const source = await addSource(staff, { url, topic: 'career' });
    await refresh(staff, source.id);
    const second = await refresh(staff, source.id);
    expect(second).toMatchObject({ last_status: 'not_modified', last_http_status: 304, item_count: 2, last_error: null });
    const path = url.slice(feedUrl('').length);
    const seen = await requestsTo(path);
    expect(seen).toHaveLength(2);
    expect(seen[0]).toMatchObject({ if_none_match: null, if_modified_since: null });
    expect(seen[1]).toMatchObject({ if_none_match: '"rss-v1"', if_modified_since: 'Wed, 14 Jan 2026 10:00:00 GMT' });
  });

  it('should record a failing source, back off twice as long each time, and recover', async () => {
    const staff = await createStaff();
    const source = await addSource(staff, { url: uniqueFeed('/error'), topic: 'news' });
    const first = await refresh(staff, source.id);
    expect(first).toMatchObject({ last_status: 'error', last_http_status: 500, failure_count: 1, last_error: expect.stringContaining('HTTP 500') });
    expect(Date.parse(first.next_fetch_at) - Date.parse(first.last_fetched_at)).toBe(2 * NEWS_INTERVAL_MS);
    const second = await refresh(staff, source.id);
    expect(second.failure_count).toBe(2);
    expect(Date.parse(second.next_fetch_at) - Date.parse(second.last_fetched_at)).toBe(4 * NEWS_INTERVAL_MS);
    const fixed = await expectStatus(await call(`/admin/news/sources/${source.id}`, { method: 'PATCH', body: { url: uniqueFeed('/rss.xml') }, token: staff.accessToken }), 200);
    expect(fixed.failure_count).toBe(0);
    expect(await refresh(staff, source.id)).toMatchObject({ last_status: 'ok', failure_count: 0, last_error: null, item_count: 2 });
  });

  it('should record malformed XML, a page that is not a feed, and a feed over 5 MB as the source error', async () => {
    const staff = await createStaff();
    const cases: [string, RegExp][] = [
      ['/malformed.xml', /malformed/],
      ['/not-a-feed', /not an RSS, Atom or JSON feed/],
      ['/huge.xml', /larger than 5 MB: cut off/],
      ['/missing', /HTTP 404/],
    ];
    for (const [path, error] of cases) {
      const source = await addSource(staff, { url: uniqueFeed(path), topic: 'news' });
      const after = await refresh(staff, source.id);
      expect(after, path).toMatchObject({ last_status: 'error', failure_count: 1, item_count: 0 });
      expect(after.last_error, path).toMatch(error);
    }
  });

  it('should follow a redirect, but not one to a private address, nor an endless one', async () => {
    const staff = await createStaff();
    const redirected = await addSource(staff, { url: uniqueFeed('/redirect'), topic: 'news' });
    expect(await refresh(staff, redirected.id)).toMatchObject({ last_status: 'ok', item_count: 2 });
    const toPrivate = await addSource(staff, { url: uniqueFeed('/redirect-private'), topic: 'news' });
    expect((await refresh(staff, toPrivate.id)).last_error).toMatch(/redirect to http:\/\/10\.1\.2\.3\/feed\.xml: .*private/);
    const loop = await addSource(staff, { url: uniqueFeed('/redirect-loop'), topic: 'news' });
    expect((await refresh(staff, loop.id)).last_error).toMatch(/more than 3 redirects/);
  });

  it('should give up on a feed that does not answer in time', async () => {
    const outcome = await fetchFeed(env, feedUrl('/slow'), { etag: null, lastModified: null }, 200);
    expect(outcome).toEqual({ kind: 'error', status: null, error: 'no complete answer within 0.2 s' });
  });
});

describe('GET /news', () => {
  it('should list items newest first, paginated, filtered by topic, for anyone', async () => {
    const staff = await createStaff();
    const career = await addSource(staff, { url: uniqueFeed('/rss.xml'), topic: 'career', title: 'Wire' });
    const faith = await addSource(staff, { url: uniqueFeed('/feed.json'), topic: 'faith' });
    await refresh(staff, career.id);
    await refresh(staff, faith.id);

    const page = await expectStatus(await call('/news?topic=career&limit=1'), 200);
    expect(page.data).toHaveLength(1);
    expect(Object.keys(page.data[0]).sort()).toEqual(['id', 'image_url', 'published_at', 'source', 'summary', 'title', 'topic', 'url']);
    expect(page.data[0]).toMatchObject({ title: 'Hiring & remote work in 2026', topic: 'career', published_at: '2026-01-13T09:00:00.000Z' });
    const rest = await expectStatus(await call(`/news?topic=career&limit=100&cursor=${encodeURIComponent(page.next_cursor)}`), 200);
    const career2 = rest.data.filter((i: any) => i.source.id === career.id);
    expect(career2.map((i: any) => i.title)).toContain('Salary survey');
    expect(rest.data.every((i: any) => i.topic === 'career')).toBe(true);
    expect(rest.data.map((i: any) => i.id)).not.toContain(page.data[0].id);

    const all = await expectStatus(await call('/news?limit=100'), 200);
    const times = all.data.map((i: any) => Date.parse(i.published_at));
    expect(times).toEqual([...times].sort((a, b) => b - a));
    expect(all.data.some((i: any) => i.source.id === faith.id)).toBe(true);
    await expectProblem(await call('/news?topic=gossip'), 400, 'topic');
    await expectProblem(await call('/news?cursor=nonsense'), 400, 'cursor');
  });
});
