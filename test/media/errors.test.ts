import { describe, expect, it } from 'vitest';
import { call, createUser, expectProblem, expectStatus } from '../helpers/client';
import { IMAGE_FIXTURES } from '../helpers/images';
import { FIVE_MB, formWith, headObject, keyOf, objectsOf, putAvatarMultipart, putAvatarRaw, setAvatar, uploadMedia } from './helpers';

const TEXT = new TextEncoder().encode('hello, this is definitely not an image\n');

/** A PNG fixture padded with zero bytes up to `size` bytes (the size check runs before any decoding). */
function pngOfSize(size: number): Uint8Array {
  const out = new Uint8Array(size);
  out.set(IMAGE_FIXTURES.png.bytes);
  return out;
}

describe('PUT /me/avatar errors', () => {
  it('should refuse text bytes sent as image/png with 415', async () => {
    const user = await createUser();
    await expectProblem(await putAvatarRaw(user, TEXT, 'image/png'), 415);
    expect(await objectsOf(user.id)).toEqual([]);
  });

  it('should refuse a multipart text file named like an image with 415', async () => {
    const user = await createUser();
    await expectProblem(await putAvatarMultipart(user, TEXT, 'photo.png', 'image/png'), 415);
    expect(await objectsOf(user.id)).toEqual([]);
  });

  it('should refuse an image signature followed by garbage with 415', async () => {
    const user = await createUser();
    const fake = new Uint8Array(512);
    fake.set(IMAGE_FIXTURES.png.bytes.subarray(0, 8));
    fake.fill(0x41, 8);
    await expectProblem(await putAvatarRaw(user, fake, 'image/png'), 415);
    // Read as a GIF header, this HTML claims 26,684 x 28,020 pixels: refused before decoding (413 naming file).
    const gifHtml = new TextEncoder().encode('GIF89a<html><script>alert(1)</script></html>');
    await expectProblem(await putAvatarMultipart(user, gifHtml, 'a.gif', 'image/gif'), 413, 'file');
    const tinyGifHtml = new TextEncoder().encode('GIF89a\x01\x00\x01\x00<html><script>alert(1)</script></html>');
    await expectProblem(await putAvatarMultipart(user, tinyGifHtml, 'a.gif', 'image/gif'), 415);
    expect(await objectsOf(user.id)).toEqual([]);
  });

  it('should refuse an SVG with 415', async () => {
    const user = await createUser();
    const svg = new TextEncoder().encode('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>');
    await expectProblem(await putAvatarRaw(user, svg, 'image/svg+xml'), 415);
    await expectProblem(await putAvatarMultipart(user, svg, 'a.svg', 'image/svg+xml'), 415);
  });

  it('should refuse a raw body of 5 MB + 1 byte with 413', async () => {
    const user = await createUser();
    await expectProblem(await putAvatarRaw(user, pngOfSize(FIVE_MB + 1), 'image/png'), 413);
    expect(await objectsOf(user.id)).toEqual([]);
  });

  it('should refuse a multipart file of 5 MB + 1 byte with 413', async () => {
    const user = await createUser();
    await expectProblem(await putAvatarMultipart(user, pngOfSize(FIVE_MB + 1), 'big.png', 'image/png'), 413);
    expect(await objectsOf(user.id)).toEqual([]);
  });

  it('should refuse a much larger multipart body with 413', async () => {
    const user = await createUser();
    await expectProblem(await putAvatarMultipart(user, pngOfSize(FIVE_MB + 256 * 1024), 'big.png', 'image/png'), 413);
  });

  it('should refuse an empty raw body with 400', async () => {
    const user = await createUser();
    await expectProblem(await putAvatarRaw(user, new Uint8Array(0), 'image/png'), 400);
  });

  it('should refuse an empty multipart file with 400 naming "file"', async () => {
    const user = await createUser();
    await expectProblem(await putAvatarMultipart(user, new Uint8Array(0), 'empty.png', 'image/png'), 400, 'file');
  });

  it('should refuse a multipart body without a "file" part with 400 naming "file"', async () => {
    const user = await createUser();
    const wrongName = formWith(IMAGE_FIXTURES.png.bytes, 'a.png', 'image/png', 'avatar');
    await expectProblem(await call('/me/avatar', { method: 'PUT', token: user.accessToken, body: wrongName }), 400, 'file');
    const textField = new FormData();
    textField.append('file', 'not a file');
    await expectProblem(await call('/me/avatar', { method: 'PUT', token: user.accessToken, body: textField }), 400, 'file');
  });

  it('should refuse a wrong Content-Type with 415', async () => {
    const user = await createUser();
    await expectProblem(await call('/me/avatar', { method: 'PUT', token: user.accessToken, body: { file: 'x' } }), 415);
    await expectProblem(
      await call('/me/avatar', { method: 'PUT', token: user.accessToken, body: IMAGE_FIXTURES.png.bytes, headers: { 'Content-Type': 'text/plain' } }),
      415,
    );
    await expectProblem(
      await call('/me/avatar', { method: 'PUT', token: user.accessToken, body: IMAGE_FIXTURES.png.bytes, headers: { 'Content-Type': 'application/json' } }),
      415,
    );
  });

  it('should leave the current avatar untouched when an upload fails', async () => {
    const user = await createUser();
    const me = await setAvatar(user, 'png');
    await expectProblem(await putAvatarRaw(user, TEXT, 'image/png'), 415);
    await expectProblem(await putAvatarRaw(user, pngOfSize(FIVE_MB + 1), 'image/png'), 413);
    const after = await expectStatus(await call('/me', { token: user.accessToken }), 200);
    expect(after.avatar_url).toBe(me.avatar_url);
    expect(await headObject(keyOf(me.avatar_url))).not.toBeNull();
    expect(await objectsOf(user.id)).toEqual([`media/${keyOf(me.avatar_url)}`]);
  });

  it('should answer 405 for methods the avatar path does not support', async () => {
    const user = await createUser();
    const res = await call('/me/avatar', { method: 'POST', token: user.accessToken, body: formWith(IMAGE_FIXTURES.png.bytes) });
    await expectProblem(res, 405);
    expect(res.headers.get('Allow')).toContain('PUT');
  });
});

