import { describe, expect, it } from 'vitest';
import { zlibSync } from 'fflate';
import { withoutMetadataContainers } from '../../src/modules/media/containers';
import { createUser, expectStatus } from '../helpers/client';
import { IMAGE_FIXTURES } from '../helpers/images';
import { ascii, cat, pngChunk } from '../helpers/image-bytes';
import { METADATA_IMAGES, metadataBlocks } from '../helpers/metadata-images';
import { imageSize, uploadMedia } from './helpers';

/**
 * The local Images simulator already drops every metadata block; Cloudflare's binding keeps a JPEG's
 * EXIF copyright unless told otherwise. So the worker's own pass over the encoder's output is tested on
 * bytes that carry every kind of container, and its output must still be an image the binding takes.
 */
const latin1 = (bytes: Uint8Array) => new TextDecoder('latin1').decode(bytes);
const jpegSegment = (marker: number, text: string) => {
  const data = ascii(text);
  return cat(new Uint8Array([0xff, marker, (data.length + 2) >> 8, (data.length + 2) & 0xff]), data);
};

/** The JPEG fixture with EXIF/XMP/IPTC (from the metadata fixture) plus a comment and an ICC segment. */
const jpegWithEverything = () => {
  const base = METADATA_IMAGES.jpeg;
  return cat(base.subarray(0, 2), jpegSegment(0xfe, 'secret-comment by Ada'), jpegSegment(0xe2, 'ICC_PROFILE\0\x01\x01secret-icc'), base.subarray(2));
};
const pngWithEverything = () => {
  const base = IMAGE_FIXTURES.png.bytes;
  return cat(
    base.subarray(0, 33),
    pngChunk('tEXt', ascii('Author\0secret-author')),
    pngChunk('zTXt', cat(ascii('Comment\0\0'), zlibSync(ascii('secret-ztxt')))),
    pngChunk('iTXt', ascii('Title\0\0\0\0\0secret-itxt')),
    pngChunk('tIME', new Uint8Array([7, 234, 12, 7, 13, 0, 0])),
    pngChunk('iCCP', cat(ascii('secret-icc\0\0'), zlibSync(new Uint8Array(64)))),
    base.subarray(33),
  );
};

describe('No metadata container leaves the encoder', () => {
  it('should drop every APPn segment but JFIF, and comments, from a JPEG, keeping the image', async () => {
    const dirty = jpegWithEverything();
    expect(latin1(dirty)).toMatch(/secret-comment.*secret-icc.*Exif/s);
    const clean = withoutMetadataContainers(dirty, 'image/jpeg');
    expect(metadataBlocks(clean)).toEqual([]);
    expect(latin1(clean)).not.toMatch(/secret|Exif|GPS|xmpmeta|Photoshop|Downing|ICC_PROFILE/);
    expect(imageSize(clean)).toEqual(imageSize(dirty));
    const user = await createUser();
    await expectStatus(await uploadMedia(user, clean, 'clean.jpg', 'image/jpeg'), 201);
  });

  it('should drop text, time, EXIF and ICC chunks from a PNG, keeping the image', async () => {
    const dirty = pngWithEverything();
    const clean = withoutMetadataContainers(dirty, 'image/png');
    expect(metadataBlocks(clean)).toEqual([]);
    expect(latin1(clean)).not.toMatch(/secret|tIME/);
    expect(withoutMetadataContainers(METADATA_IMAGES.png, 'image/png').byteLength).toBeLessThan(METADATA_IMAGES.png.byteLength);
    expect(metadataBlocks(withoutMetadataContainers(METADATA_IMAGES.png, 'image/png'))).toEqual([]);
    const user = await createUser();
    expect(await expectStatus(await uploadMedia(user, clean, 'clean.png', 'image/png'), 201)).toMatchObject({ width: 300, height: 200 });
  });

  it('should drop EXIF and XMP chunks from a WebP, clearing their VP8X flags and fixing the RIFF size', async () => {
    const dirty = METADATA_IMAGES.webp;
    expect(dirty[20]! & 0x0c).toBe(0x0c);
    const clean = withoutMetadataContainers(dirty, 'image/webp');
    expect(metadataBlocks(clean)).toEqual([]);
    expect(clean[20]! & 0x2c).toBe(0);
    expect(new DataView(clean.buffer, clean.byteOffset).getUint32(4, true)).toBe(clean.byteLength - 8);
    const user = await createUser();
    expect(await expectStatus(await uploadMedia(user, clean, 'clean.webp', 'image/webp'), 201)).toMatchObject({ width: 48, height: 24 });
  });

  it('should leave clean images byte for byte, and answer bytes it cannot walk as they came', () => {
    for (const [type, fixture] of [['image/jpeg', IMAGE_FIXTURES.jpeg], ['image/png', IMAGE_FIXTURES.png], ['image/webp', IMAGE_FIXTURES.webp]] as const) {
      expect(withoutMetadataContainers(fixture.bytes, type)).toEqual(fixture.bytes);
      const truncated = fixture.bytes.subarray(0, 30);
      expect(withoutMetadataContainers(truncated, type)).toEqual(truncated);
    }
  });
});
