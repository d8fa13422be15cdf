import { and, eq } from 'drizzle-orm';
import { purgeEdgeGroups, purgeEdgePaths } from '../../lib/edge-cache';
import type { Context } from 'hono';
import { disableTypes, imageSize, types as imageSizeTypes } from 'image-size';
import { media, type MediaRow } from '../../db/schema';
import { ApiError } from '../../lib/errors';
import { sha256Hex } from '../../lib/crypto';
import { concatBytes } from '../../lib/encoding';
import { newId } from '../../lib/ids';
import type { AppEnv, Bindings } from '../../lib/types';
import type { D1Client } from '../../db/client';
import { isStaffRole } from '../../middleware/require-staff';
import { currentUser } from '../../middleware/auth';
import { throttleRefusal, throttleTake, type ThrottleWindow } from '../../lib/throttle';
import type { IMAGE_TYPES } from './media.schemas';
import { withoutMetadataContainers } from './containers';
import { CACHE_FOREVER, mediaKey, mediaPaths, mediaUrl, objectName, ownerOfKey, ownerPrefix, VARIANT_WIDTHS, type VariantWidth } from './media.keys';

export { CACHE_FOREVER };

/** Uploads: 5 MB per file (contract). Multipart framing may add a little on top. */
export const MAX_UPLOAD_BYTES = 5 * 1024 * 1024;
const MULTIPART_OVERHEAD = 64 * 1024;

export type ImageType = (typeof IMAGE_TYPES)[number];

/** Decoding limits, checked from the header before anything decodes the pixels. */
export const MAX_IMAGE_PIXELS = 50_000_000;
export const MAX_IMAGE_SIDE = 10_000;

const tooLarge = () => new ApiError('payload_too_large', 'The file is larger than 5 MB.');
const notAnImage = () => new ApiError('unsupported_media_type', 'Only JPEG, PNG, WebP and GIF images are accepted (checked by content).');

/** Decides the type from the bytes themselves: the file name and declared type are never trusted. */
export function sniffImageType(bytes: Uint8Array): ImageType | null {
  const at = (i: number) => bytes[i];
  const ascii = (from: number, text: string) => [...text].every((ch, i) => at(from + i) === ch.charCodeAt(0));
  if (at(0) === 0xff && at(1) === 0xd8 && at(2) === 0xff) return 'image/jpeg';
  if ([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a].every((b, i) => at(i) === b)) return 'image/png';
  if (ascii(0, 'GIF87a') || ascii(0, 'GIF89a')) return 'image/gif';
  if (ascii(0, 'RIFF') && ascii(8, 'WEBP')) return 'image/webp';
  return null;
}

/** Reads a body into memory, throwing `tooBig()` (by default a 413) as soon as it passes `limit` bytes. */
export async function readBounded(body: ReadableStream<Uint8Array> | null, limit: number, tooBig: () => Error = tooLarge): Promise<Uint8Array> {
  if (!body) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw tooBig();
    }
    chunks.push(value);
  }
  return concatBytes(chunks);
}

/**
 * The part `file` of a `multipart/form-data` request, its size enforced while streaming (`tooBig()`
 * past `limit` bytes, plus a little for the framing) before anything is parsed; 400 when missing or empty.
 */
export async function readMultipartFile(c: Context<AppEnv>, limit: number, tooBig: () => Error): Promise<File> {
  const contentType = (c.req.header('Content-Type') ?? '').toLowerCase();
  if (Number(c.req.header('Content-Length')) > limit + MULTIPART_OVERHEAD) throw tooBig();
  const raw = await readBounded(c.req.raw.body, limit + MULTIPART_OVERHEAD, tooBig);
  let form: FormData;
  try {
    form = await new Response(raw, { headers: { 'Content-Type': contentType } }).formData();
  } catch {
    throw ApiError.field('file', 'the multipart body could not be parsed');
  }
  const file = form.get('file');
  if (file === null || typeof file === 'string') throw ApiError.field('file', 'is required (a file part named "file")');
  if (file.size > limit) throw tooBig();
  if (file.size === 0) throw ApiError.field('file', 'is empty');
  return file;
}

