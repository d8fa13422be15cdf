import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { FAN_OUT_PUSH_LIMIT } from '../../src/modules/feeds/hybrid';
import { createUser, type TestUser } from '../helpers/client';
import { addFollowers, follow, homeAll, homePage, HOUR, insertPost } from './helpers';

/**
 * Hybrid timelines (src/modules/feeds/hybrid.ts). Posts are written with insertPost, which runs the
 * fan-out consumer's timeline push directly (the API would also notify every follower's inbox, and
 * these authors have a thousand followers).
 */

/** Which of these posts sit in the reader's pushed timeline entries. */
async function pushedTo(reader: TestUser, postIds: string[]): Promise<string[]> {
  const { results } = await env.DB.prepare('SELECT post_id FROM home_timeline_entries WHERE user_id = ?1 AND post_id IN (SELECT value FROM json_each(?2)) ORDER BY post_id')
    .bind(reader.id, JSON.stringify(postIds))
    .all<{ post_id: string }>();
  return results.map((r) => r.post_id);
}

const isPulled = async (sourceId: string) => (await env.DB.prepare('SELECT 1 FROM timeline_pulled_sources WHERE source_id = ?1').bind(sourceId).first()) !== null;
const pullsOf = async (reader: TestUser) =>
  JSON.parse((await env.DB.prepare('SELECT pulls FROM home_timelines WHERE user_id = ?1').bind(reader.id).first<{ pulls: string }>())!.pulls) as { a: [string, number][]; c: string[] };

describe('Hybrid home timelines', () => {
  it('should push a post of an author under the threshold into each follower’s live timeline', async () => {
    const [reader, author] = [await createUser(), await createUser()];
    await follow(reader, author);
    await homePage(reader);
    const post = await insertPost(author, { createdAt: Date.now() });
    expect(await isPulled(author.id)).toBe(false);
    expect(await pushedTo(reader, [post.id])).toEqual([post.id]);
    expect((await homePage(reader)).data.map((p) => p.id)).toEqual([post.id]);
  });

  it('should pull the posts of an author above the threshold at read time, never pushing them', async () => {
    const [reader, author, small] = [await createUser(), await createUser(), await createUser()];
    await addFollowers(author.id, FAN_OUT_PUSH_LIMIT);
    await follow(reader, author);
    await follow(reader, small);
    const old = await insertPost(author, { createdAt: Date.now() - 2 * HOUR });
    expect(await isPulled(author.id)).toBe(true);

    // A timeline built now lists the pulled author; their new posts reach it only through the read.
    await homePage(reader);
    expect((await pullsOf(reader)).a).toEqual([[author.id, 0]]);
    const fresh = await insertPost(author, { createdAt: Date.now() - HOUR });
    const friendsOnly = await insertPost(author, { createdAt: Date.now() - HOUR + 1, visibility: 'friends' });
    const pushed = await insertPost(small, { createdAt: Date.now() });
    expect(await pushedTo(reader, [fresh.id, friendsOnly.id, pushed.id])).toEqual([pushed.id]);
    expect((await homePage(reader)).data.map((p) => p.id)).toEqual([pushed.id, fresh.id, old.id]);
    expect(await homeAll(reader, 1)).toEqual([pushed.id, fresh.id, old.id]);
  });

  it('should merge a newly pulled source into a timeline already read while it pulled nothing', async () => {
    const [reader, author] = [await createUser(), await createUser()];
    await addFollowers(author.id, FAN_OUT_PUSH_LIMIT - 1);
    await follow(reader, author);
    // Built, then read from the live timeline while it lists no pulled source.
    await homePage(reader);
    const before = await insertPost(author, { createdAt: Date.now() - HOUR });
    expect((await homePage(reader)).data.map((p) => p.id)).toEqual([before.id]);

    await addFollowers(author.id, 1);
    const after = await insertPost(author, { createdAt: Date.now() });
    expect((await pullsOf(reader)).a).toEqual([[author.id, 0]]);
    expect(await pushedTo(reader, [after.id])).toEqual([]);
    // The same live timeline now pulls the author: the read merges their new post in.
    expect((await homePage(reader)).data.map((p) => p.id)).toEqual([after.id, before.id]);
    expect((await homePage(reader)).data.map((p) => p.id)).toEqual([after.id, before.id]);
  });

  it('should switch an author crossing the threshold from push to pull without losing or repeating a post', async () => {
    const [reader, author] = [await createUser(), await createUser()];
    await addFollowers(author.id, FAN_OUT_PUSH_LIMIT - 1);
    await follow(reader, author);
    await homePage(reader);
    const before = await insertPost(author, { createdAt: Date.now() - HOUR });
    expect(await isPulled(author.id)).toBe(false);
    expect(await pushedTo(reader, [before.id])).toEqual([before.id]);

    // One more follower: the next post's fan-out marks the author pulled and lists them in the live
    // timelines of their audience, in the same transaction.
    await addFollowers(author.id, 1);
    const after = await insertPost(author, { createdAt: Date.now() });
    expect(await isPulled(author.id)).toBe(true);
    expect((await pullsOf(reader)).a).toEqual([[author.id, 0]]);
    expect(await pushedTo(reader, [before.id, after.id])).toEqual([before.id]);
    expect((await homePage(reader)).data.map((p) => p.id)).toEqual([after.id, before.id]);
    expect(await homeAll(reader, 1)).toEqual([after.id, before.id]);
  });
});
