import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { MEDIA_WITHDRAWN_SQL } from '../../src/modules/media/media.service';
import { runModerationJobs } from '../../src/scheduled';
import { call, createUser, expectProblem, expectStatus, type TestUser } from '../helpers/client';
import { IMAGE_FIXTURES } from '../helpers/images';
import { queryPlan, tableScans } from '../helpers/query-plans';
import { startDirect, send } from '../messaging/helpers';
import { act, createStaff, report, resolve } from '../moderation/helpers';
import { deletePost, patchPost, post, setWallPolicy, upload, type FixtureName } from '../posts/helpers';
import { expectPublic, expectWithdrawn, formWith, setAvatar, statusOf } from './helpers';

/**
 * An image that was on a post and is on none any more (deleted by anyone, removed by moderation, edited
 * out) stops being public with it: 404 to everyone but its owner and staff, originals, variants and
 * conditional requests alike, and no edge copy keeps serving it. Another use keeps it public: another
 * post, the owner's avatar, a message.
 */

/** Served from the edge: a first anonymous read stores the image, a second is a HIT. */
async function expectCachedAtTheEdge(url: string): Promise<void> {
  await statusOf(url);
  const cached = await call(url);
  expect(cached.headers.get('X-Cache'), url).toBe('HIT');
  await cached.arrayBuffer();
}

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

  it("should stop serving a suspended account's images (post images, avatar, edge copies) to all but staff until the suspension is lifted, and leave its community's images alone", async () => {
    const [author, stranger, staff] = [await createUser(), await createUser(), await createStaff()];
    const avatar = (await setAvatar(author, 'png')).avatar_url as string;
    const { image } = await postWithImage(author, 'jpeg');
    const sent = await upload(author, 'webp');
    await send(author, (await startDirect(author, stranger)).id, { content: 'look', media_ids: [sent.id] });
    const community = await expectStatus(await call('/communities', { token: author.accessToken, body: { name: `Suspended owner ${Date.now()}` } }), 201);
    const badge = (await expectStatus(await call(`/communities/${community.id}/avatar`, { method: 'PUT', token: author.accessToken, body: formWith(IMAGE_FIXTURES.gif.bytes) }), 200)).avatar_url as string;
    const own = [avatar, image.url as string, sent.url as string];
    for (const url of [...own, badge]) await expectCachedAtTheEdge(url);

    await act(staff, author, 'suspend', { duration_hours: 1 });
    for (const url of own) {
      await expectProblem(await call(url), 404);
      await expectProblem(await call(`${url}?w=64`), 404);
      await expectProblem(await call(url, { token: stranger.accessToken }), 404);
      expect(await statusOf(url, staff)).toBe(200);
      expect(await statusOf(url, staff, '?w=128')).toBe(200);
    }
    // A community's images are the community's (its key names the community), whoever uploaded them.
    await expectPublic(badge);

    // The Cron Trigger lifts the suspension: the images are public again.
    await runModerationJobs(env, Date.now() + 2 * 60 * 60 * 1000);
    for (const url of own) await expectPublic(url);
  });

  it('should decide with index probes only, whatever the number of images and accounts', async () => {
    const image = await upload(await createUser());
    const key = new URL(image.url).pathname.split('/').pop()!;
    const lines = await queryPlan(MEDIA_WITHDRAWN_SQL, [key, key.slice(0, 26), 0]);
    expect(tableScans(lines, ['media', 'users', 'media_holds'])).toEqual([]);
  });
});
