import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { call, createUser, expectProblem, expectStatus, type TestUser } from '../helpers/client';
import { runSignInJobs } from '../../src/scheduled';
import { createOrTaken, IDEMPOTENCY_TTL_MS, idempotentCreate, recordCreate } from '../../src/lib/idempotency';
import { post } from '../posts/helpers';
import { removeMemberRaw } from '../messaging/helpers';

/**
 * `Idempotency-Key` on POST /posts, POST /posts/{id}/comments and POST /conversations: a retry returns
 * what the first request created (200) instead of creating it again.
 */

const postWithKey = (user: TestUser, key: string, body: unknown) => call('/posts', { token: user.accessToken, body, headers: { 'Idempotency-Key': key } });
const commentWithKey = (user: TestUser, postId: string, key: string, body: unknown) =>
  call(`/posts/${postId}/comments`, { token: user.accessToken, body, headers: { 'Idempotency-Key': key } });

const postsBy = async (user: TestUser) =>
  (await env.DB.prepare('SELECT id FROM posts WHERE author_id = ?1 ORDER BY created_at').bind(user.id).all<{ id: string }>()).results.map((r) => r.id);
const commentsBy = async (user: TestUser) =>
  (await env.DB.prepare('SELECT id FROM comments WHERE author_id = ?1 ORDER BY created_at').bind(user.id).all<{ id: string }>()).results.map((r) => r.id);

describe('Idempotency-Key on POST /posts', () => {
  it('should answer a retry with the post the first request created (200), never a second post', async () => {
    const author = await createUser();
    const key = crypto.randomUUID();
    const first = await expectStatus(await postWithKey(author, key, { content: 'only once', visibility: 'friends' }), 201);
    const again = await expectStatus(await postWithKey(author, key, { content: 'only once', visibility: 'friends' }), 200);
    expect(again).toEqual(first);
    expect(await postsBy(author)).toEqual([first.id]);
    // Without a key, the same request is a new post, as before.
    await expectStatus(await call('/posts', { token: author.accessToken, body: { content: 'only once', visibility: 'friends' } }), 201);
    expect(await postsBy(author)).toHaveLength(2);
  });

  it('should create one post when the same key is sent several times at once', async () => {
    const author = await createUser();
    const key = crypto.randomUUID();
    const answers = await Promise.all(Array.from({ length: 5 }, () => postWithKey(author, key, { content: 'flaky network' })));
    expect(answers.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 201]);
    const ids = new Set((await Promise.all(answers.map((r) => r.json() as Promise<{ id: string }>))).map((p) => p.id));
    expect([...ids]).toEqual(await postsBy(author));
  });

  it('should refuse the same key for a different request, and a retry of a post deleted since, with 409 naming the header', async () => {
    const author = await createUser();
    const key = crypto.randomUUID();
    const first = await expectStatus(await postWithKey(author, key, { content: 'first' }), 201);
    await expectProblem(await postWithKey(author, key, { content: 'something else' }), 409, 'Idempotency-Key');
    await expectStatus(await call(`/posts/${first.id}`, { method: 'DELETE', token: author.accessToken }), 204);
    await expectProblem(await postWithKey(author, key, { content: 'first' }), 409, 'Idempotency-Key');
    expect(await postsBy(author)).toEqual([]);
  });

  it('should keep keys per account, and let a key older than a day make a new post', async () => {
    const [a, b] = [await createUser(), await createUser()];
    const key = 'same-key-for-both';
    const mine = await expectStatus(await postWithKey(a, key, { content: 'hello' }), 201);
    const theirs = await expectStatus(await postWithKey(b, key, { content: 'hello' }), 201);
    expect(theirs.id).not.toBe(mine.id);

    await env.DB.prepare('UPDATE idempotency_keys SET created_at = created_at - ?2 WHERE user_id = ?1').bind(a.id, IDEMPOTENCY_TTL_MS).run();
    const later = await expectStatus(await postWithKey(a, key, { content: 'hello' }), 201);
    expect(later.id).not.toBe(mine.id);
    expect(await postsBy(a)).toEqual([mine.id, later.id]);
  });

  it('should refuse a malformed key with 400 naming the header, creating nothing', async () => {
    const author = await createUser();
    for (const key of ['x'.repeat(256), 'has space', '']) {
      const res = await call('/posts', { token: author.accessToken, body: { content: 'bad key' }, headers: { 'Idempotency-Key': key } });
      const problem = await expectProblem(res, 400);
      expect(problem.errors.map((e: { field: string }) => e.field.toLowerCase())).toContain('idempotency-key');
    }
    expect(await postsBy(author)).toEqual([]);
  });

  it('should prune keys older than a day every minute and keep the others', async () => {
    const author = await createUser();
    await expectStatus(await postWithKey(author, 'old', { content: 'one' }), 201);
    await expectStatus(await postWithKey(author, 'new', { content: 'two' }), 201);
    await env.DB.prepare("UPDATE idempotency_keys SET created_at = created_at - ?2 WHERE user_id = ?1 AND key = 'old'").bind(author.id, IDEMPOTENCY_TTL_MS).run();
    await runSignInJobs(env, Date.now());
    const left = await env.DB.prepare('SELECT key FROM idempotency_keys WHERE user_id = ?1').bind(author.id).all<{ key: string }>();
    expect(left.results.map((r) => r.key)).toEqual(['new']);
  });
});

