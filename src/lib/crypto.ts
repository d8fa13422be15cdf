import { fromBase64Url, toBase64Url, toHex } from './encoding';

const encoder = new TextEncoder();

/** Production Workers cap PBKDF2 at 100,000 iterations; stored hashes record their own count. */
export const PBKDF2_ITERATIONS = 100_000;
/** The lowest work factor `PASSWORD_HASH_ITERATIONS` may set (test suites); anything else is ignored. */
export const PBKDF2_MIN_ITERATIONS = 1_000;
let workFactor = PBKDF2_ITERATIONS;
let configuredFrom: string | undefined;

/**
 * Sets the work factor for new password hashes from `PASSWORD_HASH_ITERATIONS`. Unset in production
 * (100,000, the platform's cap); the test suite lowers it so thousands of registrations stay cheap.
 * Values outside 1,000–100,000 or not whole numbers are ignored. Stored hashes keep their own count,
 * so hashes made with a lower factor are rehashed at the next sign-in once the factor is raised.
 */
export function configurePasswordHashing(setting: string | undefined): void {
  // Called by every request; the setting only changes between deployments (and in tests).
  if (setting === configuredFrom) return;
  configuredFrom = setting;
  const value = setting === undefined || setting === '' ? NaN : Number(setting);
  workFactor = Number.isInteger(value) && value >= PBKDF2_MIN_ITERATIONS && value <= PBKDF2_ITERATIONS ? value : PBKDF2_ITERATIONS;
}

/** The work factor new hashes are made with. */
export function passwordHashIterations(): number {
  return workFactor;
}
const ALGORITHM = 'pbkdf2_sha256';
const KEY_BITS = 256;

async function pbkdf2(password: string, salt: Uint8Array, iterations: number): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey('raw', encoder.encode(password), 'PBKDF2', false, ['deriveBits']);
  const bits = await crypto.subtle.deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt, iterations }, key, KEY_BITS);
  return new Uint8Array(bits);
}

/** Hashes a password as `pbkdf2_sha256$<iterations>$<salt>$<hash>` (base64url parts). */
export async function hashPassword(password: string): Promise<string> {
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const iterations = workFactor;
  const hash = await pbkdf2(password, salt, iterations);
  return `${ALGORITHM}$${iterations}$${toBase64Url(salt)}$${toBase64Url(hash)}`;
}

export interface PasswordCheck {
  ok: boolean;
  /** True when the stored hash uses weaker parameters than today's and should be replaced. */
  needsRehash: boolean;
}

/** Verifies a password against a stored hash in constant time. */
export async function verifyPassword(password: string, stored: string): Promise<PasswordCheck> {
  const [algorithm, iterText, saltText, hashText] = stored.split('$');
  const iterations = Number(iterText);
  if (algorithm !== ALGORITHM || !Number.isInteger(iterations) || !saltText || !hashText) {
    // No usable hash (an account made by an OAuth sign-in has none yet): as slow as a real check, so
    // a login's answer time does not single such accounts out.
    await burnPasswordCheck(password);
    return { ok: false, needsRehash: false };
  }
  const expected = fromBase64Url(hashText);
  const actual = await pbkdf2(password, fromBase64Url(saltText), Math.min(iterations, PBKDF2_ITERATIONS));
  return { ok: timingSafeEqual(actual, expected), needsRehash: iterations < workFactor };
}

const dummyHashes = new Map<number, Promise<string>>();
/** Spends the same time as a real check, so unknown accounts answer as slowly as wrong passwords. */
export async function burnPasswordCheck(password: string): Promise<void> {
  let dummy = dummyHashes.get(workFactor);
  if (!dummy) {
    dummy = hashPassword('kith-timing-equaliser');
    dummyHashes.set(workFactor, dummy);
  }
  await verifyPassword(password, await dummy);
}

export function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/** A random opaque token (32 bytes, base64url). */
export function randomToken(bytes = 32): string {
  return toBase64Url(crypto.getRandomValues(new Uint8Array(bytes)));
}

export async function sha256Hex(data: string | ArrayBuffer | Uint8Array): Promise<string> {
  const input = typeof data === 'string' ? encoder.encode(data) : data;
  return toHex(await crypto.subtle.digest('SHA-256', input));
}

/** Keys imported from the deployment's secrets, once per isolate (a secret rarely changes; a few at most). */
const importedKeys = new Map<string, Promise<CryptoKey>>();

function importedKey(id: string, importKey: () => Promise<CryptoKey>): Promise<CryptoKey> {
  let key = importedKeys.get(id);
  if (!key) {
    if (importedKeys.size >= 16) importedKeys.clear();
    key = importKey();
    importedKeys.set(id, key);
  }
  return key;
}

/** HMAC-SHA256 of `message` keyed by `secret`. */
export async function hmacSha256(secret: string, message: string): Promise<Uint8Array> {
  const key = importedKey(`hmac:${secret}`, () => crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']));
  return new Uint8Array(await crypto.subtle.sign('HMAC', await key, encoder.encode(message)));
}

/** HMAC-SHA256 of `message` keyed by `secret`, as hex. */
export async function hmacSha256Hex(secret: string, message: string): Promise<string> {
  return toHex(await hmacSha256(secret, message));
}

/** The AES-GCM key for `label` under `secret`: SHA-256 of `<label>:<secret>`. */
function sealingKey(label: string, secret: string): Promise<CryptoKey> {
  return importedKey(`aes:${label}:${secret}`, async () =>
    crypto.subtle.importKey('raw', await crypto.subtle.digest('SHA-256', encoder.encode(`${label}:${secret}`)), 'AES-GCM', false, ['encrypt', 'decrypt']),
  );
}

/** AES-GCM encryption of `plain` under the key for `label` and `secret`, with a fresh 12-byte IV. */
export async function sealBytes(label: string, secret: string, plain: Uint8Array): Promise<{ iv: Uint8Array; sealed: Uint8Array }> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  return { iv, sealed: new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, await sealingKey(label, secret), plain)) };
}

/** What {@link sealBytes} sealed; throws when the bytes were not sealed under that key, or were changed. */
export async function openBytes(label: string, secret: string, iv: Uint8Array, sealed: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.decrypt({ name: 'AES-GCM', iv }, await sealingKey(label, secret), sealed));
}
