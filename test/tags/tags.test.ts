import { createExecutionContext, createScheduledController, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import worker from '../../src/index';
import { TRENDS_CRON } from '../../src/scheduled';
import { extractHashtags } from '../../src/modules/tags/hashtags';
import { call, createUser, expectProblem, expectStatus } from '../helpers/client';
import { act, createStaff, nonsenseWord } from '../moderation/helpers';
import { block, makeFriends, patchPost, post, type TestUser } from '../posts/helpers';
import { users } from '../communities/helpers';

const DAY = 24 * 60 * 60 * 1000;

const tagPosts = async (tag: string, viewer?: TestUser, query = '') =>
  (await expectStatus(await call(`/tags/${encodeURIComponent(tag)}/posts${query}`, { token: viewer?.accessToken }), 200)).data.map((p: { id: string }) => p.id);

/** Runs the trends Cron Trigger at `now`, as Cloudflare would. */
async function refreshTrends(now = Date.now()): Promise<void> {
  const ctx = createExecutionContext();
  await worker.scheduled!(createScheduledController({ cron: TRENDS_CRON, scheduledTime: now }), env, ctx);
  await waitOnExecutionContext(ctx);
}

const trends = async (query = '') => expectStatus(await call(`/trends/tags${query}`), 200);

/** Moves a post's tag uses `days` back in time (what the trends refresh counts). */
const backdate = (postId: string, days: number) =>
  env.DB.prepare('UPDATE post_tags SET created_at = created_at - ?2 WHERE post_id = ?1').bind(postId, days * DAY).run();

describe('hashtags in posts', () => {
  it('should parse #words into tags: lower case, each once, in order, not inside words, links or entities', () => {
    expect(extractHashtags('#Rust and #rust, #Café_2 #1 a#b example.com/#top &#38; (#ok) #ünï')).toEqual(['rust', 'café_2', 'ok', 'ünï']);
    expect(extractHashtags(`#${'a'.repeat(51)}`)).toEqual([]);
    expect(extractHashtags(Array.from({ length: 25 }, (_, i) => `#t${i}`).join(' '))).toHaveLength(20);
  });

  it('should set tags on create and recompute them on edit, and list a tag\'s posts newest first', async () => {
    const [a, b] = [nonsenseWord('ta'), nonsenseWord('tb')];
    const author = await createUser();
    const first = await post(author, `Hello #${a.toUpperCase()} and #${b}`);
    expect(first.tags).toEqual([a, b]);
    const second = await post(author, `More #${a}`);
    expect(await tagPosts(a)).toEqual([second.id, first.id]);
    expect(await tagPosts(a.toUpperCase())).toEqual([second.id, first.id]);
    const edited = await expectStatus(await patchPost(author, first.id, { content: `Now only #${b}` }), 200);
    expect(edited.tags).toEqual([b]);
    expect(await tagPosts(a)).toEqual([second.id]);
    expect(await tagPosts(b)).toEqual([first.id]);
    await expectStatus(await call(`/posts/${second.id}`, { method: 'DELETE', token: author.accessToken }), 204);
    expect(await tagPosts(a)).toEqual([]);
  });

  it("should page a tag's posts and show only what the viewer may see", async () => {
    const tag = nonsenseWord('tv');
    const [author, friend, stranger, blocked] = await users(4);
    await makeFriends(author, friend);
    const open = [];
    for (let i = 0; i < 3; i++) open.push((await post(author, `#${tag} ${i}`)).id);
    const friendsOnly = await post(author, { content: `#${tag} friends`, visibility: 'friends' });
    await block(author, blocked);
    expect(await tagPosts(tag, friend)).toEqual([friendsOnly.id, ...open.reverse()]);
    expect(await tagPosts(tag, stranger)).toEqual(open);
    expect(await tagPosts(tag)).toEqual(open);
    expect(await tagPosts(tag, blocked)).toEqual([]);
    const page = await expectStatus(await call(`/tags/${tag}/posts?limit=2`, { token: stranger.accessToken }), 200);
    const rest = await expectStatus(await call(`/tags/${tag}/posts?limit=2&cursor=${encodeURIComponent(page.next_cursor)}`, { token: stranger.accessToken }), 200);
    expect([...page.data, ...rest.data].map((p: { id: string }) => p.id)).toEqual(open);
    expect(rest.next_cursor).toBeNull();
  });

  it("should walk a tag's posts to the end when most of them are hidden from the viewer, each shown once", async () => {
    const tag = nonsenseWord('th');
    const [author, stranger] = await users(2);
    const older = (await post(author, `#${tag} oldest`)).id;
    for (let i = 0; i < 14; i++) await post(author, { content: `#${tag} hidden ${i}`, visibility: 'friends' });
    const newer = [(await post(author, `#${tag} new 1`)).id, (await post(author, `#${tag} new 2`)).id].reverse();
    for (const limit of [1, 2]) {
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page: { data: { id: string }[]; next_cursor: string | null } = await expectStatus(
          await call(`/tags/${tag}/posts?limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { token: stranger.accessToken }),
          200,
        );
        // A page may come back short while hidden posts are skipped, never over the limit.
        expect(page.data.length).toBeLessThanOrEqual(limit);
        seen.push(...page.data.map((p) => p.id));
        cursor = page.next_cursor;
        expect(++pages, 'the walk ends').toBeLessThan(12);
      } while (cursor);
      expect(seen, `limit=${limit}`).toEqual([...newer, older]);
    }
  });

  it("should end a tag's posts with next_cursor null when only posts hidden from the viewer remain", async () => {
    const tag = nonsenseWord('tn');
    const [author, stranger] = await users(2);
    for (let i = 0; i < 8; i++) await post(author, { content: `#${tag} hidden ${i}`, visibility: 'friends' });
    const open = await post(author, `#${tag} open`);
    const empty = nonsenseWord('te');
    for (let i = 0; i < 8; i++) await post(author, { content: `#${empty} hidden ${i}`, visibility: 'friends' });
    for (const limit of [1, 2]) {
      expect(await expectStatus(await call(`/tags/${tag}/posts?limit=${limit}`, { token: stranger.accessToken }), 200), `limit=${limit}`).toEqual({
        data: [expect.objectContaining({ id: open.id })],
        next_cursor: null,
      });
      expect(await expectStatus(await call(`/tags/${empty}/posts?limit=${limit}`, { token: stranger.accessToken }), 200), `limit=${limit}`).toEqual({ data: [], next_cursor: null });
    }
  });

  it('should refuse a tag outside [\\p{L}\\p{N}_]{1,50} with 400 naming tag', async () => {
    for (const bad of ['a-b', 'a%20b', '%23rust', 'a.b', 'x'.repeat(51), '%F0%9F%99%82']) {
      await expectProblem(await call(`/tags/${bad}/posts`), 400, 'tag');
    }
    await expectStatus(await call(`/tags/${encodeURIComponent('café_2')}/posts`), 200);
    await expectProblem(await call('/tags/rust/posts?limit=500'), 400, 'limit');
  });
});

describe('GET /trends/tags', () => {
  it('should list tags rising against their baseline, counting accounts, refreshed by the Cron Trigger', async () => {
    const [rising, steady, loud, hidden] = [nonsenseWord('tr'), nonsenseWord('ts'), nonsenseWord('tl'), nonsenseWord('th')];
    const people = await users(4);
    const [p1, p2, p3, p4] = people as [TestUser, TestUser, TestUser, TestUser];
    // rising: 3 accounts today, nobody before. steady: 3 accounts today, and the same 3 on each of
    // the last 7 days (baseline 3: not rising). loud: one account, 4 posts (one voice: never trends).
    // hidden: 3 accounts today, friends-only posts (nobody else may read them: not counted).
    for (const person of [p1, p2, p3]) {
      await post(person, `#${rising}`);
      await post(person, `#${steady}`);
      for (let day = 1; day <= 7; day++) await backdate((await post(person, `#${steady} day ${day}`)).id, day);
      await post(person, { content: `#${hidden}`, visibility: 'friends' });
    }
    for (let i = 0; i < 4; i++) await post(p4, `#${loud} ${i}`);
    await refreshTrends();
    const listed = await trends('?limit=100');
    const entry = listed.find((t: { tag: string }) => t.tag === rising);
    expect(entry).toEqual({ tag: rising, uses_24h: 3, accounts_24h: 3 });
    const names = listed.map((t: { tag: string }) => t.tag);
    for (const absent of [steady, loud, hidden]) expect(names).not.toContain(absent);
    // A refresh a day later: the window has moved past today's posts.
    await refreshTrends(Date.now() + 2 * DAY);
    expect((await trends('?limit=100')).map((t: { tag: string }) => t.tag)).not.toContain(rising);
  });

  it("should not count a silenced account's posts, and refuse a bad limit", async () => {
    const tag = nonsenseWord('tq');
    const [a, b] = await users(2);
    await post(a, `#${tag}`);
    await post(b, `#${tag}`);
    await refreshTrends();
    expect((await trends('?limit=100')).map((t: { tag: string }) => t.tag)).toContain(tag);
    await act(await createStaff(), b, 'silence');
    await refreshTrends();
    expect((await trends('?limit=100')).map((t: { tag: string }) => t.tag)).not.toContain(tag);
    await expectProblem(await call('/trends/tags?limit=0'), 400, 'limit');
    await expectProblem(await call('/trends/tags?limit=abc'), 400, 'limit');
  });
});