/**
 * Images one account may upload in a day (POST /media, its avatar, the avatars of its communities),
 * whatever becomes of them: a fixed 24-hour window from its first upload (D1 `auth_throttles`, key
 * `uploads:<user id>`). Past it, 429 with `Retry-After` before the body is read, and nothing is stored.
 */
export const UPLOADS: ThrottleWindow = { max: 200, ms: 24 * 60 * 60 * 1000 };
export const uploadsKey = (userId: string) => `uploads:${userId}`;

/** Takes one upload of the caller's day (see {@link UPLOADS}), or answers 429. */
async function takeUpload(c: Context<AppEnv>): Promise<void> {
  const key = uploadsKey(currentUser(c).userId);
  const { taken } = await throttleTake(c.var.d1, key, UPLOADS, 1, { whole: true });
  if (taken < 1) throw await throttleRefusal(c.var.d1, key, UPLOADS, `At most ${UPLOADS.max} image uploads a day: try again later.`);
}

/**
 * Reads an upload: `multipart/form-data` with a `file` field, or a raw `image/*` (or octet-stream) body.
 * Counts it against the caller's daily uploads first; size is enforced while streaming, before anything
 * is parsed.
 */
export async function readUpload(c: Context<AppEnv>): Promise<Uint8Array> {
  await takeUpload(c);
  const contentType = (c.req.header('Content-Type') ?? '').toLowerCase();
  const declared = Number(c.req.header('Content-Length'));
  if (contentType.startsWith('multipart/form-data')) {
    return new Uint8Array(await (await readMultipartFile(c, MAX_UPLOAD_BYTES, tooLarge)).arrayBuffer());
  }
  if (contentType.startsWith('image/') || contentType.startsWith('application/octet-stream')) {
    if (declared > MAX_UPLOAD_BYTES) throw tooLarge();
    const bytes = await readBounded(c.req.raw.body, MAX_UPLOAD_BYTES);
    if (bytes.byteLength === 0) throw ApiError.field('file', 'is empty');
    return bytes;
  }
  throw new ApiError('unsupported_media_type', 'Send multipart/form-data with a "file" part, or the raw image bytes with an image/* Content-Type.');
}

function streamOf(bytes: Uint8Array): ReadableStream<Uint8Array> {
  return new Response(bytes).body as ReadableStream<Uint8Array>;
}

export interface StoredImage {
  key: string;
  contentType: ImageType;
  size: number;
  width: number;
  height: number;
}

/** image-size's names of the formats Kith takes; no other header parser may claim a file (a garbage PNG is no TGA). */
const HEADER_TYPES: Record<string, ImageType> = { jpg: 'image/jpeg', png: 'image/png', gif: 'image/gif', webp: 'image/webp' };
disableTypes(imageSizeTypes.filter((type) => !(type in HEADER_TYPES)));

/** Width and height from the header alone (image-size reads no pixels); undefined when it has none. */
function headerSize(bytes: Uint8Array): { width: number; height: number } | undefined {
  try {
    const { width, height, type } = imageSize(bytes);
    return width && height && type && type in HEADER_TYPES ? { width, height } : undefined;
  } catch {
    return undefined;
  }
}

const pixelsTooMany = (message: string) => new ApiError('payload_too_large', `file: ${message}.`, { errors: [{ field: 'file', message }] });

/**
 * Refuses, from the header and before any decoding, an image over {@link MAX_IMAGE_PIXELS} pixels or with
 * a side over {@link MAX_IMAGE_SIDE}: a 31 KB PNG can describe a gigabyte of pixels. An animation
 * (GIF, animated WebP, APNG) counts every frame: its frames together hold at most
 * {@link MAX_IMAGE_PIXELS} pixels (a few KB of GIF can describe hundreds of near-empty 7,000 x 7,000
 * frames, each decoded whole; and Cloudflare's Images passes an animation over 50 megapixels through
 * untransformed, metadata and all).
 */
