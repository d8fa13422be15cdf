import { describe, expect, it } from 'vitest';
import { call, createUser, expectProblem, expectStatus } from '../helpers/client';
import { IMAGE_FIXTURES } from '../helpers/images';
import { bodyBytes, expectStoredFixture, formWith, headObject, keyOf, setAvatar, uploadMedia } from './helpers';

describe('Media authentication', () => {
  it('should require a token to upload or remove an avatar (401)', async () => {
    const res = await call('/me/avatar', { method: 'PUT', body: formWith(IMAGE_FIXTURES.png.bytes) });
    await expectProblem(res, 401);
    expect(res.headers.get('WWW-Authenticate')).toMatch(/^Bearer/);
    await expectProblem(await call('/me/avatar', { method: 'PUT', body: IMAGE_FIXTURES.png.bytes, headers: { 'Content-Type': 'image/png' } }), 401);
    await expectProblem(await call('/me/avatar', { method: 'DELETE' }), 401);
  });

  it('should require a token to upload or delete media (401)', async () => {
    await expectProblem(await call('/media', { method: 'POST', body: formWith(IMAGE_FIXTURES.png.bytes) }), 401);
    const owner = await createUser();
    const upload = await expectStatus(await uploadMedia(owner, IMAGE_FIXTURES.png.bytes), 201);
    await expectProblem(await call(`/media/${upload.id}`, { method: 'DELETE' }), 401);
    expect(await headObject(keyOf(upload.url))).not.toBeNull();
  });

  it('should refuse invalid or malformed tokens (401)', async () => {
    await expectProblem(await call('/media', { method: 'POST', token: 'not.a.jwt', body: formWith(IMAGE_FIXTURES.png.bytes) }), 401);
    await expectProblem(
      await call('/me/avatar', { method: 'PUT', headers: { Authorization: 'Basic dXNlcjpwYXNz' }, body: formWith(IMAGE_FIXTURES.png.bytes) }),
      401,
    );
  });

  it('should refuse the token of a logged-out session', async () => {
    const user = await createUser();
    expect((await call('/auth/logout', { body: { refresh_token: user.refreshToken }, token: user.accessToken })).status).toBe(204);
    await expectProblem(await call('/media', { method: 'POST', token: user.accessToken, body: formWith(IMAGE_FIXTURES.png.bytes) }), 401);
  });
});

describe('Media ownership', () => {
  it('should not let another user delete your media (404) and keep the object', async () => {
    const owner = await createUser();
    const intruder = await createUser();
    const upload = await expectStatus(await uploadMedia(owner, IMAGE_FIXTURES.jpeg.bytes), 201);

    await expectProblem(await call(`/media/${upload.id}`, { method: 'DELETE', token: intruder.accessToken }), 404);
    expect(await headObject(keyOf(upload.url))).not.toBeNull();
    const res = await call(upload.url);
    expect(res.status).toBe(200);
    await expectStoredFixture(await bodyBytes(res), 'image/jpeg', upload.url);

    // The owner still can.
    expect((await call(`/media/${upload.id}`, { method: 'DELETE', token: owner.accessToken })).status).toBe(204);
  });

  it('should answer the same 404 for someone else\'s media as for a missing one', async () => {
    const owner = await createUser();
    const intruder = await createUser();
    const upload = await expectStatus(await uploadMedia(owner, IMAGE_FIXTURES.gif.bytes), 201);
    const theirs = await expectProblem(await call(`/media/${upload.id}`, { method: 'DELETE', token: intruder.accessToken }), 404);
    const missing = await expectProblem(await call('/media/01ARZ3NDEKTSV4RRFFQ69G5FAV', { method: 'DELETE', token: intruder.accessToken }), 404);
    expect(theirs.detail).toBe(missing.detail);
    expect(theirs.type).toBe(missing.type);
  });

  it('should keep uploads of identical bytes by different users separate', async () => {
    const alice = await createUser();
    const bob = await createUser();
    const a = await expectStatus(await uploadMedia(alice, IMAGE_FIXTURES.png.bytes), 201);
    const b = await expectStatus(await uploadMedia(bob, IMAGE_FIXTURES.png.bytes), 201);
    expect(b.id).not.toBe(a.id);
    expect(b.url).not.toBe(a.url);
    expect(keyOf(a.url).startsWith(`${alice.id}-`)).toBe(true);
    expect(keyOf(b.url).startsWith(`${bob.id}-`)).toBe(true);

    // Bob removing his copy leaves Alice's untouched.
    expect((await call(`/media/${b.id}`, { method: 'DELETE', token: bob.accessToken })).status).toBe(204);
    expect(await headObject(keyOf(b.url))).toBeNull();
    expect(await headObject(keyOf(a.url))).not.toBeNull();
    expect((await call(a.url)).status).toBe(200);
  });

  it("should not let another user's avatar changes touch your avatar", async () => {
    const alice = await createUser();
    const bob = await createUser();
    const aliceMe = await setAvatar(alice, 'webp');
    await setAvatar(bob, 'webp');
    await setAvatar(bob, 'png');
    expect((await call('/me/avatar', { method: 'DELETE', token: bob.accessToken })).status).toBe(204);

    const after = await expectStatus(await call(`/users/${alice.id}`), 200);
    expect(after.avatar_url).toBe(aliceMe.avatar_url);
    expect(await headObject(keyOf(aliceMe.avatar_url))).not.toBeNull();
    expect((await call(aliceMe.avatar_url)).status).toBe(200);
  });

  it('should not let a user delete an avatar through the media endpoint', async () => {
    const alice = await createUser();
    const bob = await createUser();
    const me = await setAvatar(alice, 'png');
    // Bob uploads the same bytes, then deletes his media: Alice's object is under her own key and survives.
    const bobs = await expectStatus(await uploadMedia(bob, IMAGE_FIXTURES.png.bytes), 201);
    expect((await call(`/media/${bobs.id}`, { method: 'DELETE', token: bob.accessToken })).status).toBe(204);
    expect(await headObject(keyOf(me.avatar_url))).not.toBeNull();
  });
});

describe('Media serving', () => {
  it('should send nosniff and a non-HTML Content-Type for stored bytes', async () => {
    const user = await createUser();
    const me = await setAvatar(user, 'gif');
    const res = await call(me.avatar_url);
    expect(res.status).toBe(200);
    expect(res.headers.get('X-Content-Type-Options')).toBe('nosniff');
    expect(res.headers.get('Content-Type')).toBe('image/webp'); // GIFs are stored as animated WebP
    await res.arrayBuffer();
  });

  it('should not expose variant objects by their internal R2 names', async () => {
    const user = await createUser();
    const me = await setAvatar(user, 'png');
    expect((await call(`${me.avatar_url}?w=64`)).status).toBe(200);
    const res = await call(`${me.avatar_url}/w64`);
    expect(res.status).toBe(404);
    expect(res.headers.get('Content-Type')).toContain('application/problem+json');
    await res.arrayBuffer();
  });

  it('should never store an uploaded text body under any key', async () => {
    const user = await createUser();
    const html = new TextEncoder().encode('<html><body>hi</body></html>');
    await expectProblem(await call('/media', { method: 'POST', token: user.accessToken, body: html, headers: { 'Content-Type': 'image/png' } }), 415);
    const me = await expectStatus(await call('/me', { token: user.accessToken }), 200);
    expect(me.avatar_url).toBeNull();
  });
});
