import { describe, expect, it } from 'vitest';
import { FeedParseError, ITEMS_PER_FETCH, parseFeedItems } from '../../src/modules/news/feed-parse';

// The parser on its own, for the shapes the fixture feeds (test/news/fetch.test.ts) do not have: RDF, items
// missing titles, links or dates, unsafe links, Media RSS images and over-long text.
const rss = (items: string, channel = '<title>Wire</title>') =>
  `<?xml version="1.0"?><rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>${channel}${items}</channel></rss>`;

describe('News feed parsing', () => {
  it('should read RDF (RSS 1.0) items keyed by link, with their Dublin Core date', async () => {
    const rdf = `<?xml version="1.0"?>
      <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
        <channel rdf:about="https://rdf.example/"><title>RDF Wire</title><link>https://rdf.example/</link><description>d</description></channel>
        <item rdf:about="https://rdf.example/a"><title>Older</title><link>https://rdf.example/a</link><description>first &lt;b&gt;bold&lt;/b&gt;</description><dc:date>2026-01-01T00:00:00Z</dc:date></item>
        <item rdf:about="https://rdf.example/b"><title>Newer</title><link>https://rdf.example/b</link><dc:date>2026-02-01T00:00:00Z</dc:date></item>
      </rdf:RDF>`;
    const { title, items } = await parseFeedItems(rdf);
    expect(title).toBe('RDF Wire');
    expect(items).toEqual([
      { key: 'https://rdf.example/b', title: 'Newer', url: 'https://rdf.example/b', summary: '', imageUrl: null, publishedAt: Date.parse('2026-02-01T00:00:00Z') },
      { key: 'https://rdf.example/a', title: 'Older', url: 'https://rdf.example/a', summary: 'first bold', imageUrl: null, publishedAt: Date.parse('2026-01-01T00:00:00Z') },
    ]);
  });

  it('should fall back for a missing title (summary, then link, then key), refuse non-http links and unreadable dates', async () => {
    const { title, items } = await parseFeedItems(
      rss(
        `<item><guid>k-summary</guid><description>${'word '.repeat(40)}</description><pubDate>not a date</pubDate></item>
         <item><guid>k-link</guid><link>https://wire.example/only-link</link></item>
         <item><guid isPermaLink="false">k-bare</guid><link>javascript:alert(1)</link></item>
         <item><guid>https://wire.example/guid-link</guid><title>By guid</title></item>
         <item><title>No key at all</title></item>`,
        '',
      ),
    );
    expect(title).toBeNull();
    const byKey = Object.fromEntries(items.map((i) => [i.key, i]));
    expect(Object.keys(byKey).sort()).toEqual(['https://wire.example/guid-link', 'k-bare', 'k-link', 'k-summary']);
    expect(byKey['k-summary']!.publishedAt).toBeNull();
    expect(byKey['k-summary']!.title.length).toBeLessThanOrEqual(120);
    expect(byKey['k-summary']!.title).toMatch(/^word( word)+…$/);
    expect(byKey['k-link']).toMatchObject({ title: 'https://wire.example/only-link', url: 'https://wire.example/only-link' });
    expect(byKey['k-bare']).toMatchObject({ title: 'k-bare', url: null });
    // A permalink guid is the item's link when it has no <link>.
    expect(byKey['https://wire.example/guid-link']!.url).toBe('https://wire.example/guid-link');
  });

  it('should take an image from Media RSS thumbnails or contents when there is no image enclosure', async () => {
    const { items } = await parseFeedItems(
      rss(
        `<item><guid>t</guid><title>Thumb</title><media:thumbnail url="https://img.example/t.jpg"/></item>
         <item><guid>c</guid><title>Content</title><media:content url="https://img.example/v.mp4" type="video/mp4"/><media:content url="https://img.example/c.png" medium="image"/></item>
         <item><guid>n</guid><title>None</title><media:content url="https://img.example/v.mp4" type="video/mp4"/></item>`,
      ),
    );
    expect(Object.fromEntries(items.map((i) => [i.key, i.imageUrl]))).toEqual({ t: 'https://img.example/t.jpg', c: 'https://img.example/c.png', n: null });
  });

  it('should read Atom entries without an alternate link and JSON Feed items linking elsewhere', async () => {
    const atom = await parseFeedItems(`<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Atom</title><id>urn:a</id><updated>2026-01-01T00:00:00Z</updated>
      <entry><id>urn:e1</id><title>Only related</title><link rel="related" href="https://elsewhere.example/"/><content type="html">&lt;p&gt;Body&lt;/p&gt;</content><updated>2026-01-02T00:00:00Z</updated></entry>
      <entry><title>No id</title><link href="https://atom.example/2"/></entry></feed>`);
    expect(atom.items).toEqual([
      { key: 'urn:e1', title: 'Only related', url: null, summary: 'Body', imageUrl: null, publishedAt: Date.parse('2026-01-02T00:00:00Z') },
      { key: 'https://atom.example/2', title: 'No id', url: 'https://atom.example/2', summary: '', imageUrl: null, publishedAt: null },
    ]);
    const json = await parseFeedItems(
      JSON.stringify({
        version: 'https://jsonfeed.org/version/1.1',
        title: 'JSON',
        items: [
          { id: 'j1', external_url: 'https://ext.example/story', content_text: 'Plain text', banner_image: 'https://img.example/b.png', date_modified: '2026-03-01T00:00:00Z' },
          { url: 'https://json.example/2', content_html: '<p>Html</p>' },
        ],
      }),
    );
    expect(json.items).toEqual([
      { key: 'j1', title: 'Plain text', url: 'https://ext.example/story', summary: 'Plain text', imageUrl: 'https://img.example/b.png', publishedAt: Date.parse('2026-03-01T00:00:00Z') },
      { key: 'https://json.example/2', title: 'Html', url: 'https://json.example/2', summary: 'Html', imageUrl: null, publishedAt: null },
    ]);
  });

  it(`should clip titles at a word boundary and keep only the newest ${ITEMS_PER_FETCH} items`, async () => {
    const longWords = 'headline '.repeat(50);
    const oneWord = 'x'.repeat(400);
    const many = Array.from({ length: ITEMS_PER_FETCH + 5 }, (_, i) => `<item><guid>g${i}</guid><title>${i === 0 ? longWords : i === 1 ? oneWord : `t${i}`}</title><pubDate>${new Date(Date.UTC(2026, 0, 1) + i * 60_000).toUTCString()}</pubDate></item>`).join('');
    const { items } = await parseFeedItems(rss(many));
    expect(items).toHaveLength(ITEMS_PER_FETCH);
    expect(items[0]!.key).toBe(`g${ITEMS_PER_FETCH + 4}`);
    expect(items.some((i) => i.key === 'g0')).toBe(false);
    const clipped = await parseFeedItems(rss(`<item><guid>a</guid><title>${longWords}</title></item><item><guid>b</guid><title>${oneWord}</title></item>`));
    const [a, b] = [clipped.items.find((i) => i.key === 'a')!, clipped.items.find((i) => i.key === 'b')!];
    expect(a.title.length).toBeLessThanOrEqual(300);
    expect(a.title).toMatch(/^headline( headline)*…$/);
    // One unbroken word is cut where it has to be.
    expect(b.title).toBe(`${'x'.repeat(299)}…`);
  });

  it('should leave no markup in titles and summaries, however many times the feed escaped it', async () => {
    const { title, items } = await parseFeedItems(
      rss(
        `<item><guid>once</guid><title>&lt;b&gt;Bold&lt;/b&gt; news</title><description>&lt;p&gt;Para&lt;/p&gt;</description></item>
         <item><guid>twice</guid><title>&amp;lt;img src=x onerror=alert(1)&amp;gt;Headline</title><description>&amp;lt;script&amp;gt;alert(1)&amp;lt;/script&amp;gt;Body &amp;lt;a href="javascript:alert(2)"&amp;gt;link&amp;lt;/a&amp;gt;</description></item>
         <item><guid>cdata</guid><title><![CDATA[<i>Quoted</i> &lt;svg onload=alert(3)&gt;]]></title><description><![CDATA[<p>x</p>&lt;iframe src=//evil.example&gt;&lt;/iframe&gt;y]]></description></item>
         <item><guid>prose</guid><title>a &lt; b and c &gt; d, 1&lt;2</title></item>`,
        '<title>&amp;lt;script&amp;gt;alert(4)&amp;lt;/script&amp;gt;Wire</title>',
      ),
    );
    const byKey = Object.fromEntries(items.map((i) => [i.key, i]));
    expect(title).toBe('Wire');
    expect(byKey.once).toMatchObject({ title: 'Bold news', summary: 'Para' });
    expect(byKey.twice).toMatchObject({ title: 'Headline', summary: 'Body link' });
    expect(byKey.cdata).toMatchObject({ title: 'Quoted', summary: 'xy' });
    // A "<" that opens no tag is prose, and stays.
    expect(byKey.prose!.title).toBe('a < b and c > d, 1<2');
    for (const text of [title, ...items.flatMap((i) => [i.title, i.summary])]) expect(text).not.toMatch(/<[a-z!/?]/i);
  });

  it('should refuse what is not a feed', async () => {
    await expect(parseFeedItems('<html><body>hello</body></html>')).rejects.toThrow(FeedParseError);
    await expect(parseFeedItems('{"not":"a feed"}')).rejects.toThrow('not an RSS, Atom or JSON feed');
  });
});