export function assertDecodable(bytes: Uint8Array): { width: number; height: number } {
  const size = headerSize(bytes);
  if (!size) throw new ApiError('unsupported_media_type', 'The file looks like an image but its header could not be read.');
  const frames = frameSizes(bytes) ?? [size];
  for (const side of [size, ...frames]) {
    if (side.width > MAX_IMAGE_SIDE || side.height > MAX_IMAGE_SIDE || side.width * side.height > MAX_IMAGE_PIXELS) {
      throw pixelsTooMany(`is ${side.width} x ${side.height} pixels: at most ${MAX_IMAGE_SIDE.toLocaleString('en')} pixels a side and ${MAX_IMAGE_PIXELS / 1_000_000} megapixels`);
    }
  }
  const total = frames.reduce((sum, f) => sum + f.width * f.height, 0);
  if (total > MAX_IMAGE_PIXELS) {
    throw pixelsTooMany(`has ${frames.length} frames of ${total.toLocaleString('en')} pixels in all: an animation holds at most ${MAX_IMAGE_PIXELS / 1_000_000} megapixels across its frames`);
  }
  return size;
}

type Side = { width: number; height: number };

/**
 * The size of every frame an image holds, from its container alone (no pixel is decoded): GIF image
 * descriptors, WebP `ANMF` chunks, APNG `fcTL` chunks (plus the default image when it is no frame).
 * Undefined for a still image (a JPEG, a PNG without `fcTL`, a WebP without `ANMF`), whose header size is
 * its only frame. Stops at the first block that overruns the file: what follows decodes as nothing.
 */
export function frameSizes(bytes: Uint8Array): Side[] | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const ascii = (from: number, length: number) => String.fromCharCode(...bytes.subarray(from, from + length));
  const frames: Side[] = [];
  if (ascii(0, 3) === 'GIF') {
    const flags = bytes[10] ?? 0;
    let at = 13 + (flags & 0x80 ? 3 * 2 ** ((flags & 7) + 1) : 0);
    const skipSubBlocks = () => {
      while (at < bytes.length && bytes[at] !== 0) at += 1 + bytes[at]!;
      at += 1;
    };
    while (at < bytes.length) {
      const block = bytes[at];
      if (block === 0x2c && at + 10 <= bytes.length) {
        frames.push({ width: view.getUint16(at + 5, true), height: view.getUint16(at + 7, true) });
        const local = bytes[at + 9]!;
        at += 10 + (local & 0x80 ? 3 * 2 ** ((local & 7) + 1) : 0) + 1; // descriptor, local table, LZW code size
        skipSubBlocks();
      } else if (block === 0x21) {
        at += 2;
        skipSubBlocks();
      } else break; // the trailer (0x3b), or bytes no decoder reads as a frame
    }
    return frames.length > 0 ? frames : undefined;
  }
  if (ascii(0, 4) === 'RIFF' && ascii(8, 4) === 'WEBP') {
    const u24 = (o: number) => bytes[o]! | (bytes[o + 1]! << 8) | (bytes[o + 2]! << 16);
    for (let at = 12; at + 8 <= bytes.length; ) {
      const length = view.getUint32(at + 4, true);
      if (ascii(at, 4) === 'ANMF' && at + 20 <= bytes.length) frames.push({ width: u24(at + 14) + 1, height: u24(at + 17) + 1 });
      at += 8 + length + (length % 2);
    }
    return frames.length > 0 ? frames : undefined;
  }
  if (bytes[0] === 0x89 && ascii(1, 3) === 'PNG') {
    let defaultIsFrame = false;
    let sawData = false;
    for (let at = 8; at + 8 <= bytes.length; ) {
      const length = view.getUint32(at);
      const type = ascii(at + 4, 4);
      if (type === 'fcTL' && at + 20 <= bytes.length) {
        if (!sawData) defaultIsFrame = true;
        frames.push({ width: view.getUint32(at + 12), height: view.getUint32(at + 16) });
      } else if (type === 'IDAT') sawData = true;
      at += 12 + length;
    }
    if (frames.length === 0) return undefined;
    return defaultIsFrame ? frames : [{ width: view.getUint32(16), height: view.getUint32(20) }, ...frames];
  }
  return undefined;
}

