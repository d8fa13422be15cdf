import { decodeHTML } from 'entities';
import { parseFeed } from 'feedsmith';

/** Caps on what one item keeps. */
const TITLE_MAX = 300;
const SUMMARY_MAX = 1000;
/** One fetch looks at most at the newest this many items of a feed. */
export const ITEMS_PER_FETCH = 200;

export interface ParsedItem {
  /** What keeps the item once: its guid (or id), else its link. */
  key: string;
  title: string;
  url: string | null;
  summary: string;
  imageUrl: string | null;
  /** Epoch ms, or null when the feed gives no usable date. */
  publishedAt: number | null;
}

export class FeedParseError extends Error {}

/** Elements whose text is never prose. */
const HIDDEN = 'script, style, noscript, template, iframe, object, svg, head';
/** Elements that end a word, so "<p>a</p><p>b</p>" reads "a b". */
const BREAKS = 'p, br, div, li, ul, ol, tr, td, th, h1, h2, h3, h4, h5, h6, blockquote, pre, section, article, figure, figcaption, hr, dt, dd';

/** A "<" that an HTML parser would read as the start of a tag, a comment or a declaration. */
const TAG_OPEN = /<[a-z!/?]/i;
/** Feeds escape markup once, twice, and now and then more: each pass strips one level. */
const MAX_STRIP_PASSES = 4;

/**
 * Markup → plain text with the Workers HTML parser (HTMLRewriter): text inside scripts, styles and the
 * like is dropped, tags become word breaks, entities are decoded and whitespace collapsed. Decoding can
 * reveal markup that was escaped (`&lt;script&gt;`, as feeds often send it): that is stripped in turn,
 * so the text never holds a tag, whatever a client does with it.
 */
export async function htmlToText(html: string): Promise<string> {
  let text = await stripOnce(html);
  for (let pass = 1; pass < MAX_STRIP_PASSES && TAG_OPEN.test(text); pass++) text = await stripOnce(text);
  // Markup escaped more often than that is left as prose without its tag openers.
  return text.replace(new RegExp(TAG_OPEN.source, 'gi'), (open) => open.slice(1));
}

async function stripOnce(html: string): Promise<string> {
  if (!/[<&]/.test(html)) return html.replace(/\s+/g, ' ').trim();
  let out = '';
  let hidden = 0;
  const rewriter = new HTMLRewriter()
    .on(HIDDEN, {
      element(el) {
        hidden++;
        el.onEndTag(() => {
          hidden--;
        });
      },
    })
    .on(BREAKS, {
      element() {
        out += ' ';
      },
    })
    .onDocument({
      text(chunk) {
        if (hidden === 0) out += chunk.text;
      },
    });
  await rewriter.transform(new Response(html, { headers: { 'Content-Type': 'text/html; charset=utf-8' } })).arrayBuffer();
  return decodeHTML(out).replace(/\s+/g, ' ').trim();
}

/** Cuts at a word boundary, with an ellipsis, when longer than `max`. */
function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max - 1);
  const space = cut.lastIndexOf(' ');
  return `${space > max * 0.6 ? cut.slice(0, space) : cut}…`;
}

const httpUrl = (value: unknown): string | null => {
  if (typeof value !== 'string') return null;
  try {
    const url = new URL(value.trim());
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.toString() : null;
  } catch {
    return null;
  }
};

const dateOf = (...values: unknown[]): number | null => {
  for (const value of values) {
    if (typeof value !== 'string') continue;
    const ms = Date.parse(value);
    if (!Number.isNaN(ms)) return ms;
  }
  return null;
};

interface RawItem {
  key: string | undefined;
  title: string | undefined;
  url: string | null;
  summary: string | undefined;
  image: string | null;
  date: number | null;
}

type MediaLike = { thumbnails?: { url?: string }[]; contents?: { url?: string; type?: string; medium?: string }[] } | undefined;

