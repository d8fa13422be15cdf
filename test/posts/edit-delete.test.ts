import { describe, expect, it } from 'vitest';
import { call, createUser, expectProblem, expectStatus } from '../helpers/client';
import {
  comment,
  dbCount,
  deletePost,
  getPost,
  ISO,
  like,
  makeFriends,
  patchPost,
  post,
  profile,
  UNKNOWN_ID,
  upload,
  users,
} from './helpers';

describe('Edit post', () => {
  it('should let the author change content, topic and visibility and set edited_at', async () => {
    const a = await createUser();
    const p = await post(a, { content: 'first draft', topic: 'news', visibility: 'public' });
    expect(p.edited_at).toBeNull();
    const edited = await expectStatus(await patchPost(a, p.id, { content: 'second draft', topic: 'arts', visibility: 'friends' }), 200);
    expect(edited).toMatchObject({ id: p.id, content: 'second draft', topic: 'arts', visibility: 'friends', created_at: p.created_at });
    expect(edited.edited_at).toMatch(ISO);
    expect(Date.parse(edited.edited_at)).toBeGreaterThanOrEqual(Date.parse(p.created_at));
    const read = await expectStatus(await getPost(p.id, a), 200);
    expect(read).toEqual(edited);
  });

  it('should leave untouched fields alone on a partial edit, and clear the topic with null', async () => {
    const a = await createUser();
    const p = await post(a, { content: 'keep me', topic: 'food', visibility: 'friends' });
    const onlyTopic = await expectStatus(await patchPost(a, p.id, { topic: null }), 200);
    expect(onlyTopic).toMatchObject({ content: 'keep me', topic: null, visibility: 'friends' });
    const onlyContent = await expectStatus(await patchPost(a, p.id, { content: '  trimmed  ' }), 200);
    expect(onlyContent).toMatchObject({ content: 'trimmed', topic: null, visibility: 'friends' });
  });

  it('should keep counters and liked_by_me across an edit', async () => {
    const a = await createUser();
    const fan = await createUser();
    const p = await post(a, 'counted');
    await expectStatus(await like(fan, p.id), 200);
    await comment(fan, p.id, 'first');
    const edited = await expectStatus(await patchPost(a, p.id, { content: 'still counted' }), 200);
    expect(edited).toMatchObject({ like_count: 1, comment_count: 1 });
    expect(await expectStatus(await getPost(p.id, fan), 200)).toMatchObject({ liked_by_me: true, content: 'still counted' });
  });

  it('should replace, reorder and clear attachments', async () => {
    const a = await createUser();
    const png = await upload(a, 'png');
    const gif = await upload(a, 'gif');
    const webp = await upload(a, 'webp');
    const p = await post(a, { content: 'with pictures', media_ids: [png.id, gif.id] });
    const swapped = await expectStatus(await patchPost(a, p.id, { media_ids: [webp.id, png.id] }), 200);
    expect(swapped.media.map((m: any) => m.id)).toEqual([webp.id, png.id]);
    const unchanged = await expectStatus(await patchPost(a, p.id, { content: 'text edit only' }), 200);
    expect(unchanged.media.map((m: any) => m.id)).toEqual([webp.id, png.id]);
    const cleared = await expectStatus(await patchPost(a, p.id, { media_ids: [] }), 200);
    expect(cleared.media).toEqual([]);
    expect(cleared.content).toBe('text edit only');
  });

  it('should refuse emptying a text-only post, but allow it when media remain', async () => {
    const a = await createUser();
    const textOnly = await post(a, 'only words');
    await expectProblem(await patchPost(a, textOnly.id, { content: '' }), 400, 'content');
    await expectProblem(await patchPost(a, textOnly.id, { content: '   ' }), 400, 'content');
    expect((await expectStatus(await getPost(textOnly.id, a), 200)).content).toBe('only words');
    const jpeg = await upload(a, 'jpeg');
    const withMedia = await post(a, { content: 'words and a picture', media_ids: [jpeg.id] });
    const emptied = await expectStatus(await patchPost(a, withMedia.id, { content: '' }), 200);
    expect(emptied.content).toBe('');
    // ...but then removing the last attachment is refused.
    await expectProblem(await patchPost(a, withMedia.id, { media_ids: [] }), 400, 'content');
  });

  it('should validate like create: length, topic, visibility, media ownership', async () => {
    const a = await createUser();
    const b = await createUser();
    const theirs = await upload(b, 'png');
    const p = await post(a, 'valid');
    await expectStatus(await patchPost(a, p.id, { content: 'y'.repeat(5000) }), 200);
    await expectProblem(await patchPost(a, p.id, { content: 'y'.repeat(5001) }), 400, 'content');
    await expectProblem(await patchPost(a, p.id, { topic: 'gossip' }), 400, 'topic');
    await expectProblem(await patchPost(a, p.id, { visibility: 'everyone' }), 400, 'visibility');
    await expectProblem(await patchPost(a, p.id, { media_ids: [theirs.id] }), 400, 'media_ids');
    await expectProblem(await patchPost(a, p.id, { media_ids: [UNKNOWN_ID] }), 400, 'media_ids');
  });

  it('should refuse unknown fields with 400 naming them', async () => {
    const a = await createUser();
    const p = await post(a, 'strict edits');
    await expectProblem(await patchPost(a, p.id, { content: 'ok', like_count: 5 }), 400, 'like_count');
    await expectProblem(await patchPost(a, p.id, { target_user_id: a.id }), 400, 'target_user_id');
    await expectProblem(await patchPost(a, p.id, { author_id: a.id }), 400, 'author_id');
    const read = await expectStatus(await getPost(p.id, a), 200);
    expect(read).toMatchObject({ content: 'strict edits', like_count: 0, edited_at: null });
  });

  it('should answer 403 to a non-author who can see the post, 404 to one who cannot', async () => {
    const a = await createUser();
    const [friend, stranger] = await users(2);
    await makeFriends(a, friend!);
    const pub = await post(a, { content: 'public', visibility: 'public' });
    const fr = await post(a, { content: 'friends', visibility: 'friends' });
    await expectProblem(await patchPost(friend!, pub.id, { content: 'hijack' }), 403);
    await expectProblem(await patchPost(friend!, fr.id, { content: 'hijack' }), 403);
    await expectProblem(await patchPost(stranger!, pub.id, { content: 'hijack' }), 403);
    await expectProblem(await patchPost(stranger!, fr.id, { content: 'hijack' }), 404);
    expect((await expectStatus(await getPost(pub.id), 200)).content).toBe('public');
  });

  it("should not let the wall owner edit a post on their wall", async () => {
    const owner = await createUser();
    const author = await createUser();
    await makeFriends(owner, author);
    const p = await post(author, { content: 'on your wall', target_user_id: owner.id });
    await expectProblem(await patchPost(owner, p.id, { content: 'rewritten' }), 403);
  });

  it('should require authentication and answer 404 for unknown posts', async () => {
    const a = await createUser();
    const p = await post(a, 'x');
    await expectProblem(await call(`/posts/${p.id}`, { method: 'PATCH', body: { content: 'anon' } }), 401);
    await expectProblem(await patchPost(a, UNKNOWN_ID, { content: 'ghost' }), 404);
  });
});