async function encode(env: Pick<Bindings, 'IMAGES'>, bytes: Uint8Array, format: ImageType): Promise<{ bytes: Uint8Array; contentType: ImageType }> {
  const result = await env.IMAGES.input(streamOf(bytes)).output({ format, anim: format === 'image/webp' ? true : undefined });
  return { bytes: new Uint8Array(await new Response(result.image()).arrayBuffer()), contentType: result.contentType() as ImageType };
}

/**
 * The image re-encoded by the Images binding: the EXIF orientation is applied to the pixels and every
 * EXIF, XMP and IPTC block (GPS above all) is left behind. JPEG, PNG and WebP keep their format; a GIF
 * becomes an animated WebP (the binding's GIF output is not available everywhere, the local simulator
 * included, and WebP carries no metadata the binding did not write). Then whatever container of words
 * the encoder kept is cut out of its output ({@link withoutMetadataContainers}). 415 when it cannot be
 * decoded.
 */
export async function withoutMetadata(env: Pick<Bindings, 'IMAGES'>, bytes: Uint8Array, contentType: ImageType): Promise<{ bytes: Uint8Array; contentType: ImageType; width: number; height: number }> {
  let out: { bytes: Uint8Array; contentType: ImageType };
  try {
    out = await encode(env, bytes, contentType === 'image/gif' ? 'image/webp' : contentType);
  } catch (err) {
    throw new ApiError('unsupported_media_type', 'The file looks like an image but could not be decoded.', { cause: err });
  }
  // Whatever the encoder kept, no container of words leaves here.
  out.bytes = withoutMetadataContainers(out.bytes, out.contentType);
  const size = headerSize(out.bytes);
  if (!size) throw new ApiError('unsupported_media_type', 'The file looks like an image but could not be decoded.');
  return { ...out, ...size };
}

/**
 * Validates an image by content, refuses pixel bombs from the header, strips its metadata, and stores the
 * result in R2 under `<owner>-<keyed hash of the stored, stripped bytes>` ({@link mediaKey}): the key names
 * exactly what is served, and only to whoever was given it.
 */
export async function storeImage(env: Bindings, ownerId: string, bytes: Uint8Array): Promise<StoredImage> {
  const declared = sniffImageType(bytes);
  if (!declared) throw notAnImage();
  assertDecodable(bytes);
  const clean = await withoutMetadata(env, bytes, declared);
  const sha = await sha256Hex(clean.bytes);
  const key = await mediaKey(env.JWT_SECRET, ownerId, sha);
  const name = objectName(key);
  if (!(await env.MEDIA.head(name))) {
    await env.MEDIA.put(name, clean.bytes, {
      httpMetadata: { contentType: clean.contentType, cacheControl: CACHE_FOREVER },
      customMetadata: { owner: ownerId, width: String(clean.width), height: String(clean.height), [STRIPPED]: '1' },
      sha256: sha,
    });
  }
  return { key, contentType: clean.contentType, size: clean.bytes.byteLength, width: clean.width, height: clean.height };
}

/** Custom metadata marking an original whose metadata was stripped (at upload, or by `npm run media:scrub`). */
export const STRIPPED = 'stripped';

/**
 * Records an owner's use of a stored object (idempotent: the same bytes give the same row). A new
 * attachment joins `unattached_media` until a post or message uses it; uploading the same bytes again
 * while it waits starts its day again (see src/modules/media/unattached.ts).
 */
export async function recordMedia(c: Context<AppEnv>, ownerId: string, kind: MediaRow['kind'], image: StoredImage): Promise<MediaRow> {
  const db = c.get('db');
  const id = newId();
  await db
    .insert(media)
    .values({ id, ownerId, kind, key: image.key, contentType: image.contentType, size: image.size, width: image.width, height: image.height })
    .onConflictDoNothing();
  const row = await db.select().from(media).where(and(eq(media.ownerId, ownerId), eq(media.kind, kind), eq(media.key, image.key))).get();
  if (!row) throw new Error('media row vanished after insert');
  if (kind === 'attachment') {
    const wait =
      row.id === id
        ? 'INSERT OR IGNORE INTO unattached_media (media_id, created_at) VALUES (?1, ?2)'
        : 'UPDATE unattached_media SET created_at = ?2 WHERE media_id = ?1';
    await c.var.d1.prepare(wait).bind(row.id, Date.now()).run();
  }
  return row;
}

