import type { Bindings } from '../../lib/types';
import { readBounded } from '../media/media.service';
import { UnsafeUrlError } from '../../lib/public-address';
import { assertFetchableUrl } from './source-url';

/** A feed body past this is cut off and the fetch recorded as failed. */
export const MAX_FEED_BYTES = 5 * 1024 * 1024;
export const FETCH_TIMEOUT_MS = 10_000;
/**
 * Redirects followed per fetch. With the DNS check of each hop, one source costs at most
 * 2 × (1 + MAX_REDIRECTS) subrequests, which the queue's batch size is chosen against (wrangler.toml).
 */
export const MAX_REDIRECTS = 3;

export type FetchOutcome =
  | { kind: 'ok'; status: number; body: string; etag: string | null; lastModified: string | null }
  | { kind: 'not_modified'; status: 304 }
  | { kind: 'error'; status: number | null; error: string };

class FeedTooLarge extends Error {}

export interface Validators {
  etag: string | null;
  lastModified: string | null;
}

/**
 * One conditional GET of a feed (If-None-Match / If-Modified-Since from the last answer), with a
 * timeout, at most MAX_REDIRECTS redirects (each hop's address checked as the source's was), and the
 * body read up to MAX_FEED_BYTES. Never throws for what the remote side does: every failure is an
 * `error` outcome that names it.
 */
export async function fetchFeed(
  env: Pick<Bindings, 'NEWS_ALLOW_PRIVATE' | 'NEWS_DNS_RESOLVER'>,
  url: string,
  validators: Validators,
  timeoutMs = FETCH_TIMEOUT_MS,
): Promise<FetchOutcome> {
  const headers: Record<string, string> = {
    Accept: 'application/rss+xml, application/atom+xml, application/feed+json, application/json;q=0.9, application/xml;q=0.8, text/xml;q=0.8, */*;q=0.5',
    'User-Agent': 'Kith-News/1.0 (+https://kith.dev)',
  };
  if (validators.etag) headers['If-None-Match'] = validators.etag;
  if (validators.lastModified) headers['If-Modified-Since'] = validators.lastModified;
  const signal = AbortSignal.timeout(timeoutMs);
  let current = url;
  try {
    for (let hop = 0; ; hop++) {
      await assertFetchableUrl(env, current);
      const res = await fetch(current, { headers, redirect: 'manual', signal });
      const location = res.headers.get('Location');
      if (res.status >= 300 && res.status < 400 && res.status !== 304 && location) {
        await res.body?.cancel();
        if (hop >= MAX_REDIRECTS) return { kind: 'error', status: res.status, error: `more than ${MAX_REDIRECTS} redirects` };
        current = new URL(location, current).toString();
        continue;
      }
      if (res.status === 304) {
        await res.body?.cancel();
        return { kind: 'not_modified', status: 304 };
      }
      if (!res.ok) {
        await res.body?.cancel();
        return { kind: 'error', status: res.status, error: `the feed answered HTTP ${res.status}` };
      }
      const bytes = await readBounded(res.body, MAX_FEED_BYTES, () => new FeedTooLarge());
      return {
        kind: 'ok',
        status: res.status,
        body: new TextDecoder().decode(bytes),
        etag: res.headers.get('ETag'),
        lastModified: res.headers.get('Last-Modified'),
      };
    }
  } catch (err) {
    if (err instanceof FeedTooLarge) return { kind: 'error', status: 200, error: `the feed is larger than ${MAX_FEED_BYTES / 1024 / 1024} MB: cut off` };
    if (err instanceof UnsafeUrlError) return { kind: 'error', status: null, error: `${current === url ? 'the URL' : `a redirect to ${current}`}: ${err.message}` };
    if (signal.aborted) return { kind: 'error', status: null, error: `no complete answer within ${timeoutMs / 1000} s` };
    return { kind: 'error', status: null, error: `the fetch failed: ${(err as Error)?.message ?? String(err)}` };
  }
}
