import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { deleteUnattachedUploads, UNATTACHED_TTL_MS } from '../../src/modules/media/unattached';
import { call, createUser, expectProblem, expectStatus } from '../helpers/client';
import { IMAGE_FIXTURES } from '../helpers/images';
import { send, startDirect } from '../messaging/helpers';
import { deletePost, post } from '../posts/helpers';
import { headObject, keyOf, setAvatar, statusOf, uploadMedia } from './helpers';

const DAY_LATER = () => Date.now() + UNATTACHED_TTL_MS + 60_000;
const upload = async (user: Awaited<ReturnType<typeof createUser>>, fixture: keyof typeof IMAGE_FIXTURES) =>
  expectStatus(await uploadMedia(user, IMAGE_FIXTURES[fixture].bytes, `p.${fixture}`, IMAGE_FIXTURES[fixture].type), 201);

describe('Uploads nothing used', () => {
  it('should delete an upload no post or message used within a day: row, object, variants and URL, even for its owner', async () => {
    const [owner, friend] = [await createUser(), await createUser()];
    const never = await upload(owner, 'jpeg');
    expect(await statusOf(`${never.url}?w=64`)).toBe(200);
    const posted = await upload(owner, 'png');
    await post(owner, { content: 'a picture', media_ids: [posted.id] });
    const sent = await upload(owner, 'webp');
    const conversation = await startDirect(owner, friend);
    await send(owner, conversation.id, { content: 'look', media_ids: [sent.id] });
    const withdrawn = await upload(owner, 'gif');
    const gone = await post(owner, { content: 'soon deleted', media_ids: [withdrawn.id] });
    await deletePost(owner, gone.id);

    // Not yet a day: nothing goes.
    expect(await deleteUnattachedUploads(env, Date.now())).toBe(0);
    expect(await statusOf(never.url, owner)).toBe(200);

    expect(await deleteUnattachedUploads(env, DAY_LATER())).toBe(1);
    await expectProblem(await call(never.url, { token: owner.accessToken }), 404);
    expect(await headObject(keyOf(never.url))).toBeNull();
    expect(await headObject(keyOf(never.url), 64)).toBeNull();
    // Its id names nothing any more.
    await expectProblem(await call(`/media/${never.id}`, { method: 'DELETE', token: owner.accessToken }), 404);
    expect((await call('/posts', { token: owner.accessToken, body: { content: 'late', media_ids: [never.id] } })).status).toBeGreaterThanOrEqual(400);

    // Used ones stay: on a post, in a message, and one withdrawn with its post (its owner still has it).
    for (const kept of [posted, sent]) expect(await statusOf(kept.url)).toBe(200);
    expect(await statusOf(withdrawn.url, owner)).toBe(200);
    expect(await env.DB.prepare('SELECT COUNT(*) AS n FROM unattached_media').first('n')).toBe(0);
  });

  it('should keep the object while an avatar of the same bytes uses it', async () => {
    const user = await createUser();
    const me = await setAvatar(user, 'png');
    const upload1 = await upload(user, 'png');
    expect(keyOf(upload1.url)).toBe(keyOf(me.avatar_url));
    expect(await deleteUnattachedUploads(env, DAY_LATER())).toBe(1);
    await expectProblem(await call(`/media/${upload1.id}`, { method: 'DELETE', token: user.accessToken }), 404);
    expect(await statusOf(me.avatar_url)).toBe(200);
  });

  it('should start the day again when the same bytes are uploaded again, and keep an upload attached after a race listed it', async () => {
    const user = await createUser();
    const first = await upload(user, 'jpeg');
    await env.DB.prepare('UPDATE unattached_media SET created_at = created_at - ?2 WHERE media_id = ?1').bind(first.id, UNATTACHED_TTL_MS).run();
    const again = await upload(user, 'jpeg');
    expect(again.id).toBe(first.id);
    expect(await deleteUnattachedUploads(env, Date.now() + 60_000)).toBe(0);

    const raced = await upload(user, 'png');
    await post(user, { content: 'attached', media_ids: [raced.id] });
    await env.DB.prepare('INSERT OR REPLACE INTO unattached_media (media_id, created_at) VALUES (?1, 0)').bind(raced.id).run();
    expect(await deleteUnattachedUploads(env, Date.now() + 60_000)).toBe(0);
    expect(await statusOf(raced.url)).toBe(200);
    expect(await env.DB.prepare('SELECT 1 FROM unattached_media WHERE media_id = ?1').bind(raced.id).first()).toBeNull();
  });
});
