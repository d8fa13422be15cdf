import { describe, expect, it } from 'vitest';
import { call, createUser, expectStatus } from '../helpers/client';
import { IMAGE_FIXTURES } from '../helpers/images';
import {
  bodyBytes,
  expectStoredFixture,
  FIXTURE_NAMES,
  headObject,
  imageSize,
  keyOf,
  putAvatarMultipart,
  putAvatarRaw,
  setAvatar,
  storedType,
  uploadMedia,
} from './helpers';

const KEY_SHAPE = /^[0-9A-HJKMNP-TV-Z]{26}-[0-9a-f]{64}$/;

describe('PUT /me/avatar', () => {
  for (const name of FIXTURE_NAMES) {
    const fixture = IMAGE_FIXTURES[name];

    it(`should accept a ${name.toUpperCase()} as multipart "file" and answer me with avatar_url`, async () => {
      const user = await createUser();
      const me = await expectStatus(await putAvatarMultipart(user, fixture.bytes, `avatar.${name}`, fixture.type), 200);
      expect(me).toMatchObject({ id: user.id, username: user.username, email: user.email });
      expect(me.avatar_url).toMatch(/^http:\/\/kith\.test\/api\/v1\/media\//);
      expect(keyOf(me.avatar_url)).toMatch(KEY_SHAPE);
      expect(keyOf(me.avatar_url).startsWith(`${user.id}-`)).toBe(true);
      const object = await headObject(keyOf(me.avatar_url));
      expect(object?.httpMetadata?.contentType).toBe(storedType(fixture.type));
      expect(object?.size).toBeGreaterThan(0);
      const again = await expectStatus(await call('/me', { token: user.accessToken }), 200);
      expect(again.avatar_url).toBe(me.avatar_url);
    });

    it(`should accept a raw ${name.toUpperCase()} body with an image/* Content-Type`, async () => {
      const user = await createUser();
      const me = await expectStatus(await putAvatarRaw(user, fixture.bytes, fixture.type), 200);
      expect(me.avatar_url).toEqual(expect.any(String));
      const res = await call(me.avatar_url);
      expect(res.status).toBe(200);
      expect(res.headers.get('Content-Type')).toBe(storedType(fixture.type));
      await expectStoredFixture(await bodyBytes(res), fixture.type, me.avatar_url);
    });
  }

  it('should decide the type from the bytes, not the file name or declared type', async () => {
    const user = await createUser();
    const me = await expectStatus(await putAvatarMultipart(user, IMAGE_FIXTURES.png.bytes, 'x.txt', 'text/plain'), 200);
    const res = await call(me.avatar_url);
    expect(res.status).toBe(200);
    expect(res.headers.get('Content-Type')).toBe('image/png');
  });

  it('should store a raw PNG sent with a mismatching image/* Content-Type as image/png', async () => {
    const user = await createUser();
    const me = await expectStatus(await putAvatarRaw(user, IMAGE_FIXTURES.png.bytes, 'image/jpeg'), 200);
    const res = await call(me.avatar_url);
    expect(res.headers.get('Content-Type')).toBe('image/png');
    await expectStoredFixture(await bodyBytes(res), 'image/png', me.avatar_url);
  });

  it('should show the new avatar on the public profile', async () => {
    const user = await createUser();
    const me = await setAvatar(user, 'jpeg');
    const profile = await expectStatus(await call(`/users/${user.id}`), 200);
    expect(profile.avatar_url).toBe(me.avatar_url);
  });

  it('should remove the previous object (and its variants) when the avatar is replaced', async () => {
    const user = await createUser();
    const first = await setAvatar(user, 'png');
    const oldKey = keyOf(first.avatar_url);
    expect((await call(`${first.avatar_url}?w=64`)).status).toBe(200);
    expect(await headObject(oldKey, 64)).not.toBeNull();

    const second = await setAvatar(user, 'jpeg');
    expect(second.avatar_url).not.toBe(first.avatar_url);
    expect(await headObject(oldKey)).toBeNull();
    expect(await headObject(oldKey, 64)).toBeNull();
    expect(await headObject(keyOf(second.avatar_url))).not.toBeNull();
    expect((await call(first.avatar_url)).status).toBe(404);
    expect((await call(second.avatar_url)).status).toBe(200);
  });

  it('should keep the object when the same bytes are uploaded as the avatar again', async () => {
    const user = await createUser();
    const first = await setAvatar(user, 'webp');
    const second = await setAvatar(user, 'webp');
    expect(second.avatar_url).toBe(first.avatar_url);
    expect(await headObject(keyOf(first.avatar_url))).not.toBeNull();
    expect((await call(first.avatar_url)).status).toBe(200);
  });

  it('should keep the previous object when its bytes are also used as a media upload', async () => {
    const user = await createUser();
    const upload = await expectStatus(await uploadMedia(user, IMAGE_FIXTURES.png.bytes), 201);
    const first = await setAvatar(user, 'png');
    expect(keyOf(first.avatar_url)).toBe(keyOf(upload.url));

    await setAvatar(user, 'gif');
    expect(await headObject(keyOf(upload.url))).not.toBeNull();
    const res = await call(upload.url);
    expect(res.status).toBe(200);
    await expectStoredFixture(await bodyBytes(res), 'image/png', upload.url);

    // Once the media upload is deleted too, nothing refers to the object any more.
    expect((await call(`/media/${upload.id}`, { method: 'DELETE', token: user.accessToken })).status).toBe(204);
    expect(await headObject(keyOf(upload.url))).toBeNull();
  });
});

describe('DELETE /me/avatar', () => {
  it('should clear avatar_url and delete the stored object', async () => {
    const user = await createUser();
    const me = await setAvatar(user, 'png');
    const key = keyOf(me.avatar_url);
    expect((await call(`${me.avatar_url}?w=128`)).status).toBe(200);

    const res = await call('/me/avatar', { method: 'DELETE', token: user.accessToken });
    expect(res.status).toBe(204);
    expect(await res.text()).toBe('');

    const after = await expectStatus(await call('/me', { token: user.accessToken }), 200);
    expect(after.avatar_url).toBeNull();
    const profile = await expectStatus(await call(`/users/${user.username}`), 200);
    expect(profile.avatar_url).toBeNull();
    expect(await headObject(key)).toBeNull();
    expect(await headObject(key, 128)).toBeNull();
    expect((await call(me.avatar_url)).status).toBe(404);
  });

  it('should be idempotent: a second DELETE (and one with no avatar) answers 204', async () => {
    const user = await createUser();
    await setAvatar(user, 'gif');
    expect((await call('/me/avatar', { method: 'DELETE', token: user.accessToken })).status).toBe(204);
    expect((await call('/me/avatar', { method: 'DELETE', token: user.accessToken })).status).toBe(204);
    const fresh = await createUser();
    expect((await call('/me/avatar', { method: 'DELETE', token: fresh.accessToken })).status).toBe(204);
    const me = await expectStatus(await call('/me', { token: user.accessToken }), 200);
    expect(me.avatar_url).toBeNull();
  });

  it('should keep the object when it is still used as a media upload', async () => {
    const user = await createUser();
    const upload = await expectStatus(await uploadMedia(user, IMAGE_FIXTURES.jpeg.bytes), 201);
    await setAvatar(user, 'jpeg');
    expect((await call('/me/avatar', { method: 'DELETE', token: user.accessToken })).status).toBe(204);
    expect(await headObject(keyOf(upload.url))).not.toBeNull();
    expect((await call(upload.url)).status).toBe(200);
  });
});

describe('GET /media/{key}', () => {
  it('should serve the stored bytes with Content-Type, ETag and immutable Cache-Control', async () => {
    const user = await createUser();
    const me = await setAvatar(user, 'png');
    const res = await call(me.avatar_url);
    expect(res.status).toBe(200);
    expect(res.headers.get('Content-Type')).toBe('image/png');
    const served = (await headObject(keyOf(me.avatar_url)))!;
    expect(res.headers.get('Content-Length')).toBe(String(served.size));
    const etag = res.headers.get('ETag');
    expect(etag).toMatch(/^(W\/)?"[^"]+"$/);
    const cacheControl = res.headers.get('Cache-Control') ?? '';
    expect(cacheControl).toMatch(/max-age=\d+/);
    expect(Number(/max-age=(\d+)/.exec(cacheControl)?.[1])).toBeGreaterThan(0);
    expect(cacheControl).toContain('immutable');
    expect(cacheControl).toContain('public');
    const bytes = await bodyBytes(res);
    expect(bytes.byteLength).toBe(served.size);
    await expectStoredFixture(bytes, 'image/png', me.avatar_url);
  });

  it('should be readable anonymously and by other users', async () => {
    const owner = await createUser();
    const other = await createUser();
    const me = await setAvatar(owner, 'webp');
    const anon = await call(me.avatar_url);
    expect(anon.status).toBe(200);
    await expectStoredFixture(await bodyBytes(anon), 'image/webp', me.avatar_url);
    const byOther = await call(me.avatar_url, { token: other.accessToken });
    expect(byOther.status).toBe(200);
    expect(byOther.headers.get('Content-Type')).toBe('image/webp');
  });

  it('should answer 304 with no body for a matching If-None-Match', async () => {
    const user = await createUser();
    const me = await setAvatar(user, 'jpeg');
    const first = await call(me.avatar_url);
    const etag = first.headers.get('ETag')!;
    expect(etag).toBeTruthy();
    const res = await call(me.avatar_url, { headers: { 'If-None-Match': etag } });
    expect(res.status).toBe(304);
    expect(res.headers.get('ETag')).toBe(etag);
    expect(await res.text()).toBe('');

    const stale = await call(me.avatar_url, { headers: { 'If-None-Match': '"not-the-etag"' } });
    expect(stale.status).toBe(200);
    await expectStoredFixture(await bodyBytes(stale), 'image/jpeg', me.avatar_url);
  });

  for (const width of [64, 128, 256, 512, 1024]) {
    it(`should serve a PNG variant no wider than ?w=${width}`, async () => {
      const user = await createUser();
      const me = await setAvatar(user, 'png');
      const res = await call(`${me.avatar_url}?w=${width}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('Content-Type')).toBe('image/png');
      expect(res.headers.get('Cache-Control')).toContain('immutable');
      const size = imageSize(await bodyBytes(res));
      expect(size.type).toBe('image/png');
      expect(size.width).toBeLessThanOrEqual(width);
      // Never upscaled: the original is 300 wide.
      expect(size.width).toBe(Math.min(width, 300));
      // Aspect ratio kept (300x200).
      expect(Math.abs(size.height - Math.round((size.width * 2) / 3))).toBeLessThanOrEqual(1);
    });
  }

  it('should serve a JPEG variant no wider than the requested width', async () => {
    const user = await createUser();
    const me = await setAvatar(user, 'jpeg');
    const res = await call(`${me.avatar_url}?w=128`);
    expect(res.status).toBe(200);
    expect(res.headers.get('Content-Type')).toBe('image/jpeg');
    const size = imageSize(await bodyBytes(res));
    expect(size.type).toBe('image/jpeg');
    expect(size.width).toBeLessThanOrEqual(128);
    expect(size.width).toBeGreaterThan(0);
  });

  it('should serve a GIF variant (as GIF, or WebP where GIF output is unavailable) no wider than requested', async () => {
    const user = await createUser();
    const me = await setAvatar(user, 'gif');
    const res = await call(`${me.avatar_url}?w=64`);
    expect(res.status).toBe(200);
    const type = res.headers.get('Content-Type');
    expect(['image/gif', 'image/webp']).toContain(type);
    const size = imageSize(await bodyBytes(res));
    expect(size.type).toBe(type);
    expect(size.width).toBeLessThanOrEqual(64);
    expect(size.width).toBeGreaterThan(0);
  });

  it('should serve a WebP variant no wider than the requested width', async () => {
    const user = await createUser();
    const upload = await expectStatus(await uploadMedia(user, IMAGE_FIXTURES.webp.bytes), 201);
    const res = await call(`${upload.url}?w=256`);
    expect(res.status).toBe(200);
    expect(res.headers.get('Content-Type')).toBe('image/webp');
    const size = imageSize(await bodyBytes(res));
    expect(size.width).toBeLessThanOrEqual(256);
    expect(size.width).toBeGreaterThan(0);
  });

  it('should give a variant its own ETag and honour If-None-Match on it', async () => {
    const user = await createUser();
    const me = await setAvatar(user, 'png');
    const original = await call(me.avatar_url);
    const variant = await call(`${me.avatar_url}?w=64`);
    expect(variant.status).toBe(200);
    const etag = variant.headers.get('ETag')!;
    expect(etag).toBeTruthy();
    expect(etag).not.toBe(original.headers.get('ETag'));
    const cached = await call(`${me.avatar_url}?w=64`, { headers: { 'If-None-Match': etag } });
    expect(cached.status).toBe(304);
    // The variant is made once and then served from R2.
    expect(await headObject(keyOf(me.avatar_url), 64)).not.toBeNull();
    const again = await call(`${me.avatar_url}?w=64`);
    expect(await bodyBytes(again)).toEqual(await bodyBytes(variant));
  });
});

describe('POST /media', () => {
  for (const name of FIXTURE_NAMES) {
    const fixture = IMAGE_FIXTURES[name];
    it(`should store a ${name.toUpperCase()} and answer 201 with its dimensions`, async () => {
      const user = await createUser();
      const res = await uploadMedia(user, fixture.bytes, `p.${name}`, fixture.type);
      const body = await expectStatus(res, 201);
      expect(body).toEqual({
        id: expect.stringMatching(/^[0-9A-HJKMNP-TV-Z]{26}$/),
        url: expect.stringMatching(/^http:\/\/kith\.test\/api\/v1\/media\//),
        content_type: storedType(fixture.type),
        width: 300,
        height: 200,
        size: expect.any(Number),
      });
      const served = await call(body.url);
      expect(served.status).toBe(200);
      expect(served.headers.get('Content-Type')).toBe(storedType(fixture.type));
      const bytes = await bodyBytes(served);
      expect(bytes.byteLength).toBe(body.size);
      await expectStoredFixture(bytes, fixture.type, body.url);
    });
  }

  it('should accept a raw image body', async () => {
    const user = await createUser();
    const res = await call('/media', { method: 'POST', token: user.accessToken, body: IMAGE_FIXTURES.gif.bytes, headers: { 'Content-Type': 'image/gif' } });
    const body = await expectStatus(res, 201);
    expect(body).toMatchObject({ content_type: 'image/webp', width: 300, height: 200 });
  });

  it('should return the same media object for the same bytes uploaded twice', async () => {
    const user = await createUser();
    const first = await expectStatus(await uploadMedia(user, IMAGE_FIXTURES.webp.bytes), 201);
    const second = await expectStatus(await uploadMedia(user, IMAGE_FIXTURES.webp.bytes, 'other-name.webp'), 201);
    expect(second.id).toBe(first.id);
    expect(second.url).toBe(first.url);
    const third = await expectStatus(await uploadMedia(user, IMAGE_FIXTURES.png.bytes), 201);
    expect(third.id).not.toBe(first.id);
    expect(third.url).not.toBe(first.url);
  });
});

describe('DELETE /media/{key} (an upload id)', () => {
  it('should let the owner delete an upload (204) and remove its object', async () => {
    const user = await createUser();
    const upload = await expectStatus(await uploadMedia(user, IMAGE_FIXTURES.png.bytes), 201);
    expect((await call(`${upload.url}?w=64`)).status).toBe(200);
    const res = await call(`/media/${upload.id}`, { method: 'DELETE', token: user.accessToken });
    expect(res.status).toBe(204);
    expect(await res.text()).toBe('');
    expect(await headObject(keyOf(upload.url))).toBeNull();
    expect(await headObject(keyOf(upload.url), 64)).toBeNull();
    expect((await call(upload.url)).status).toBe(404);
    // Gone: a second delete is 404.
    expect((await call(`/media/${upload.id}`, { method: 'DELETE', token: user.accessToken })).status).toBe(404);
  });

  it('should keep the object while the same bytes are still the avatar', async () => {
    const user = await createUser();
    const me = await setAvatar(user, 'webp');
    const upload = await expectStatus(await uploadMedia(user, IMAGE_FIXTURES.webp.bytes), 201);
    expect(keyOf(upload.url)).toBe(keyOf(me.avatar_url));
    expect((await call(`/media/${upload.id}`, { method: 'DELETE', token: user.accessToken })).status).toBe(204);
    expect(await headObject(keyOf(me.avatar_url))).not.toBeNull();
    expect((await call(me.avatar_url)).status).toBe(200);
  });
});

describe('Upload size limit', () => {
  it('should accept an image of exactly 5 MB', async () => {
    const user = await createUser();
    const bytes = new Uint8Array(5 * 1024 * 1024);
    bytes.set(IMAGE_FIXTURES.png.bytes);
    const me = await expectStatus(await putAvatarRaw(user, bytes, 'image/png'), 200);
    const object = await headObject(keyOf(me.avatar_url));
    // Stored re-encoded: the trailing padding is not part of the image.
    expect(object?.size).toBeLessThan(bytes.byteLength);
    const upload = await expectStatus(await uploadMedia(user, bytes, 'five.png', 'image/png'), 201);
    expect(upload).toMatchObject({ size: object?.size, width: 300, height: 200, content_type: 'image/png' });
  });
});
