import { env } from 'cloudflare:workers';
import { expect } from 'vitest';
import { call, createUser, expectProblem, expectStatus, type TestUser } from '../helpers/client';
import { IMAGE_FIXTURES } from '../helpers/images';
import { sha256Hex } from '../../src/lib/crypto';
import { mediaKey } from '../../src/modules/media/media.keys';

export type FixtureName = keyof typeof IMAGE_FIXTURES;
export const FIXTURE_NAMES = Object.keys(IMAGE_FIXTURES) as FixtureName[];

export const FIVE_MB = 5 * 1024 * 1024;

/** A multipart body with one `file` part. */
export function formWith(bytes: Uint8Array, filename = 'upload.bin', type = 'application/octet-stream', field = 'file'): FormData {
  const form = new FormData();
  form.append(field, new File([bytes], filename, { type }));
  return form;
}

/** PUT /me/avatar as multipart. */
export function putAvatarMultipart(user: TestUser, bytes: Uint8Array, filename = 'avatar', type = 'application/octet-stream'): Promise<Response> {
  return call('/me/avatar', { method: 'PUT', token: user.accessToken, body: formWith(bytes, filename, type) });
}

/** PUT /me/avatar with the raw bytes as the body. */
export function putAvatarRaw(user: TestUser, bytes: Uint8Array, contentType: string): Promise<Response> {
  return call('/me/avatar', { method: 'PUT', token: user.accessToken, body: bytes, headers: { 'Content-Type': contentType } });
}

/** POST /media as multipart. */
export function uploadMedia(user: TestUser, bytes: Uint8Array, filename = 'photo', type = 'application/octet-stream'): Promise<Response> {
  return call('/media', { method: 'POST', token: user.accessToken, body: formWith(bytes, filename, type) });
}

/** Uploads an avatar (multipart) and returns the resulting me. */
export async function setAvatar(user: TestUser, fixture: FixtureName = 'png'): Promise<any> {
  const me = await expectStatus(await putAvatarMultipart(user, IMAGE_FIXTURES[fixture].bytes), 200);
  expect(me.avatar_url).toEqual(expect.any(String));
  return me;
}

/** The media key at the end of an avatar/media URL. */
export function keyOf(url: string): string {
  const key = new URL(url).pathname.split('/api/v1/media/')[1];
  if (!key) throw new Error(`not a media url: ${url}`);
  return key;
}

/** The R2 object of a media key (or null when it is gone). */
export function headObject(key: string, width?: number): Promise<R2Object | null> {
  return env.MEDIA.head(width ? `media/${key}/w${width}` : `media/${key}`);
}

export async function bodyBytes(res: Response): Promise<Uint8Array> {
  return new Uint8Array(await res.arrayBuffer());
}

/** Reads the pixel dimensions from an image's header bytes (PNG, JPEG, GIF, WebP). */
export function imageSize(bytes: Uint8Array): { width: number; height: number; type: string } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const ascii = (from: number, len: number) => String.fromCharCode(...bytes.subarray(from, from + len));
  if (bytes[0] === 0x89 && ascii(1, 3) === 'PNG') {
    // IHDR is the first chunk: width and height big-endian at offsets 16 and 20.
    expect(ascii(12, 4)).toBe('IHDR');
    return { type: 'image/png', width: view.getUint32(16), height: view.getUint32(20) };
  }
  if (bytes[0] === 0xff && bytes[1] === 0xd8) {
    let offset = 2;
    while (offset < bytes.byteLength) {
      if (bytes[offset] !== 0xff) throw new Error(`bad JPEG marker at ${offset}`);
      const marker = bytes[offset + 1]!;
      if (marker === 0xff) {
        offset += 1;
        continue;
      }
      const length = view.getUint16(offset + 2);
      // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC).
      if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
        return { type: 'image/jpeg', height: view.getUint16(offset + 5), width: view.getUint16(offset + 7) };
      }
      offset += 2 + length;
    }
    throw new Error('no SOF marker in JPEG');
  }
  if (ascii(0, 3) === 'GIF') {
    return { type: 'image/gif', width: view.getUint16(6, true), height: view.getUint16(8, true) };
  }
  if (ascii(0, 4) === 'RIFF' && ascii(8, 4) === 'WEBP') {
    const chunk = ascii(12, 4);
    if (chunk === 'VP8X') {
      const u24 = (o: number) => bytes[o]! | (bytes[o + 1]! << 8) | (bytes[o + 2]! << 16);
      return { type: 'image/webp', width: u24(24) + 1, height: u24(27) + 1 };
    }
    if (chunk === 'VP8L') {
      const bits = view.getUint32(21, true);
      return { type: 'image/webp', width: (bits & 0x3fff) + 1, height: ((bits >> 14) & 0x3fff) + 1 };
    }
    if (chunk === 'VP8 ') {
      return { type: 'image/webp', width: view.getUint16(26, true) & 0x3fff, height: view.getUint16(28, true) & 0x3fff };
    }
    throw new Error(`unknown WebP chunk ${chunk}`);
  }
  throw new Error('not a known image format');
}

/** The type Kith stores an upload of `type` as: metadata is stripped by re-encoding, and GIFs become animated WebP. */
export const storedType = (type: string) => (type === 'image/gif' ? 'image/webp' : type);

/** Asserts served bytes are the stripped re-encoding of a 300x200 fixture of `type`, and match the key's (keyed) hash. */
export async function expectStoredFixture(bytes: Uint8Array, type: string, url?: string): Promise<void> {
  expect(imageSize(bytes)).toEqual({ type: storedType(type), width: 300, height: 200 });
  if (url) {
    const key = url.slice(url.lastIndexOf('/') + 1);
    const owner = key.slice(0, key.indexOf('-'));
    expect(key, 'the key names the stored bytes').toBe(await mediaKey(env.JWT_SECRET, owner, await sha256Hex(bytes)));
  }
}

/** Every R2 object (originals and variants) stored under a user's prefix. */
export async function objectsOf(userId: string): Promise<string[]> {
  const listing = await env.MEDIA.list({ prefix: `media/${userId}-` });
  return listing.objects.map((o) => o.key);
}

/** The status of an image's URL (and `?w=64`) for a caller, its body read. */
export async function statusOf(url: string, viewer?: TestUser, query = ''): Promise<number> {
  const res = await call(`${url}${query}`, { token: viewer?.accessToken });
  await res.arrayBuffer();
  return res.status;
}

/** Public: served to anonymous callers, original and variant. */
export async function expectPublic(url: string): Promise<void> {
  expect(await statusOf(url), url).toBe(200);
  expect(await statusOf(url, undefined, '?w=64'), `${url}?w=64`).toBe(200);
}

/** Withdrawn: 404 (a problem, as for an unknown key) to anonymous callers and strangers, served to owner and staff. */
export async function expectWithdrawn(url: string, owner: TestUser, staff: TestUser): Promise<void> {
  const stranger = await createUser();
  await expectProblem(await call(url), 404);
  await expectProblem(await call(`${url}?w=64`), 404);
  await expectProblem(await call(url, { token: stranger.accessToken }), 404);
  for (const allowed of [owner, staff]) {
    expect(await statusOf(url, allowed)).toBe(200);
    expect(await statusOf(url, allowed, '?w=128')).toBe(200);
  }
}
