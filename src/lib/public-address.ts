// Outbound requests to URLs that strangers or staff hand Kith (news feeds, push endpoints) must not reach
// private, link-local or loopback addresses: the classes of addresses, and the DNS-over-HTTPS check of a host.
/** DNS-over-HTTPS resolver (JSON API) used to learn where a host Kith is told to contact points. */
export const DEFAULT_DNS_RESOLVER = 'https://cloudflare-dns.com/dns-query';

export type AddressKind = 'public' | 'loopback' | 'private';

/** Why a URL may not be contacted; the message names the problem (for a 400, or a news source's `last_error`). */
export class UnsafeUrlError extends Error {}

function ipv4Kind(ip: string): AddressKind | null {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return null;
  const [a, b] = parts as [number, number, number, number];
  if (a === 127) return 'loopback';
  if (
    a === 0 || a === 10 || (a === 100 && b >= 64 && b <= 127) || (a === 169 && b === 254) || (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 168) || (a === 192 && b === 0) || (a === 198 && (b === 18 || b === 19)) || a >= 224
  ) {
    return 'private';
  }
  return 'public';
}

function ipv6Kind(ip: string): AddressKind | null {
  const v = ip.toLowerCase().replace(/^\[|\]$/g, '');
  if (!v.includes(':') || !/^[0-9a-f:.]+$/.test(v)) return null;
  if (v === '::1') return 'loopback';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(v);
  if (mapped) return ipv4Kind(mapped[1]!);
  // Unspecified, unique local (fc00::/7), link-local (fe80::/10), multicast (ff00::/8), other IPv4-embedding forms.
  if (v === '::' || /^f[cd]/.test(v) || /^fe[89ab]/.test(v) || v.startsWith('ff') || v.startsWith('::')) return 'private';
  // Prefixes that carry an IPv4 address through a gateway (NAT64 64:ff9b::/96 and /48, 6to4 2002::/16,
  // Teredo 2001::/32), which may be a private one; and documentation (2001:db8::/32).
  if (v.startsWith('64:ff9b:') || v.startsWith('2002:') || /^2001:(0{1,4})?:/.test(v) || v.startsWith('2001:db8:')) return 'private';
  return 'public';
}

/** What kind of address `ip` is, or null when it is not an IP address. */
export function addressKind(ip: string): AddressKind | null {
  return ipv4Kind(ip) ?? ipv6Kind(ip);
}

/** The addresses a host name resolves to (A and AAAA), over DNS-over-HTTPS. */
export async function resolveHost(host: string, resolver: string): Promise<string[]> {
  const lookups = await Promise.all(
    ['A', 'AAAA'].map(async (type) => {
      const res = await fetch(`${resolver}?name=${encodeURIComponent(host)}&type=${type}`, {
        headers: { Accept: 'application/dns-json' },
        signal: AbortSignal.timeout(5000),
      });
      if (!res.ok) throw new UnsafeUrlError(`its host ${host} could not be resolved (resolver answered ${res.status})`);
      const body = (await res.json()) as { Answer?: { type: number; data: string }[] };
      return (body.Answer ?? []).filter((a) => a.type === 1 || a.type === 28).map((a) => a.data);
    }),
  );
  return lookups.flat();
}

/**
 * Refuses a host that is, or resolves to (A and AAAA, over DNS-over-HTTPS), a private, link-local or
 * loopback address, or that resolves to nothing; loopback alone passes with `allowLoopback` (tests and
 * local development). DNS answers change, so callers check again when they can.
 */
export async function assertPublicHost(hostname: string, options: { allowLoopback: boolean; resolver?: string }): Promise<void> {
  const host = hostname.toLowerCase();
  const literal = addressKind(host);
  const kinds: AddressKind[] =
    literal !== null ? [literal]
    : host === 'localhost' || host.endsWith('.localhost') ? ['loopback']
    : (await resolveHost(host, options.resolver || DEFAULT_DNS_RESOLVER)).map((ip) => addressKind(ip) ?? 'private');
  if (kinds.length === 0) throw new UnsafeUrlError(`its host ${host} does not resolve`);
  if (kinds.includes('private') || (kinds.includes('loopback') && !options.allowLoopback)) {
    throw new UnsafeUrlError(`its host ${host} is (or resolves to) a private or loopback address`);
  }
}
