import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import scrubWorker from '../../src/maintenance/media-scrub.worker';
import { scrubOriginals } from '../../src/modules/media/media-scrub';
import type { Bindings } from '../../src/lib/types';
import { call, createUser, expectStatus } from '../helpers/client';
import { METADATA_IMAGES, metadataBlocks } from '../helpers/metadata-images';
import { bodyBytes, imageSize, uploadMedia } from '../media/helpers';

const hex = async (bytes: Uint8Array) => [...new Uint8Array(await crypto.subtle.digest('SHA-256', bytes))].map((b) => b.toString(16).padStart(2, '0')).join('');

/** An original stored the way uploads were before stripping: the bytes as sent, keyed by their hash, used as an avatar and as media. */
async function legacyUpload(userId: string, bytes: Uint8Array): Promise<string> {
  const key = `${userId}-${await hex(bytes)}`;
  await env.MEDIA.put(`media/${key}`, bytes, { httpMetadata: { contentType: 'image/jpeg' }, customMetadata: { owner: userId, width: '64', height: '32' } });
  await env.DB.batch([
    env.DB.prepare('UPDATE users SET avatar_key = ?2 WHERE id = ?1').bind(userId, key),
    env.DB.prepare("INSERT INTO media (id, owner_id, kind, key, content_type, size, width, height, created_at) VALUES (?1, ?2, 'attachment', ?3, 'image/jpeg', ?4, 64, 32, ?5)").bind(
      '01JC6Z4Q8N0B2C3D4E5F6G7H8J',
      userId,
      key,
      bytes.byteLength,
      Date.now(),
    ),
  ]);
  return key;
}

async function scrubAll() {
  const total = { scanned: 0, scrubbed: 0, skipped: 0, failed: [] as unknown[] };
  let cursor: string | undefined;
  do {
    const report = await scrubOriginals(env, { cursor, limit: 2 });
    total.scanned += report.scanned;
    total.scrubbed += report.scrubbed;
    total.skipped += report.skipped;
    total.failed.push(...report.failed);
    cursor = report.cursor ?? undefined;
  } while (cursor);
  return total;
}

describe('npm run media:scrub (scrubOriginals)', () => {
  it('should re-encode originals stored before stripping in place: same URLs, clean bytes, fresh variants and ETag, idempotent', async () => {
    const user = await createUser();
    const fresh = await expectStatus(await uploadMedia(user, METADATA_IMAGES.png, 'new.png', 'image/png'), 201);
    const key = await legacyUpload(user.id, METADATA_IMAGES.jpeg);
    const me = await expectStatus(await call('/me', { token: user.accessToken }), 200);
    expect(me.avatar_url.endsWith(key)).toBe(true);
    const before = await call(me.avatar_url);
    const oldEtag = before.headers.get('ETag');
    expect(metadataBlocks(await bodyBytes(before))).toEqual(['APP1 Exif', 'APP1 XMP', 'APP13 IPTC']);
    expect((await call(`${me.avatar_url}?w=64`)).status).toBe(200); // a variant made from the old bytes

    const report = await scrubAll();
    expect(report).toMatchObject({ scrubbed: 1, skipped: 1, failed: [] });

    const after = await call(me.avatar_url);
    expect(after.status).toBe(200);
    expect(after.headers.get('ETag')).not.toBe(oldEtag);
    const bytes = await bodyBytes(after);
    expect(metadataBlocks(bytes)).toEqual([]);
    expect(imageSize(bytes)).toEqual({ type: 'image/jpeg', width: 32, height: 64 });
    for (const w of [64, 128]) expect(metadataBlocks(await bodyBytes(await call(`${me.avatar_url}?w=${w}`)))).toEqual([]);
    const row = await env.DB.prepare('SELECT size, width, height FROM media WHERE key = ?1').bind(key).first();
    expect(row).toEqual({ size: bytes.byteLength, width: 32, height: 64 });
    // Uploads made after stripping began are left alone, and a second run changes nothing.
    expect(metadataBlocks(await bodyBytes(await call(fresh.url)))).toEqual([]);
    expect(await scrubAll()).toMatchObject({ scrubbed: 0, skipped: 2 });
  });

  it('should report what it cannot scrub and walk in batches through the maintenance worker (POST /scrub)', async () => {
    const worker = (path: string, method = 'POST') => scrubWorker.fetch(new Request(`http://127.0.0.1${path}`, { method }), env as unknown as Bindings);
    expect((await worker('/scrub', 'GET')).status).toBe(404);
    expect((await worker('/other')).status).toBe(404);
    await env.MEDIA.put('media/zz-text', new TextEncoder().encode('plain text, not an image'));
    // A PNG signature over bytes no decoder can read.
    await env.MEDIA.put('media/zz-broken', new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3, 4, 5, 6, 7, 8]));
    await env.MEDIA.put('media/zz-broken/w64', new Uint8Array([1])); // a variant: not an original, never counted

    const first = await worker('/scrub?limit=1');
    expect(first.status).toBe(200);
    const page = (await first.json()) as { scanned: number; cursor: string | null };
    expect(page.scanned).toBeLessThanOrEqual(1);
    expect(page.cursor).toEqual(expect.any(String));

    // An unreadable limit falls back to batches of 100: everything in one batch.
    const all = (await (await worker('/scrub?limit=zero')).json()) as { scanned: number; scrubbed: number; skipped: number; failed: { key: string; reason: string }[]; cursor: string | null };
    // The first test's originals (already stripped) are skipped; nothing is re-encoded.
    expect(all).toMatchObject({ scrubbed: 0, cursor: null });
    expect(all.scanned).toBe(all.skipped + 2);
    expect(all.failed.map((f) => f.key).sort()).toEqual(['zz-broken', 'zz-text']);
    expect(all.failed.find((f) => f.key === 'zz-text')!.reason).toBe('not a JPEG, PNG, WebP or GIF');
    expect(all.failed.find((f) => f.key === 'zz-broken')!.reason).toEqual(expect.any(String));
    // Nothing it failed on was rewritten.
    expect((await env.MEDIA.head('media/zz-text'))?.customMetadata?.stripped).toBeUndefined();
  });
});