/** Deletes an object and its variants once no media row refers to it any more. */
export async function releaseObjectIfUnused(c: Context<AppEnv>, key: string): Promise<void> {
  await releaseUnusedObjects(c.env, [key]);
}

/**
 * Deletes the objects (and variants) of those of `keys` no media row refers to any more, unless a kept
 * copy of a message still holds them (`media_holds`: they stay, for staff only, until the hold ends), and
 * purges the edge copies of both.
 */
export async function releaseUnusedObjects(env: Pick<Bindings, 'DB' | 'MEDIA'>, keys: string[]): Promise<void> {
  if (keys.length === 0) return;
  const { results } = await env.DB.prepare(
    `SELECT k.value AS key, EXISTS (SELECT 1 FROM media_holds WHERE key = k.value) AS held FROM (SELECT DISTINCT value FROM json_each(?1)) k
     WHERE NOT EXISTS (SELECT 1 FROM media WHERE key = k.value)`,
  )
    .bind(JSON.stringify(keys))
    .all<{ key: string; held: number }>();
  if (results.length === 0) return;
  const gone = results.filter((r) => !r.held).map((r) => r.key);
  if (gone.length > 0) await env.MEDIA.delete(gone.flatMap((key) => [objectName(key), ...VARIANT_WIDTHS.map((w) => objectName(key, w))]));
  await purgeMediaCopies(results.map((r) => r.key));
}

/**
 * Whether the image under ?1, whose key names ?2 as its owner, is withdrawn from a caller who is not
 * staff (?3: 1 when the caller is that owner, who still sees what is withdrawn from the public). From the
 * public: its owner's account is suspended (all its images, until the suspension is lifted: a suspended
 * account looks deleted, and a deleted one's images are gone), or an upload row holds it and no use keeps
 * it, where a use is being an avatar (an avatar row lives while the avatar is current), being on a post
 * or in a live message or never having left one (detached_at null: see migrations/0024 and 0026), or the
 * legacy `sent_in_message` flag (sent before message_media said which messages carry it). From everyone,
 * its owner included: no upload row names it any more (its owner deleted it) and a kept copy of a message
 * holds it for reports (`media_holds`). Any other object no row names (a community's avatar) is never
 * withdrawn, nor is a community's image by its owner's suspension (?2 is then a community id, no user's).
 * Primary-key and `media_key_idx` probes only.
 */
export const MEDIA_WITHDRAWN_SQL = `SELECT (?3 = 0 AND (EXISTS (SELECT 1 FROM users WHERE id = ?2 AND suspended_at IS NOT NULL)
    OR (EXISTS (SELECT 1 FROM media WHERE key = ?1)
      AND NOT EXISTS (SELECT 1 FROM media WHERE key = ?1 AND (kind = 'avatar' OR detached_at IS NULL OR sent_in_message = 1)))))
  OR (EXISTS (SELECT 1 FROM media_holds WHERE key = ?1) AND NOT EXISTS (SELECT 1 FROM media WHERE key = ?1)) AS withdrawn`;

/**
 * 404 unless the caller may fetch the image under `key`: anyone while it is in use (its URL is the
 * capability), only its owner and staff once it is withdrawn (see {@link MEDIA_WITHDRAWN_SQL}): an image
 * whose post was deleted or removed by moderation stops being public, as the post did, and so does every
 * image of a suspended account. Staff only once its owner deleted the upload while a kept copy of a
 * message holds it. One D1 read (none for staff).
 */
export async function assertMediaServable(c: Context<AppEnv>, key: string): Promise<void> {
  const auth = c.get('auth');
  const owner = ownerOfKey(key);
  if (auth && isStaffRole(auth.role)) return;
  const row = await c.var.d1.prepare(MEDIA_WITHDRAWN_SQL).bind(key, owner, auth?.userId === owner ? 1 : 0).first<{ withdrawn: number }>();
  if (row?.withdrawn) throw new ApiError('not_found', 'No such media.');
}

