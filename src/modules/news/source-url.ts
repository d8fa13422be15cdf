import { ApiError } from '../../lib/errors';
import { assertPublicHost, UnsafeUrlError } from '../../lib/public-address';
import type { Bindings } from '../../lib/types';

/**
 * Refuses a URL a feed fetch must not reach: anything but http(s), credentials in the URL, and hosts
 * that are, or resolve to, private, link-local or loopback addresses (loopback alone is allowed with
 * NEWS_ALLOW_PRIVATE=true, for tests and local development). Checked when a source is saved and again
 * on every fetch and redirect hop, since DNS answers change.
 */
export async function assertFetchableUrl(env: Pick<Bindings, 'NEWS_ALLOW_PRIVATE' | 'NEWS_DNS_RESOLVER'>, raw: string): Promise<URL> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UnsafeUrlError('is not a URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UnsafeUrlError('must be an http(s) URL');
  if (url.username || url.password) throw new UnsafeUrlError('must not carry a user name or password');
  await assertPublicHost(url.hostname, { allowLoopback: env.NEWS_ALLOW_PRIVATE === 'true', resolver: env.NEWS_DNS_RESOLVER });
  return url;
}

/** {@link assertFetchableUrl} for a request field: 400 naming `field`. */
export async function assertSourceUrl(env: Pick<Bindings, 'NEWS_ALLOW_PRIVATE' | 'NEWS_DNS_RESOLVER'>, raw: string, field = 'url'): Promise<string> {
  try {
    return (await assertFetchableUrl(env, raw)).toString();
  } catch (err) {
    if (err instanceof UnsafeUrlError) throw ApiError.field(field, err.message);
    throw ApiError.field(field, `could not be checked: ${(err as Error).message}`);
  }
}
