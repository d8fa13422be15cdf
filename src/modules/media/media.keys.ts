import { hmacSha256Hex } from '../../lib/crypto';

/** Widths served as resized variants (`?w=`). */
export const VARIANT_WIDTHS = [64, 128, 256, 512, 1024] as const;
export type VariantWidth = (typeof VARIANT_WIDTHS)[number];

/** Public key of an owner's object: `<owner id>-<64 hex>` (see {@link mediaKey}). */
export const MEDIA_KEY_PATTERN = /^[0-9A-HJKMNP-TV-Z]{26}-[0-9a-f]{64}$/;

/**
 * The key of an owner's stored bytes: `<owner id>-<HMAC-SHA256 of owner id and the bytes' SHA-256, keyed
 * by the deployment's secret>`. The same bytes of one owner keep one key (one object), but nobody can
 * work out another account's key for an image they hold: a bare SHA-256 would let anyone test whether a
 * given account uploaded a given picture (re-encoding is deterministic) and fetch it.
 */
export async function mediaKey(secret: string | undefined, ownerId: string, sha256: string): Promise<string> {
  if (!secret) throw new Error('JWT_SECRET is not set: media keys cannot be made');
  return `${ownerId}-${await hmacSha256Hex(secret, `media-key:${ownerId}:${sha256}`)}`;
}

/** R2 object names: originals at `media/<key>`, variants at `media/<key>/w<width>`. */
export const objectName = (key: string, width?: VariantWidth) => (width ? `media/${key}/w${width}` : `media/${key}`);

/** The owner (account or community) whose object a key names: the id before the dash. */
export const ownerOfKey = (key: string) => key.slice(0, key.indexOf('-'));

/** Prefix under which every object of one owner lives. */
export const ownerPrefix = (ownerId: string) => `media/${ownerId}-`;

export const mediaUrl = (baseUrl: string, key: string) => `${baseUrl}/api/v1/media/${key}`;

/** The key a {@link mediaUrl} names (its last segment), whatever base URL made it. */
export const keyOfMediaUrl = (url: string) => url.slice(url.lastIndexOf('/') + 1);

/** Stored bytes never change under their key (owner id + SHA-256), so every cache may keep them a year. */
export const CACHE_FOREVER = 'public, max-age=31536000, immutable';

/** The API paths of an image and its variants (what the edge cache holds under its key). */
export const mediaPaths = (key: string): string[] => [`/api/v1/media/${key}`, ...VARIANT_WIDTHS.map((w) => `/api/v1/media/${key}?w=${w}`)];

/**
 * Sent with every served image: should a browser ever render stored bytes as a document (a URL opened
 * directly, a sniffing proxy), nothing in them may run, load or submit anything.
 */
export const MEDIA_CSP = "default-src 'none'; sandbox";
