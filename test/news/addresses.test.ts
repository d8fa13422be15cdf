import { describe, expect, it } from 'vitest';
import { ApiError } from '../../src/lib/errors';
import { addressKind } from '../../src/lib/public-address';
import { assertSourceUrl } from '../../src/modules/news/source-url';
import { feedUrl } from './helpers';

// Which addresses a news fetch may reach (test/news/sources.test.ts drives the same checks through the API).
describe('News fetch: address classes', () => {
  it.each([
    ['8.8.8.8', 'public'],
    ['127.0.0.2', 'loopback'],
    ['0.1.2.3', 'private'],
    ['10.9.8.7', 'private'],
    ['100.64.0.1', 'private'], // carrier-grade NAT
    ['100.128.0.1', 'public'],
    ['169.254.169.254', 'private'], // link-local: cloud metadata services
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['172.32.0.1', 'public'],
    ['192.168.1.1', 'private'],
    ['192.0.0.8', 'private'],
    ['198.18.0.1', 'private'], // benchmarking
    ['224.0.0.1', 'private'], // multicast and above
    ['::1', 'loopback'],
    ['[::1]', 'loopback'],
    ['::ffff:8.8.8.8', 'public'],
    ['::ffff:192.168.1.1', 'private'],
    ['::', 'private'],
    ['fc00::1', 'private'],
    ['fd12:3456::1', 'private'],
    ['fe80::1', 'private'],
    ['ff02::1', 'private'],
    ['::8.8.8.8', 'private'], // other IPv4-embedding forms
    ['64:ff9b::a9fe:a9fe', 'private'], // NAT64: 169.254.169.254 through a DNS64 network's gateway
    ['64:ff9b:1::a00:1', 'private'], // local-use NAT64
    ['2002:a9fe:a9fe::1', 'private'], // 6to4
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'private'], // Teredo
    ['2001::1', 'private'],
    ['2001:db8::1', 'private'], // documentation
    ['2001:4860:4860::8888', 'public'],
    ['2606:4700::1111', 'public'],
    ['256.1.1.1', null],
    ['1.2.3', null],
    ['example.com', null],
    ['fe80::zz', null],
  ] as const)('should class %s as %s', (ip, kind) => {
    expect(addressKind(ip)).toBe(kind);
  });

  it('should answer 400 naming the field when the resolver fails or answers nonsense', async () => {
    const fieldError = async (resolver: string) => {
      const err = await assertSourceUrl({ NEWS_ALLOW_PRIVATE: 'false', NEWS_DNS_RESOLVER: resolver }, 'https://public.example/feed.xml', 'source_url').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ApiError);
      const { errors } = err as ApiError;
      expect(errors?.map((e) => e.field)).toEqual(['source_url']);
      return errors![0]!.message;
    };
    expect(await fieldError(feedUrl('/no-resolver-here'))).toBe('its host public.example could not be resolved (resolver answered 404)');
    // A resolver answering something other than DNS JSON (here, a feed): the check itself fails.
    expect(await fieldError(feedUrl('/rss.xml'))).toMatch(/^could not be checked: /);
    expect(await assertSourceUrl({ NEWS_ALLOW_PRIVATE: 'false', NEWS_DNS_RESOLVER: feedUrl('/dns-query') }, 'https://public.example/feed.xml')).toBe('https://public.example/feed.xml');
  });
});