/** The keys of the images on a post, read before it loses them (to purge their edge copies after). */
export async function postMediaKeys(d1: D1Client, postId: string): Promise<string[]> {
  const { results } = await d1.prepare('SELECT m.key FROM post_media pm JOIN media m ON m.id = pm.media_id WHERE pm.post_id = ?1').bind(postId).all<{ key: string }>();
  return results.map((r) => r.key);
}

/** Past this many images, purging moves the media group's epoch instead of naming every copy. */
const PURGED_KEYS_MAX = 100;

/** Drops the edge copies of these images and their variants (one may have just been withdrawn). */
export async function purgeMediaCopies(keys: string[]): Promise<void> {
  const unique = [...new Set(keys)];
  if (unique.length > PURGED_KEYS_MAX) await purgeEdgeGroups('media');
  else if (unique.length > 0) await purgeEdgePaths('media', unique.flatMap(mediaPaths));
}

/**
 * Drops the edge copies of every image an owner has (a suspension withdraws them all): one by one for a
 * few, else the whole media group of the data centre (see purgeMediaCopies).
 */
export async function purgeOwnerMediaCopies(d1: D1Client, ownerId: string): Promise<void> {
  const { results } = await d1.prepare('SELECT DISTINCT key FROM media WHERE owner_id = ?1 LIMIT ?2').bind(ownerId, PURGED_KEYS_MAX + 1).all<{ key: string }>();
  await purgeMediaCopies(results.map((r) => r.key));
}

/** Deletes every object of the bucket whose key starts with `prefix`, a thousand at a time. */
export async function deleteObjectsUnder(bucket: R2Bucket, prefix: string): Promise<void> {
  let cursor: string | undefined;
  do {
    const listing = await bucket.list({ prefix, cursor, limit: 1000 });
    if (listing.objects.length > 0) await bucket.delete(listing.objects.map((o) => o.key));
    cursor = listing.truncated ? listing.cursor : undefined;
  } while (cursor);
}

/** Removes every object an owner ever stored (account deletion). */
export async function deleteOwnerObjects(env: Bindings, ownerId: string): Promise<void> {
  await deleteObjectsUnder(env.MEDIA, ownerPrefix(ownerId));
  // Too many keys to name one by one: every cached image of the data centre goes.
  await purgeEdgeGroups('media');
}

export function presentMedia(row: MediaRow, baseUrl: string) {
  return {
    id: row.id,
    url: mediaUrl(baseUrl, row.key),
    content_type: row.contentType,
    width: row.width,
    height: row.height,
    size: row.size,
  };
}

async function resize(env: Bindings, bytes: Uint8Array, width: VariantWidth, format: ImageType, anim: boolean): Promise<{ bytes: Uint8Array; contentType: string }> {
  const result = await env.IMAGES.input(streamOf(bytes))
    .transform({ width, fit: 'scale-down' })
    .output({ format, anim: anim ? true : undefined });
  return { bytes: new Uint8Array(await new Response(result.image()).arrayBuffer()), contentType: result.contentType() };
}

/** Returns a resized variant, making and storing it on first request. */
export async function getVariant(env: Bindings, key: string, width: VariantWidth): Promise<R2ObjectBody | null> {
  const name = objectName(key, width);
  const cached = await env.MEDIA.get(name);
  if (cached) return cached;
  const original = await env.MEDIA.get(objectName(key));
  if (!original) return null;
  const contentType = (original.httpMetadata?.contentType ?? 'image/jpeg') as ImageType;
  const source = new Uint8Array(await original.arrayBuffer());
  let variant: { bytes: Uint8Array; contentType: string };
  try {
    variant = await resize(env, source, width, contentType, contentType === 'image/gif');
  } catch (err) {
    // GIF output is not available everywhere (the local Images simulator refuses it): fall back to an animated WebP.
    if (contentType !== 'image/gif') throw err;
    variant = await resize(env, source, width, 'image/webp', true);
  }
  await env.MEDIA.put(name, variant.bytes, { httpMetadata: { contentType: variant.contentType, cacheControl: CACHE_FOREVER } });
  return env.MEDIA.get(name);
}
