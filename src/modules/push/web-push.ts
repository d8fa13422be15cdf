import { encryptNotification } from '@block65/webcrypto-web-push';
import { importJWK, jwtVerify, SignJWT, type CryptoKey as JoseKey } from 'jose';
import { fromBase64Url, toBase64Url } from '../../lib/encoding';
import type { Bindings } from '../../lib/types';

/** How long a push service gets to answer one delivery before it counts as failed (and is retried). */
export const PUSH_TIMEOUT_MS = 5000;
/** VAPID tokens live 12 hours (RFC 8292 allows at most 24). */
const VAPID_TOKEN_SECONDS = 12 * 60 * 60;

export type Urgency = 'very-low' | 'low' | 'normal' | 'high';
export interface PushTarget {
  endpoint: string;
  p256dh: string;
  auth: string;
}
export interface PushOptions {
  ttl: number;
  urgency: Urgency;
  /** Replaces an undelivered push with the same topic (RFC 8030 §5.4): a missed call replaces its ring. */
  topic?: string;
}
/** What a push service said: delivered; gone for good (delete the subscription); worth retrying (after `retryAfter` s); or refused (any other answer, a redirect included). */
export type PushOutcome = { kind: 'delivered' } | { kind: 'gone'; status: number } | { kind: 'retry'; status: number | null; retryAfter?: number } | { kind: 'refused'; status: number };

export interface VapidConfig {
  publicKey: string;
  subject: string;
  key: JoseKey;
}

let vapidCache: { raw: string; config: VapidConfig } | null = null;

/**
 * The server's VAPID identity from the secrets: VAPID_PUBLIC_KEY (the 65-byte uncompressed P-256 point)
 * and VAPID_PRIVATE_KEY (the 32-byte scalar), both base64url, as `npm run vapid` prints them. Null when
 * either is missing or they do not form a P-256 key pair.
 */
export async function vapidConfig(env: Bindings): Promise<VapidConfig | null> {
  const { VAPID_PUBLIC_KEY: publicKey, VAPID_PRIVATE_KEY: privateKey } = env;
  if (!publicKey || !privateKey) return null;
  const raw = `${publicKey}.${privateKey}.${env.VAPID_SUBJECT ?? ''}`;
  if (vapidCache?.raw === raw) return vapidCache.config;
  try {
    const point = fromBase64Url(publicKey);
    if (point.length !== 65 || point[0] !== 4 || fromBase64Url(privateKey).length !== 32) return null;
    const publicJwk = { kty: 'EC', crv: 'P-256', x: toBase64Url(point.slice(1, 33)), y: toBase64Url(point.slice(33)) };
    const key = (await importJWK({ ...publicJwk, d: privateKey }, 'ES256')) as JoseKey;
    // A token its own public half verifies: the two secrets belong together.
    await jwtVerify(await new SignJWT({}).setProtectedHeader({ alg: 'ES256' }).sign(key), await importJWK(publicJwk, 'ES256'));
    const config = { publicKey, subject: env.VAPID_SUBJECT || 'mailto:push@kith.invalid', key };
    vapidCache = { raw, config };
    return config;
  } catch {
    return null;
  }
}

/**
 * Whether `p256dh` is a point on P-256 (65 bytes, uncompressed) that WebCrypto accepts as an ECDH key:
 * what RFC 8291 encryption needs of a subscription.
 */
export async function isP256Point(p256dh: string): Promise<boolean> {
  try {
    const bytes = fromBase64Url(p256dh);
    if (bytes.length !== 65 || bytes[0] !== 4) return false;
    await crypto.subtle.importKey('raw', bytes, { name: 'ECDH', namedCurve: 'P-256' }, false, []);
    return true;
  } catch {
    return false;
  }
}

/**
 * Sends one notification: the payload encrypted for the subscription (RFC 8291 `aes128gcm`, by
 * @block65/webcrypto-web-push) and signed for its push service (RFC 8292 VAPID, a jose ES256 token whose
 * audience is the endpoint's origin). Plain-http endpoints (PUSH_ALLOW_HTTP, local development) go the
 * same way, which is why the library's own https-only header builder is not used. Never waits longer
 * than {@link PUSH_TIMEOUT_MS} (or PUSH_TIMEOUT_MS from the environment).
 */
export async function sendPush(env: Bindings, vapid: VapidConfig, target: PushTarget, payload: unknown, options: PushOptions): Promise<PushOutcome> {
  const endpoint = new URL(target.endpoint);
  const body = await encryptNotification(
    { endpoint: target.endpoint, expirationTime: null, keys: { p256dh: target.p256dh, auth: target.auth } },
    new TextEncoder().encode(JSON.stringify(payload)),
  );
  const now = Math.floor(Date.now() / 1000);
  const token = await new SignJWT({ sub: vapid.subject })
    .setProtectedHeader({ alg: 'ES256', typ: 'JWT' })
    .setAudience(endpoint.origin)
    .setExpirationTime(now + VAPID_TOKEN_SECONDS)
    .sign(vapid.key);
  const headers: Record<string, string> = {
    Authorization: `vapid t=${token}, k=${vapid.publicKey}`,
    TTL: String(options.ttl),
    Urgency: options.urgency,
    'Content-Encoding': 'aes128gcm',
    'Content-Type': 'application/octet-stream',
  };
  if (options.topic) headers.Topic = options.topic;
  let res: Response;
  try {
    // A push service answers where it is; a redirect elsewhere is refused, never followed.
    res = await fetch(target.endpoint, { method: 'POST', headers, body, redirect: 'manual', signal: AbortSignal.timeout(Number(env.PUSH_TIMEOUT_MS) || PUSH_TIMEOUT_MS) });
  } catch {
    return { kind: 'retry', status: null }; // timed out or unreachable
  }
  await res.body?.cancel();
  if (res.status >= 200 && res.status < 300) return { kind: 'delivered' };
  if (res.status === 404 || res.status === 410) return { kind: 'gone', status: res.status };
  if (res.status === 429 || res.status >= 500) {
    const retryAfter = Number(res.headers.get('Retry-After'));
    return { kind: 'retry', status: res.status, ...(Number.isFinite(retryAfter) && retryAfter > 0 ? { retryAfter } : {}) };
  }
  return { kind: 'refused', status: res.status };
}