const mediaImage = (media: MediaLike): string | null =>
  httpUrl(media?.thumbnails?.[0]?.url) ?? httpUrl(media?.contents?.find((m) => m.medium === 'image' || m.type?.startsWith('image/'))?.url);

/** Each format's items in one shape (markup not yet stripped). */
function rawItems(text: string): { title: string | undefined; items: RawItem[] } {
  let parsed: ReturnType<typeof parseFeed>;
  try {
    parsed = parseFeed(text);
  } catch (err) {
    const name = (err as Error)?.name ?? '';
    throw new FeedParseError(/Malformed/i.test(name) ? 'the feed is malformed (its XML does not parse)' : 'the response is not an RSS, Atom or JSON feed');
  }
  switch (parsed.format) {
    case 'rss':
      return {
        title: parsed.feed.title,
        items: (parsed.feed.items ?? []).map((item) => ({
          key: item.guid?.value || item.link,
          title: item.title,
          url: httpUrl(item.link) ?? (item.guid?.isPermaLink !== false ? httpUrl(item.guid?.value) : null),
          summary: item.description ?? item.content?.encoded,
          image: httpUrl(item.enclosures?.find((e) => e.type?.startsWith('image/'))?.url) ?? mediaImage(item.media),
          date: dateOf(item.pubDate, item.dc?.dates?.[0]),
        })),
      };
    case 'atom':
      return {
        title: parsed.feed.title?.value,
        items: (parsed.feed.entries ?? []).map((entry) => {
          const link = entry.links?.find((l) => !l.rel || l.rel === 'alternate')?.href;
          return {
            key: entry.id || link,
            title: entry.title?.value,
            url: httpUrl(link),
            summary: entry.summary?.value ?? entry.content?.value,
            image: httpUrl(entry.links?.find((l) => l.rel === 'enclosure' && l.type?.startsWith('image/'))?.href) ?? mediaImage(entry.media),
            date: dateOf(entry.published, entry.updated),
          };
        }),
      };
    case 'json':
      return {
        title: parsed.feed.title,
        items: (parsed.feed.items ?? []).map((item) => ({
          key: item.id || item.url,
          title: item.title,
          url: httpUrl(item.url) ?? httpUrl(item.external_url),
          summary: item.summary ?? item.content_html ?? item.content_text,
          image: httpUrl(item.image) ?? httpUrl(item.banner_image),
          date: dateOf(item.date_published, item.date_modified),
        })),
      };
    case 'rdf':
      return {
        title: parsed.feed.title,
        items: (parsed.feed.items ?? []).map((item) => ({
          key: item.link,
          title: item.title,
          url: httpUrl(item.link),
          summary: item.description,
          image: mediaImage(item.media),
          date: dateOf(item.dc?.dates?.[0]),
        })),
      };
  }
}

/**
 * Parses RSS 2.0, Atom, RDF or JSON Feed text with feedsmith into items: each kept once (guid or id,
 * else link; items with neither are dropped), newest first, at most {@link ITEMS_PER_FETCH}, with
 * markup stripped from titles and summaries.
 */
export async function parseFeedItems(text: string): Promise<{ title: string | null; items: ParsedItem[] }> {
  const { title, items } = rawItems(text);
  const seen = new Set<string>();
  const unique = items.filter((item) => {
    const key = item.key?.trim();
    if (!key || seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  unique.sort((a, b) => (b.date ?? 0) - (a.date ?? 0));
  const out: ParsedItem[] = [];
  for (const item of unique.slice(0, ITEMS_PER_FETCH)) {
    const summary = clip(await htmlToText(item.summary ?? ''), SUMMARY_MAX);
    const heading = clip(await htmlToText(item.title ?? ''), TITLE_MAX) || clip(summary, 120) || item.url || item.key!.trim();
    out.push({ key: item.key!.trim().slice(0, 500), title: heading, url: item.url, summary, imageUrl: item.image, publishedAt: item.date });
  }
  return { title: title ? clip(await htmlToText(title), 200) || null : null, items: out };
}
