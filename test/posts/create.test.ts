import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { call, createUser, expectProblem, expectStatus } from '../helpers/client';
import { IMAGE_FIXTURES } from '../helpers/images';
import {
  createPostRaw,
  getPost,
  ISO,
  POST_KEYS,
  post,
  profile,
  PUBLIC_USER_KEYS,
  ULID,
  UNKNOWN_ID,
  upload,
  deletePost,
} from './helpers';

const TOPICS = ['general', 'news', 'education', 'faith', 'career', 'events', 'sports', 'music', 'arts', 'technology', 'health', 'family', 'food', 'travel'];

describe('Create post', () => {
  it('should answer 201 with the full post shape', async () => {
    const a = await createUser({ display_name: 'Ada' });
    const res = await createPostRaw(a, { content: 'Hello, Kith!', topic: 'news', visibility: 'friends' });
    const body = await expectStatus(res, 201);
    expect(Object.keys(body).sort()).toEqual(POST_KEYS);
    expect(body).toEqual({
      id: expect.stringMatching(ULID),
      author: { id: a.id, username: a.username, display_name: 'Ada', avatar_url: null, bio: expect.any(String), is_verified: false },
      content: 'Hello, Kith!',
      tags: [],
      topic: 'news',
      visibility: 'friends',
      space: 'personal',
      target_user: null,
      community_id: null,
      media: [],
      like_count: 0,
      comment_count: 0,
      liked_by_me: false,
      created_at: expect.stringMatching(ISO),
      edited_at: null,
    });
    expect(Object.keys(body.author).sort()).toEqual(PUBLIC_USER_KEYS);
    expect(body.author).not.toHaveProperty('email');
    expect(Math.abs(Date.parse(body.created_at) - Date.now())).toBeLessThan(60_000);
  });

  it('should default to public visibility and a null topic, and be readable afterwards', async () => {
    const a = await createUser();
    const created = await post(a, 'defaults');
    expect(created.visibility).toBe('public');
    expect(created.topic).toBeNull();
    const read = await expectStatus(await getPost(created.id, a), 200);
    expect(read).toEqual(created);
    const anon = await expectStatus(await getPost(created.id), 200);
    expect(anon.id).toBe(created.id);
  });

  it('should trim surrounding whitespace of the content', async () => {
    const a = await createUser();
    const created = await post(a, '   spaced out   ');
    expect(created.content).toBe('spaced out');
  });

  it('should accept exactly 5000 characters and refuse 5001 naming content', async () => {
    const a = await createUser();
    const ok = await post(a, 'x'.repeat(5000));
    expect(ok.content).toHaveLength(5000);
    await expectProblem(await createPostRaw(a, { content: 'x'.repeat(5001) }), 400, 'content');
  });

  it('should refuse blank or missing content without media naming content', async () => {
    const a = await createUser();
    await expectProblem(await createPostRaw(a, { content: '' }), 400, 'content');
    await expectProblem(await createPostRaw(a, { content: '   \n\t ' }), 400, 'content');
    await expectProblem(await createPostRaw(a, {}), 400, 'content');
    await expectProblem(await createPostRaw(a, { content: '  ', media_ids: [] }), 400, 'content');
    expect((await profile(a)).counts.posts).toBe(0);
  });

  it('should refuse content that is not a string', async () => {
    const a = await createUser();
    await expectProblem(await createPostRaw(a, { content: 42 }), 400, 'content');
    await expectProblem(await createPostRaw(a, { content: null }), 400, 'content');
  });

  it('should accept every documented topic and refuse others naming topic', async () => {
    const a = await createUser();
    for (const topic of TOPICS) {
      const created = await post(a, { content: `about ${topic}`, topic });
      expect(created.topic).toBe(topic);
    }
    const nulled = await post(a, { content: 'no topic', topic: null });
    expect(nulled.topic).toBeNull();
    for (const topic of ['politics', 'NEWS', '', 7]) {
      await expectProblem(await createPostRaw(a, { content: 'bad topic', topic }), 400, 'topic');
    }
  });

  it('should accept the three visibilities and refuse others naming visibility', async () => {
    const a = await createUser();
    for (const visibility of ['public', 'friends', 'private']) {
      expect((await post(a, { visibility })).visibility).toBe(visibility);
    }
    for (const visibility of ['secret', 'Public', null, 1]) {
      await expectProblem(await createPostRaw(a, { content: 'x', visibility }), 400, 'visibility');
    }
  });

  it('should answer 404 for a community_id (no communities exist yet) and create nothing', async () => {
    const a = await createUser();
    await expectProblem(await createPostRaw(a, { content: 'in a community', community_id: UNKNOWN_ID }), 404);
    await expectProblem(await createPostRaw(a, { content: 'bad id', community_id: 'nope' }), 400, 'community_id');
    expect((await profile(a)).counts.posts).toBe(0);
  });

  it('should ignore unknown fields, including attempts to set counters or the author', async () => {
    const a = await createUser();
    const other = await createUser();
    const created = await post(a, { content: 'sneaky', like_count: 99, comment_count: 7, author_id: other.id, edited_at: '2020-01-01T00:00:00.000Z', nonsense: true });
    expect(created.like_count).toBe(0);
    expect(created.comment_count).toBe(0);
    expect(created.author.id).toBe(a.id);
    expect(created.edited_at).toBeNull();
    expect(created).not.toHaveProperty('nonsense');
  });

  it('should refuse malformed JSON and a non-object body with 400', async () => {
    const a = await createUser();
    await expectProblem(await call('/posts', { token: a.accessToken, body: '{"content": ', headers: { 'Content-Type': 'application/json' } }), 400);
    await expectProblem(await call('/posts', { token: a.accessToken, body: '["content"]', headers: { 'Content-Type': 'application/json' } }), 400);
  });

  it('should require authentication', async () => {
    await expectProblem(await call('/posts', { body: { content: 'anonymous' } }), 401);
    await expectProblem(await call('/posts', { body: { content: 'bad token' }, token: 'not-a-jwt' }), 401);
  });

  it('should treat target_user_id equal to the author as a normal post', async () => {
    const a = await createUser();
    const created = await post(a, { content: 'my own wall', target_user_id: a.id });
    expect(created.target_user).toBeNull();
  });
});

