import { describe, expect, it } from 'vitest';
import { call, createUser, expectProblem, expectStatus } from '../helpers/client';
import { IMAGE_FIXTURES } from '../helpers/images';
import { ascii, be32, cat, le24, le32, pngChunk } from '../helpers/image-bytes';
import { objectsOf, uploadMedia } from './helpers';

/**
 * An animation is decoded frame by frame: its frames' pixels add up. Each of these is a valid file of
 * 300 x 200 frames (the fixtures' own image data repeated) whose header alone says 60,000 pixels.
 */
const FRAMES = 900; // 900 x 60,000 = 54 megapixels

const repeat = (part: Uint8Array, n: number) => cat(...Array.from({ length: n }, () => part));

/** The GIF fixture with its one frame (graphic control extension and image) repeated `n` times. */
function animatedGif(n: number, frame?: { width: number; height: number }): Uint8Array {
  const gif = IMAGE_FIXTURES.gif.bytes;
  const one = gif.slice(19, gif.length - 1); // after header, screen descriptor and 2-colour table; before the trailer
  if (frame) {
    const view = new DataView(one.buffer);
    view.setUint16(8 + 5, frame.width, true); // the image descriptor follows the 8-byte control extension
    view.setUint16(8 + 7, frame.height, true);
  }
  return cat(gif.subarray(0, 19), repeat(one, n), new Uint8Array([0x3b]));
}

/** An animated WebP: `n` frames, each the WebP fixture's own VP8 bitstream. */
function animatedWebp(n: number): Uint8Array {
  const vp8 = IMAGE_FIXTURES.webp.bytes.subarray(12); // the 'VP8 ' chunk
  const anmf = cat(ascii('ANMF'), le32(16 + vp8.length), le24(0), le24(0), le24(299), le24(199), le24(100), new Uint8Array([0]), vp8);
  const vp8x = cat(ascii('VP8X'), le32(10), new Uint8Array([0x02, 0, 0, 0]), le24(299), le24(199));
  const anim = cat(ascii('ANIM'), le32(6), new Uint8Array([0, 0, 0, 0, 0, 0]));
  const body = cat(ascii('WEBP'), vp8x, anim, repeat(anmf, n));
  return cat(ascii('RIFF'), le32(body.length), body);
}

/** An APNG of `n` frames, each the PNG fixture's own image data. */
function animatedPng(n: number): Uint8Array {
  const png = IMAGE_FIXTURES.png.bytes;
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const chunks: { type: string; data: Uint8Array }[] = [];
  for (let at = 8; at < png.length; ) {
    const length = view.getUint32(at);
    chunks.push({ type: String.fromCharCode(...png.subarray(at + 4, at + 8)), data: png.subarray(at + 8, at + 8 + length) });
    at += 12 + length;
  }
  const data = cat(...chunks.filter((c) => c.type === 'IDAT').map((c) => c.data));
  let seq = 0;
  const fctl = () => pngChunk('fcTL', cat(be32(seq++), be32(300), be32(200), be32(0), be32(0), new Uint8Array([0, 1, 0, 10, 0, 0])));
  const frames = [fctl(), pngChunk('IDAT', data)];
  for (let i = 1; i < n; i++) frames.push(fctl(), pngChunk('fdAT', cat(be32(seq++), data)));
  return cat(png.subarray(0, 33), pngChunk('acTL', cat(be32(n), be32(0))), ...frames, pngChunk('IEND', new Uint8Array(0)));
}

describe('Animations count every frame', () => {
  it('should refuse a GIF, a WebP and an APNG whose frames hold over 50 megapixels in all (413 naming file), storing nothing', async () => {
    const user = await createUser();
    for (const [name, bytes, type] of [
      ['bomb.gif', animatedGif(FRAMES), 'image/gif'],
      ['bomb.webp', animatedWebp(FRAMES), 'image/webp'],
      ['bomb.png', animatedPng(FRAMES), 'image/png'],
    ] as const) {
      expect(bytes.byteLength, name).toBeLessThan(5 * 1024 * 1024);
      const problem = await expectProblem(await uploadMedia(user, bytes, name, type), 413, 'file');
      expect(problem.detail, name).toMatch(/900 frames of 54,000,000 pixels/);
    }
    expect(await objectsOf(user.id)).toEqual([]);
  });

  it('should refuse an animated avatar over the limit too', async () => {
    const user = await createUser();
    await expectProblem(await call('/me/avatar', { method: 'PUT', token: user.accessToken, body: animatedGif(FRAMES), headers: { 'Content-Type': 'image/gif' } }), 413, 'file');
  });

  it('should refuse a GIF frame larger than the side limit inside a small screen', async () => {
    const user = await createUser();
    const problem = await expectProblem(await uploadMedia(user, animatedGif(1, { width: 10_001, height: 200 }), 'tall.gif', 'image/gif'), 413, 'file');
    expect(problem.detail).toMatch(/10001 x 200/);
  });

  it('should take animations within the limit', async () => {
    const user = await createUser();
    for (const [name, bytes, type] of [
      ['ok.gif', animatedGif(20), 'image/gif'],
      ['ok.webp', animatedWebp(20), 'image/webp'],
      ['ok.png', animatedPng(20), 'image/png'],
    ] as const) {
      const media = await expectStatus(await uploadMedia(user, bytes, name, type), 201);
      expect(media, name).toMatchObject({ width: 300, height: 200 });
    }
  });
});