describe('Delete post', () => {
  it('should let the author delete (204), then answer 404 everywhere', async () => {
    const a = await createUser();
    const p = await post(a, 'short-lived');
    await expectStatus(await deletePost(a, p.id), 204);
    await expectProblem(await getPost(p.id, a), 404);
    await expectProblem(await getPost(p.id), 404);
    await expectProblem(await deletePost(a, p.id), 404);
    await expectProblem(await patchPost(a, p.id, { content: 'zombie' }), 404);
    await expectProblem(await call(`/posts/${p.id}/comments`), 404);
    expect(await dbCount('SELECT COUNT(*) AS n FROM posts WHERE id = ?1', p.id)).toBe(0);
  });

  it('should answer 403 to others who can see it and 404 to those who cannot', async () => {
    const a = await createUser();
    const [friend, stranger] = await users(2);
    await makeFriends(a, friend!);
    const pub = await post(a, 'public');
    const priv = await post(a, { content: 'private', visibility: 'private' });
    await expectProblem(await deletePost(friend!, pub.id), 403);
    await expectProblem(await deletePost(stranger!, pub.id), 403);
    await expectProblem(await deletePost(friend!, priv.id), 404);
    await expectStatus(await getPost(pub.id), 200);
    await expectStatus(await getPost(priv.id, a), 200);
    await expectProblem(await call(`/posts/${pub.id}`, { method: 'DELETE' }), 401);
  });

  it('should remove its likes, comments and replies, and lower the author’s posts count', async () => {
    const a = await createUser();
    const [fan1, fan2] = await users(2);
    const p = await post(a, 'popular and doomed');
    const keep = await post(a, 'survivor');
    await expectStatus(await like(fan1!, p.id), 200);
    await expectStatus(await like(fan2!, p.id), 200);
    await expectStatus(await like(fan1!, keep.id), 200);
    const c1 = await comment(fan1!, p.id, 'top');
    await comment(fan2!, p.id, 'reply', c1.id);
    await comment(fan2!, keep.id, 'on the survivor');
    expect((await expectStatus(await getPost(p.id), 200))).toMatchObject({ like_count: 2, comment_count: 2 });
    expect((await profile(a)).counts.posts).toBe(2);

    await expectStatus(await deletePost(a, p.id), 204);
    expect(await dbCount('SELECT COUNT(*) AS n FROM likes WHERE post_id = ?1', p.id)).toBe(0);
    expect(await dbCount('SELECT COUNT(*) AS n FROM comments WHERE post_id = ?1', p.id)).toBe(0);
    expect(await dbCount('SELECT COUNT(*) AS n FROM post_media WHERE post_id = ?1', p.id)).toBe(0);
    expect((await profile(a)).counts.posts).toBe(1);
    // The other post is untouched.
    expect(await expectStatus(await getPost(keep.id), 200)).toMatchObject({ like_count: 1, comment_count: 1 });
    expect(await dbCount('SELECT COUNT(*) AS n FROM likes WHERE user_id = ?1', fan1!.id)).toBe(1);
  });

  it('should keep the uploaded media for reuse after deleting the post', async () => {
    const a = await createUser();
    const png = await upload(a, 'png');
    const p = await post(a, { content: 'with media', media_ids: [png.id] });
    await expectStatus(await deletePost(a, p.id), 204);
    const again = await post(a, { content: 'reused', media_ids: [png.id] });
    expect(again.media.map((m: any) => m.id)).toEqual([png.id]);
  });
});

describe('Attached media', () => {
  it('should refuse to delete an upload a post uses (409), and allow it once the post is gone', async () => {
    const author = await createUser();
    const image = await upload(author);
    const created = await post(author, { content: 'with a picture', media_ids: [image.id] });
    await expectProblem(await call(`/media/${image.id}`, { method: 'DELETE', token: author.accessToken }), 409, 'id');
    // The post still shows its picture.
    expect((await expectStatus(await getPost(created.id, author), 200)).media.map((m: { id: string }) => m.id)).toEqual([image.id]);
    await expectStatus(await deletePost(author, created.id), 204);
    await expectStatus(await call(`/media/${image.id}`, { method: 'DELETE', token: author.accessToken }), 204);
  });
});