describe('Create post with media', () => {
  it('should attach own uploads in the given order with id, url, content_type, width, height', async () => {
    const a = await createUser();
    const png = await upload(a, 'png');
    const jpeg = await upload(a, 'jpeg');
    const created = await post(a, { content: 'two pictures', media_ids: [jpeg.id, png.id] });
    expect(created.media).toEqual([
      { id: jpeg.id, url: jpeg.url, content_type: 'image/jpeg', width: IMAGE_FIXTURES.jpeg.width, height: IMAGE_FIXTURES.jpeg.height },
      { id: png.id, url: png.url, content_type: 'image/png', width: IMAGE_FIXTURES.png.width, height: IMAGE_FIXTURES.png.height },
    ]);
    for (const m of created.media) expect(Object.keys(m).sort()).toEqual(['content_type', 'height', 'id', 'url', 'width']);
    const read = await expectStatus(await getPost(created.id), 200);
    expect(read.media).toEqual(created.media);
    // The attachment URL serves the bytes.
    const bytes = await call(created.media[1].url);
    expect(bytes.status).toBe(200);
    expect(bytes.headers.get('Content-Type')).toBe('image/png');
    await bytes.arrayBuffer();
  });

  it('should accept a media-only post with empty or missing content', async () => {
    const a = await createUser();
    const gif = await upload(a, 'gif');
    const noContent = await expectStatus(await createPostRaw(a, { media_ids: [gif.id] }), 201);
    expect(noContent.content).toBe('');
    expect(noContent.media.map((m: any) => m.id)).toEqual([gif.id]);
    const blank = await expectStatus(await createPostRaw(a, { content: '   ', media_ids: [gif.id] }), 201);
    expect(blank.content).toBe('');
    expect(blank.media).toHaveLength(1);
  });

  it("should refuse someone else's upload naming media_ids", async () => {
    const a = await createUser();
    const b = await createUser();
    const theirs = await upload(b, 'webp');
    await expectProblem(await createPostRaw(a, { content: 'stolen', media_ids: [theirs.id] }), 400, 'media_ids');
    const mine = await upload(a, 'png');
    await expectProblem(await createPostRaw(a, { content: 'mixed', media_ids: [mine.id, theirs.id] }), 400, 'media_ids');
    expect((await profile(a)).counts.posts).toBe(0);
  });

  it('should refuse unknown, malformed, duplicate and more than 10 media ids', async () => {
    const a = await createUser();
    const mine = await upload(a, 'png');
    await expectProblem(await createPostRaw(a, { content: 'x', media_ids: [UNKNOWN_ID] }), 400, 'media_ids');
    const malformed = await expectProblem(await createPostRaw(a, { content: 'x', media_ids: ['not-an-id'] }), 400);
    expect(malformed.errors.map((e: any) => e.field).join(' ')).toContain('media_ids');
    await expectProblem(await createPostRaw(a, { content: 'x', media_ids: [mine.id, mine.id] }), 400, 'media_ids');
    const eleven = Array.from({ length: 11 }, (_, i) => UNKNOWN_ID.slice(0, 24) + String(i).padStart(2, '0'));
    await expectProblem(await createPostRaw(a, { content: 'x', media_ids: eleven }), 400, 'media_ids');
    await expectProblem(await createPostRaw(a, { content: 'x', media_ids: 'nope' }), 400, 'media_ids');
    expect((await profile(a)).counts.posts).toBe(0);
  });

  it('should refuse the avatar as an attachment', async () => {
    const a = await createUser();
    const form = new FormData();
    form.append('file', new File([IMAGE_FIXTURES.png.bytes], 'a.png', { type: 'image/png' }));
    await expectStatus(await call('/me/avatar', { method: 'PUT', token: a.accessToken, body: form }), 200);
    const avatar = await env.DB.prepare("SELECT id FROM media WHERE owner_id = ?1 AND kind = 'avatar'").bind(a.id).first<{ id: string }>();
    expect(avatar?.id).toEqual(expect.stringMatching(ULID));
    await expectProblem(await createPostRaw(a, { content: 'avatar', media_ids: [avatar!.id] }), 400, 'media_ids');
  });
});