describe('POST /media errors', () => {
  it('should refuse non-images with 415', async () => {
    const user = await createUser();
    await expectProblem(await uploadMedia(user, TEXT, 'a.jpg', 'image/jpeg'), 415);
  });

  it('should refuse 5 MB + 1 byte with 413 (multipart and raw)', async () => {
    const user = await createUser();
    await expectProblem(await uploadMedia(user, pngOfSize(FIVE_MB + 1), 'big.png', 'image/png'), 413);
    await expectProblem(
      await call('/media', { method: 'POST', token: user.accessToken, body: pngOfSize(FIVE_MB + 1), headers: { 'Content-Type': 'image/png' } }),
      413,
    );
    expect(await objectsOf(user.id)).toEqual([]);
  });

  it('should refuse a missing "file" part with 400 naming "file"', async () => {
    const user = await createUser();
    const form = formWith(IMAGE_FIXTURES.png.bytes, 'a.png', 'image/png', 'image');
    await expectProblem(await call('/media', { method: 'POST', token: user.accessToken, body: form }), 400, 'file');
  });

  it('should refuse a JSON body with 415', async () => {
    const user = await createUser();
    await expectProblem(await call('/media', { method: 'POST', token: user.accessToken, body: { url: 'http://example.com/a.png' } }), 415);
  });
});

describe('DELETE /media/{key} errors (the key of a DELETE is the upload id)', () => {
  it('should answer 404 for an unknown id', async () => {
    const user = await createUser();
    await expectProblem(await call('/media/01ARZ3NDEKTSV4RRFFQ69G5FAV', { method: 'DELETE', token: user.accessToken }), 404);
  });

  it('should answer 400 naming the path parameter "key" for a malformed id', async () => {
    const user = await createUser();
    await expectProblem(await call('/media/not-an-id', { method: 'DELETE', token: user.accessToken }), 400, 'key');
  });
});

describe('GET /media/{key} errors', () => {
  for (const w of ['100', 'abc', '0', '-64', '2048', '64.0']) {
    it(`should refuse ?w=${w} with 400 naming "w"`, async () => {
      const user = await createUser();
      const me = await setAvatar(user, 'png');
      await expectProblem(await call(`${me.avatar_url}?w=${w}`), 400, 'w');
    });
  }

  it('should answer 404 for an unknown (well-formed) key, also with ?w= and If-None-Match', async () => {
    const user = await createUser();
    const key = `${user.id}-${'a'.repeat(64)}`;
    await expectProblem(await call(`/media/${key}`), 404);
    await expectProblem(await call(`/media/${key}?w=64`), 404);
    await expectProblem(await call(`/media/${key}`, { headers: { 'If-None-Match': `"${'a'.repeat(64)}"` } }), 404);
    await expectProblem(await call(`/media/${key}`, { headers: { 'If-None-Match': '*' } }), 404);
  });

  for (const bad of ['nope', 'abc-def', `01ARZ3NDEKTSV4RRFFQ69G5FAV-${'A'.repeat(64)}`, `01ARZ3NDEKTSV4RRFFQ69G5FAV-${'a'.repeat(63)}`, '..%2F..%2Fetc%2Fpasswd']) {
    it(`should answer 404 for the malformed key "${bad}" (it names no stored image)`, async () => {
      await expectProblem(await call(`/media/${bad}`), 404);
    });
  }

  it('should answer 404 for a deleted upload', async () => {
    const user = await createUser();
    const upload = await expectStatus(await uploadMedia(user, IMAGE_FIXTURES.jpeg.bytes), 201);
    expect((await call(`/media/${upload.id}`, { method: 'DELETE', token: user.accessToken })).status).toBe(204);
    await expectProblem(await call(upload.url), 404);
    await expectProblem(await call(`${upload.url}?w=64`), 404);
  });
});
