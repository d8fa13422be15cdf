import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { call, createUser, expectProblem, expectStatus } from '../helpers/client';
import { METADATA_IMAGES, metadataBlocks } from '../helpers/metadata-images';
import { bodyBytes, imageSize, objectsOf, putAvatarRaw, uploadMedia } from '../media/helpers';
import { sha256Hex } from '../../src/lib/crypto';
import { mediaKey } from '../../src/modules/media/media.keys';

const VARIANTS = [64, 128, 256, 512, 1024];

/** The original and every ?w= variant of a media URL, as bytes. */
async function everyServedForm(url: string): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for (const suffix of ['', ...VARIANTS.map((w) => `?w=${w}`)]) {
    const res = await call(`${url}${suffix}`);
    expect(res.status, `${url}${suffix}`).toBe(200);
    out.push(await bodyBytes(res));
  }
  return out;
}

describe('Images carry no metadata', () => {
  it('should have fixtures that really carry EXIF (with GPS and orientation), XMP and IPTC', () => {
    expect(metadataBlocks(METADATA_IMAGES.jpeg)).toEqual(['APP1 Exif', 'APP1 XMP', 'APP13 IPTC']);
    expect(new TextDecoder('latin1').decode(METADATA_IMAGES.jpeg)).toContain('GPSLatitude');
    expect(metadataBlocks(METADATA_IMAGES.png)).toEqual(expect.arrayContaining(['eXIf', expect.stringMatching(/XML:com\.adobe\.xmp/)]));
    expect(metadataBlocks(METADATA_IMAGES.webp)).toEqual(['EXIF', 'XMP']);
  });

  it('should serve an uploaded GPS-tagged JPEG from its original URL and every ?w= variant without any EXIF, XMP or IPTC segment', async () => {
    const user = await createUser();
    const media = await expectStatus(await uploadMedia(user, METADATA_IMAGES.jpeg, 'phone.jpg', 'image/jpeg'), 201);
    for (const bytes of await everyServedForm(media.url)) {
      expect(metadataBlocks(bytes)).toEqual([]);
      expect(new TextDecoder('latin1').decode(bytes)).not.toMatch(/Exif|GPS|xmpmeta|Photoshop|Downing/);
    }
  });

  it('should apply the EXIF orientation to the pixels before dropping it', async () => {
    const user = await createUser();
    // Stored 64x32 with "rotate 90° clockwise": shown (and now stored) 32x64, left half red on top.
    const media = await expectStatus(await uploadMedia(user, METADATA_IMAGES.jpeg, 'phone.jpg', 'image/jpeg'), 201);
    expect(media).toMatchObject({ content_type: 'image/jpeg', width: 32, height: 64 });
    const original = await bodyBytes(await call(media.url));
    expect(imageSize(original)).toEqual({ type: 'image/jpeg', width: 32, height: 64 });
  });

  it('should strip the avatar original that avatar_url points at, and its variants', async () => {
    const user = await createUser();
    const me = await expectStatus(await putAvatarRaw(user, METADATA_IMAGES.jpeg, 'image/jpeg'), 200);
    for (const bytes of await everyServedForm(me.avatar_url)) expect(metadataBlocks(bytes)).toEqual([]);
  });

  it('should strip EXIF and XMP from PNG and WebP uploads', async () => {
    const user = await createUser();
    for (const [name, type] of [['png', 'image/png'], ['webp', 'image/webp']] as const) {
      const media = await expectStatus(await uploadMedia(user, METADATA_IMAGES[name], `x.${name}`, type), 201);
      expect(media).toMatchObject({ content_type: type, width: 48, height: 24 });
      for (const bytes of await everyServedForm(media.url)) expect(metadataBlocks(bytes)).toEqual([]);
    }
  });

  it('should strip message attachments and community avatars too (the same store)', async () => {
    const [a, b] = [await createUser(), await createUser()];
    const media = await expectStatus(await uploadMedia(a, METADATA_IMAGES.jpeg, 'p.jpg', 'image/jpeg'), 201);
    const conv = await expectStatus(await call('/conversations', { token: a.accessToken, body: { participant_ids: [b.id] } }), 201);
    const message = await expectStatus(await call(`/conversations/${conv.id}/messages`, { token: a.accessToken, body: { media_ids: [media.id] } }), 201);
    expect(metadataBlocks(await bodyBytes(await call(message.media[0].url)))).toEqual([]);

    const community = await expectStatus(await call('/communities', { token: a.accessToken, body: { name: `Photos ${a.username}` } }), 201);
    const withAvatar = await expectStatus(
      await call(`/communities/${community.id}/avatar`, { method: 'PUT', token: a.accessToken, body: METADATA_IMAGES.jpeg, headers: { 'Content-Type': 'image/jpeg' } }),
      200,
    );
    for (const bytes of await everyServedForm(withAvatar.avatar_url)) expect(metadataBlocks(bytes)).toEqual([]);
  });

  it('should name each stored original by the keyed hash of its stripped bytes', async () => {
    const user = await createUser();
    const media = await expectStatus(await uploadMedia(user, METADATA_IMAGES.jpeg, 'p.jpg', 'image/jpeg'), 201);
    const bytes = await bodyBytes(await call(media.url));
    expect(media.url.endsWith(`/${await mediaKey(env.JWT_SECRET, user.id, await sha256Hex(bytes))}`)).toBe(true);
    expect(media.size).toBe(bytes.byteLength);
    // The same upload again is the same object.
    expect((await expectStatus(await uploadMedia(user, METADATA_IMAGES.jpeg, 'again.jpg', 'image/jpeg'), 201)).id).toBe(media.id);
  });
});

describe('Pixel limits', () => {
  it('should have a 16,000 x 16,000 PNG of about 31 KB as the pixel bomb', () => {
    expect(imageSize(METADATA_IMAGES.bomb)).toEqual({ type: 'image/png', width: 16000, height: 16000 });
    expect(METADATA_IMAGES.bomb.byteLength).toBeLessThan(40_000);
  });

  it('should refuse the 16,000 x 16,000 PNG with 413 naming file, from its header, as media and as an avatar', async () => {
    const user = await createUser();
    const problem = await expectProblem(await uploadMedia(user, METADATA_IMAGES.bomb, 'bomb.png', 'image/png'), 413, 'file');
    expect(problem.detail).toMatch(/16000 x 16000/);
    await expectProblem(await putAvatarRaw(user, METADATA_IMAGES.bomb, 'image/png'), 413, 'file');
    expect(await objectsOf(user.id)).toEqual([]);
    const me = await expectStatus(await call('/me', { token: user.accessToken }), 200);
    expect(me.avatar_url).toBeNull();
  });

  it('should refuse a side over 10,000 pixels and more than 50 megapixels, and accept what is within both', async () => {
    const user = await createUser();
    expect(imageSize(METADATA_IMAGES.wide)).toMatchObject({ width: 10001, height: 8 });
    await expectProblem(await uploadMedia(user, METADATA_IMAGES.wide, 'wide.png', 'image/png'), 413, 'file');
    expect(imageSize(METADATA_IMAGES.big)).toMatchObject({ width: 7100, height: 7100 });
    await expectProblem(await uploadMedia(user, METADATA_IMAGES.big, 'big.png', 'image/png'), 413, 'file');
    await expectStatus(await uploadMedia(user, METADATA_IMAGES.png, 'fine.png', 'image/png'), 201);
  });
});
