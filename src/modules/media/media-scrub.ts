import type { Bindings } from '../../lib/types';
import { sha256Hex } from '../../lib/crypto';
import { purgeEdgePaths } from '../../lib/edge-cache';
import { mediaPaths, objectName, VARIANT_WIDTHS } from './media.keys';
import { assertDecodable, CACHE_FOREVER, sniffImageType, STRIPPED, withoutMetadata } from './media.service';

export interface ScrubReport {
  /** Originals looked at in this batch. */
  scanned: number;
  /** Re-encoded without metadata, in place. */
  scrubbed: number;
  /** Already stripped (uploaded after stripping began, or scrubbed before). */
  skipped: number;
  /** Originals left as they are, with why: not an image, over the pixel limits, or not decodable. */
  failed: { key: string; reason: string }[];
  /** Pass it back for the next batch; null when the bucket has been walked. */
  cursor: string | null;
}

const ORIGINAL = /^media\/([^/]+)$/;

/**
 * Re-processes originals stored before uploads were stripped (`npm run media:scrub`): each one is
 * re-encoded by the same {@link withoutMetadata} uploads use and written back under its own key, so every
 * URL already handed out (avatars, post and message media, community avatars) keeps working and now
 * serves clean bytes. Its variants are deleted (they are made again, from the clean original) and its
 * media rows get the new size and dimensions. The key then no longer equals the hash of the bytes; the
 * ETag (R2's own) changes with them. Idempotent: stripped originals carry a marker and are skipped.
 */
export async function scrubOriginals(env: Pick<Bindings, 'DB' | 'MEDIA' | 'IMAGES'>, options: { cursor?: string; limit?: number } = {}): Promise<ScrubReport> {
  const listing = await env.MEDIA.list({ prefix: 'media/', cursor: options.cursor, limit: options.limit ?? 100, include: ['customMetadata'] });
  const report: ScrubReport = { scanned: 0, scrubbed: 0, skipped: 0, failed: [], cursor: listing.truncated ? listing.cursor : null };
  for (const listed of listing.objects) {
    const key = ORIGINAL.exec(listed.key)?.[1];
    if (!key) continue; // a variant
    report.scanned += 1;
    if (listed.customMetadata?.[STRIPPED] === '1') {
      report.skipped += 1;
      continue;
    }
    const object = await env.MEDIA.get(listed.key);
    if (!object) continue; // deleted meanwhile
    const bytes = new Uint8Array(await object.arrayBuffer());
    const type = sniffImageType(bytes);
    if (!type) {
      report.failed.push({ key, reason: 'not a JPEG, PNG, WebP or GIF' });
      continue;
    }
    let clean: Awaited<ReturnType<typeof withoutMetadata>>;
    try {
      assertDecodable(bytes);
      clean = await withoutMetadata(env, bytes, type);
    } catch (err) {
      report.failed.push({ key, reason: (err as Error).message });
      continue;
    }
    await env.MEDIA.put(listed.key, clean.bytes, {
      httpMetadata: { contentType: clean.contentType, cacheControl: CACHE_FOREVER },
      customMetadata: { ...object.customMetadata, width: String(clean.width), height: String(clean.height), [STRIPPED]: '1' },
      sha256: await sha256Hex(clean.bytes),
    });
    await env.MEDIA.delete(VARIANT_WIDTHS.map((w) => objectName(key, w)));
    // Same URL, new bytes: the edge copies of the original and its variants go (this data centre's).
    await purgeEdgePaths('media', mediaPaths(key));
    await env.DB.prepare('UPDATE media SET content_type = ?2, size = ?3, width = ?4, height = ?5 WHERE key = ?1')
      .bind(key, clean.contentType, clean.bytes.byteLength, clean.width, clean.height)
      .run();
    report.scrubbed += 1;
  }
  return report;
}