describe('Post counters on the profile', () => {
  it('should count posts up on create and down on delete', async () => {
    const a = await createUser();
    expect((await profile(a)).counts.posts).toBe(0);
    const p1 = await post(a, 'one');
    const p2 = await post(a, { content: 'two', visibility: 'private' });
    expect((await profile(a)).counts.posts).toBe(2);
    expect((await expectStatus(await call('/me', { token: a.accessToken }), 200)).counts.posts).toBe(2);
    await expectStatus(await deletePost(a, p1.id), 204);
    expect((await profile(a)).counts.posts).toBe(1);
    await expectStatus(await deletePost(a, p2.id), 204);
    expect((await profile(a)).counts.posts).toBe(0);
  });

  it('should count a wall post for its author, not for the wall owner', async () => {
    const a = await createUser();
    const owner = await createUser();
    await expectStatus(await call('/me', { method: 'PATCH', token: owner.accessToken, body: { wall_policy: 'everyone' } }), 200);
    await post(a, { content: 'on your wall', target_user_id: owner.id });
    expect((await profile(a)).counts.posts).toBe(1);
    expect((await profile(owner)).counts.posts).toBe(0);
  });
});

describe('Read post', () => {
  it('should answer 404 for an unknown id and 400 for a malformed id', async () => {
    const a = await createUser();
    await expectProblem(await getPost(UNKNOWN_ID, a), 404);
    await expectProblem(await getPost(UNKNOWN_ID), 404);
    await expectProblem(await call('/posts/not-an-id'), 400);
  });
});