describe('Idempotency-Key on POST /posts/{id}/comments', () => {
  it('should answer a retry with the comment the first request created, and refuse the key on another post', async () => {
    const [author, commenter] = [await createUser(), await createUser()];
    const [p1, p2] = [await post(author, 'first post'), await post(author, 'second post')];
    const key = crypto.randomUUID();
    const first = await expectStatus(await commentWithKey(commenter, p1.id, key, { content: 'nice' }), 201);
    expect(await expectStatus(await commentWithKey(commenter, p1.id, key, { content: 'nice' }), 200)).toEqual(first);
    await expectProblem(await commentWithKey(commenter, p2.id, key, { content: 'nice' }), 409, 'Idempotency-Key');
    expect(await commentsBy(commenter)).toEqual([first.id]);
    const counted = await expectStatus(await call(`/posts/${p1.id}`, { token: author.accessToken }), 200);
    expect(counted.comment_count).toBe(1);
    // A post's and a comment's keys are apart: the same key makes a post.
    await expectStatus(await postWithKey(commenter, key, { content: 'nice' }), 201);
  });
});

describe('Idempotency-Key on POST /conversations', () => {
  it('should answer a retry with the group the first request created, and 409 once the caller left it', async () => {
    const [creator, a, b] = [await createUser(), await createUser(), await createUser()];
    const key = crypto.randomUUID();
    const body = { participant_ids: [a.id, b.id], title: 'book club' };
    const send = () => call('/conversations', { token: creator.accessToken, body, headers: { 'Idempotency-Key': key } });
    const first = await expectStatus(await send(), 201);
    expect(await expectStatus(await send(), 200)).toMatchObject({ id: first.id, title: 'book club' });
    const groups = await env.DB.prepare('SELECT id FROM conversations WHERE created_by = ?1').bind(creator.id).all<{ id: string }>();
    expect(groups.results.map((r) => r.id)).toEqual([first.id]);
    await expectProblem(await call('/conversations', { token: creator.accessToken, body: { ...body, title: 'another club' }, headers: { 'Idempotency-Key': key } }), 409, 'Idempotency-Key');
    await expectStatus(await removeMemberRaw(creator, first.id, creator.id), 204);
    await expectProblem(await send(), 409, 'Idempotency-Key');
  });
});

describe('createOrTaken (two requests with one key at once)', () => {
  // Requests the test runner sends at once reach the worker one after another, so the race is run here
  // directly: two batches that each record the key, as two create requests would.
  it('should let one batch record the key, and answer the other with what the first made', async () => {
    const user = await createUser();
    const retry = await idempotentCreate('race-key', 'posts', { content: 'same' });
    const attempt = (resourceId: string) => createOrTaken(env.DB, user.id, retry, () => env.DB.batch(recordCreate(env.DB, user.id, retry!, resourceId)));
    const outcomes = await Promise.all([attempt('first-id'), attempt('second-id')]);
    const done = outcomes.filter((o) => 'done' in o);
    const taken = outcomes.filter((o): o is { takenBy: string } => 'takenBy' in o);
    expect(done).toHaveLength(1);
    expect(taken).toHaveLength(1);
    const stored = await env.DB.prepare('SELECT resource_id FROM idempotency_keys WHERE user_id = ?1 AND key = ?2').bind(user.id, 'race-key').first<{ resource_id: string }>();
    expect(taken[0]!.takenBy).toBe(stored!.resource_id);
    // The same key with another request, losing the race: 409 naming the header.
    const other = await idempotentCreate('race-key', 'posts', { content: 'different' });
    const lost = createOrTaken(env.DB, user.id, other, () => env.DB.batch(recordCreate(env.DB, user.id, other!, 'third-id')));
    await expect(lost).rejects.toMatchObject({ code: 'conflict', errors: [{ field: 'Idempotency-Key' }] });
    // Without a key, a failing batch's error is the caller's.
    await expect(createOrTaken(env.DB, user.id, null, () => env.DB.batch(recordCreate(env.DB, user.id, retry!, 'fourth-id')))).rejects.toThrow(/UNIQUE|constraint/i);
  });
});
