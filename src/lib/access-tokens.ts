import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import { ApiError } from './errors';
import type { Bindings } from './types';

const ISSUER = 'kith';
const AUDIENCE = 'kith-api';
const DEFAULT_TTL_SECONDS = 900;
/** How far in the future `iat` may lie: skew between the clock that minted a token and the one checking it. */
const CLOCK_SKEW_SECONDS = 5;
const INVALID_TOKEN = { 'WWW-Authenticate': 'Bearer error="invalid_token"' };

export interface AccessClaims {
  userId: string;
  sessionId: string;
}

/** The signing key; without the secret, auth answers 503 instead of falling back to a default. */
export function signingKey(env: Bindings): Uint8Array {
  if (!env.JWT_SECRET || env.JWT_SECRET.length < 32) {
    throw new ApiError('service_unavailable', 'Authentication is not configured: set the JWT_SECRET secret (at least 32 characters).');
  }
  return new TextEncoder().encode(env.JWT_SECRET);
}

let cachedKey: { secret: string; key: Promise<CryptoKey> } | undefined;

/** The HMAC key, imported once per isolate (and again only if the secret changes). */
function hmacKey(env: Bindings): Promise<CryptoKey> {
  const raw = signingKey(env);
  const secret = env.JWT_SECRET!;
  if (cachedKey?.secret !== secret) {
    cachedKey = { secret, key: crypto.subtle.importKey('raw', raw, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']) };
  }
  return cachedKey.key;
}

/**
 * Splits an Authorization header: no header, a bearer token, or a malformed value.
 */
export function parseBearer(header: string | undefined): { token?: string; malformed: boolean } {
  if (header === undefined) return { malformed: false };
  const match = /^Bearer +([A-Za-z0-9\-_.]+=*) *$/i.exec(header);
  return match?.[1] ? { token: match[1], malformed: false } : { malformed: true };
}

export function accessTokenTtl(env: Bindings): number {
  const ttl = Number(env.ACCESS_TOKEN_TTL_SECONDS);
  return Number.isInteger(ttl) && ttl > 0 ? ttl : DEFAULT_TTL_SECONDS;
}

export async function signAccessToken(env: Bindings, claims: AccessClaims): Promise<string> {
  return new SignJWT({ sid: claims.sessionId, typ: 'access' })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(claims.userId)
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + accessTokenTtl(env))
    .sign(await hmacKey(env));
}

/**
 * Access tokens this isolate has verified, until they expire: a client's next request with the same
 * token skips decoding and the HMAC. Keyed by the whole token (signature included) and the secret, so
 * only the exact token verified under the current key hits; whether its session is still live is
 * checked on every request regardless (middleware/auth.ts).
 */
const verifiedTokens = new Map<string, { claims: AccessClaims; expiresAtMs: number; secret: string }>();
const MAX_VERIFIED_TOKENS = 10_000;

/**
 * Verifies signature, algorithm, issuer, audience and expiry; any failure is a 401 that says which.
 * A token must carry `iat` (not in the future) and `exp`, and live no longer than the configured
 * lifetime (`exp - iat <= ACCESS_TOKEN_TTL_SECONDS`), so a minting bug cannot make an immortal token.
 */
export async function verifyAccessToken(env: Bindings, token: string): Promise<AccessClaims> {
  const known = verifiedTokens.get(token);
  if (known && known.secret === env.JWT_SECRET && known.expiresAtMs > Date.now()) return known.claims;
  const key = await hmacKey(env);
  try {
    const ttl = accessTokenTtl(env);
    const { payload } = await jwtVerify(token, key, {
      algorithms: ['HS256'],
      issuer: ISSUER,
      audience: AUDIENCE,
      requiredClaims: ['exp', 'iat'],
    });
    if (payload.typ !== 'access' || typeof payload.sub !== 'string' || typeof payload.sid !== 'string') {
      throw new ApiError('unauthorized', 'The access token is invalid.');
    }
    if (payload.iat! > Date.now() / 1000 + CLOCK_SKEW_SECONDS || payload.exp! - payload.iat! > ttl) {
      throw new ApiError('unauthorized', 'The access token lives longer than access tokens may; log in again.', { headers: INVALID_TOKEN });
    }
    const claims = { userId: payload.sub, sessionId: payload.sid };
    if (verifiedTokens.size >= MAX_VERIFIED_TOKENS) verifiedTokens.clear();
    verifiedTokens.set(token, { claims, expiresAtMs: payload.exp! * 1000, secret: env.JWT_SECRET! });
    return claims;
  } catch (err) {
    if (err instanceof ApiError) throw err;
    const expired = err instanceof joseErrors.JWTExpired;
    throw new ApiError('unauthorized', expired ? 'The access token has expired; refresh it.' : 'The access token is invalid.', { headers: INVALID_TOKEN });
  }
}
