import { describe, expect, it } from 'vitest';
import { createUser, expectStatus } from '../helpers/client';
import { follow, like, likers, makeFriends, makePrivate, post } from './helpers';

const likerIds = async (postId: string, viewer?: Parameters<typeof likers>[1]) =>
  (await expectStatus(await likers(postId, viewer), 200)).data.map((u: { id: string }) => u.id);

/** A private account's likes were listed to anyone reading a public post's likers: its activity, mined by strangers. */
describe("Likers list and private accounts", () => {
  it("should show a private account's like to itself, the post's author and its followers and friends only", async () => {
    const [author, shy, open, follower, friend, stranger] = [await createUser(), await createUser(), await createUser(), await createUser(), await createUser(), await createUser()];
    await makePrivate(shy);
    await follow(follower, shy);
    await makeFriends(friend, shy);
    const p = await post(author, 'public words');
    await expectStatus(await like(shy, p.id), 200);
    await expectStatus(await like(open, p.id), 200);
    expect(await likerIds(p.id)).toEqual([open.id]);
    expect(await likerIds(p.id, stranger)).toEqual([open.id]);
    for (const viewer of [shy, author, follower, friend]) expect((await likerIds(p.id, viewer)).sort()).toEqual([shy.id, open.id].sort());
    // The count still counts every like.
    expect((await expectStatus(await like(open, p.id), 200)).like_count).toBe(2);
  });
});
