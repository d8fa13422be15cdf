import { describe, expect, it } from 'vitest';
import { call, createUser, expectProblem, expectStatus, type TestUser } from '../helpers/client';
import { startDirect, send } from '../messaging/helpers';
import { createStaff, report, resolve } from '../moderation/helpers';
import { deletePost, patchPost, post, setWallPolicy, upload, type FixtureName } from '../posts/helpers';
import { expectPublic, expectWithdrawn, setAvatar, statusOf } from './helpers';

/**
 * An image that was on a post and is on none any more (deleted by anyone, removed by moderation, edited
 * out) stops being public with it: 404 to everyone but its owner and staff, originals, variants and
 * conditional requests alike, and no edge copy keeps serving it. Another use keeps it public: another
 * post, the owner's avatar, a message.
 */

/** A post by `author` carrying a fresh upload of `fixture`; returns both. */
async function postWithImage(author: TestUser, fixture: FixtureName = 'png'): Promise<{ image: any; postId: string }> {
  const image = await upload(author, fixture);
  const written = await post(author, { content: 'a picture', media_ids: [image.id] });
  return { image, postId: written.id };
}

describe('GET /media/{key} of withdrawn images', () => {
  it('should stop serving the image of a post removed by moderation, edge copies and 304s included', async () => {
    const [author, reporter, staff] = [await createUser(), await createUser(), await createStaff()];
    const { image, postId } = await postWithImage(author, 'jpeg');
    const first = await call(image.url);
    const etag = first.headers.get('ETag')!;
    await first.arrayBuffer();
    const cached = await call(image.url);
    expect(cached.headers.get('X-Cache')).toBe('HIT');
    await cached.arrayBuffer();
    expect(await statusOf(image.url, undefined, '?w=64')).toBe(200);

    const filed = await report(reporter, { subject_type: 'post', subject_id: postId });
    await resolve(staff, filed.id, { action: 'remove_content' });
    await expectWithdrawn(image.url, author, staff);
    // A tag a stranger kept does not confirm the image still exists.
    await expectProblem(await call(image.url, { headers: { 'If-None-Match': etag } }), 404);
    const owners = await call(image.url, { token: author.accessToken, headers: { 'If-None-Match': etag } });
    expect(owners.status).toBe(304);
  });

  it('should withdraw the image of a post its author deletes once no other post uses it, and publish it again when attached anew', async () => {
    const [author, staff] = [await createUser(), await createStaff()];
    const { image, postId } = await postWithImage(author);
    const second = await post(author, { content: 'the same picture again', media_ids: [image.id] });
    await expectPublic(image.url);
    expect((await deletePost(author, postId)).status).toBe(204);
    await expectPublic(image.url);
    expect((await deletePost(author, second.id)).status).toBe(204);
    await expectWithdrawn(image.url, author, staff);

    await post(author, { content: 'back again', media_ids: [image.id] });
    await expectPublic(image.url);
  });

  it('should withdraw an image edited out of its post', async () => {
    const [author, staff] = [await createUser(), await createStaff()];
    const { image, postId } = await postWithImage(author, 'webp');
    await expectPublic(image.url);
    await expectStatus(await patchPost(author, postId, { media_ids: [] }), 200);
    await expectWithdrawn(image.url, author, staff);
  });

  it('should keep serving an image that is also the avatar or was sent in a message', async () => {
    const [author, friend] = [await createUser(), await createUser()];
    // The same bytes are the same object: the avatar keeps it public.
    const me = await setAvatar(author, 'png');
    const asAvatar = await postWithImage(author, 'png');
    expect(asAvatar.image.url).toBe(me.avatar_url);
    const inMessage = await postWithImage(author, 'jpeg');
    await send(author, (await startDirect(author, friend)).id, { content: 'look', media_ids: [inMessage.image.id] });
    for (const { postId } of [asAvatar, inMessage]) expect((await deletePost(author, postId)).status).toBe(204);
    await expectPublic(asAvatar.image.url);
    await expectPublic(inMessage.image.url);
  });

  it('should withdraw an image whose post goes with a deleted account (a wall post)', async () => {
    const [author, wallOwner, staff] = [await createUser(), await createUser(), await createStaff()];
    await setWallPolicy(wallOwner, 'everyone');
    const image = await upload(author, 'gif');
    await post(author, { content: 'on your wall', target_user_id: wallOwner.id, media_ids: [image.id] });
    await expectPublic(image.url);
    expect((await call('/me', { method: 'DELETE', token: wallOwner.accessToken, body: { password: wallOwner.password } })).status).toBe(204);
    await expectWithdrawn(image.url, author, staff);
  });

  it('should keep serving an upload never attached to anything to whoever has its URL', async () => {
    const image = await upload(await createUser());
    await expectPublic(image.url);
  });
});
