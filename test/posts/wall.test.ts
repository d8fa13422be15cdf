import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { FIRST_PAGE, userPostsSql } from '../../src/modules/posts/posts.service';
import { call, createUser, expectProblem, expectStatus } from '../helpers/client';
import {
  block,
  collect,
  comment,
  createPostRaw,
  deleteComment,
  deletePost,
  getPost,
  ids,
  makeFriends,
  makePrivate,
  post,
  PUBLIC_USER_KEYS,
  follow,
  type TestUser,
  setWallPolicy,
  UNKNOWN_ID,
  unblock,
  userPosts,
  users,
  wall,
} from './helpers';

describe('Wall posts', () => {
  it("should let a friend post on a wall with the default policy, with target_user as a public user", async () => {
    const owner = await createUser({ display_name: 'Wall Owner' });
    const friend = await createUser();
    const me = await expectStatus(await call('/me', { token: owner.accessToken }), 200);
    expect(me.wall_policy).toBe('friends');
    await makeFriends(friend, owner);
    const created = await expectStatus(await createPostRaw(friend, { content: 'happy birthday!', target_user_id: owner.id }), 201);
    expect(created.author.id).toBe(friend.id);
    expect(created.target_user).toEqual({ id: owner.id, username: owner.username, display_name: 'Wall Owner', avatar_url: null, bio: expect.any(String), is_verified: false });
    expect(Object.keys(created.target_user).sort()).toEqual(PUBLIC_USER_KEYS);
    expect(created.target_user).not.toHaveProperty('email');
    const read = await expectStatus(await getPost(created.id), 200);
    expect(read.target_user.id).toBe(owner.id);
  });

  it('should refuse a non-friend with 403 under the default policy', async () => {
    const owner = await createUser();
    const stranger = await createUser();
    const follower = await createUser();
    await expectStatus(await call(`/users/${owner.id}/follow`, { method: 'POST', token: follower.accessToken }), 200);
    await expectProblem(await createPostRaw(stranger, { content: 'hi', target_user_id: owner.id }), 403);
    await expectProblem(await createPostRaw(follower, { content: 'hi', target_user_id: owner.id }), 403);
    expect(await ids(await wall(owner))).toEqual([]);
  });

  it("should let anyone post under 'everyone'", async () => {
    const owner = await createUser();
    const stranger = await createUser();
    await setWallPolicy(owner, 'everyone');
    const created = await post(stranger, { content: 'hello stranger', target_user_id: owner.id });
    expect(created.target_user.id).toBe(owner.id);
  });

  it("should refuse everyone, friends included, under 'nobody'", async () => {
    const owner = await createUser();
    const friend = await createUser();
    const stranger = await createUser();
    await makeFriends(owner, friend);
    await setWallPolicy(owner, 'nobody');
    await expectProblem(await createPostRaw(friend, { content: 'hi', target_user_id: owner.id }), 403);
    await expectProblem(await createPostRaw(stranger, { content: 'hi', target_user_id: owner.id }), 403);
    // The owner still posts on their own profile.
    const own = await post(owner, { content: 'mine', target_user_id: owner.id });
    expect(own.target_user).toBeNull();
  });

  it('should refuse a wall post once the friendship ends', async () => {
    const owner = await createUser();
    const friend = await createUser();
    await makeFriends(owner, friend);
    await post(friend, { content: 'while friends', target_user_id: owner.id });
    await expectStatus(await call(`/friends/${owner.id}`, { method: 'DELETE', token: friend.accessToken }), 204);
    await expectProblem(await createPostRaw(friend, { content: 'after', target_user_id: owner.id }), 403);
  });

  it('should answer 404 when a block stands between author and wall owner, in either direction, whatever the policy', async () => {
    const owner = await createUser();
    const blocked = await createUser();
    const blocker = await createUser();
    await setWallPolicy(owner, 'everyone');
    await block(owner, blocked);
    await block(blocker, owner);
    await expectProblem(await createPostRaw(blocked, { content: 'hi', target_user_id: owner.id }), 404);
    await expectProblem(await createPostRaw(blocker, { content: 'hi', target_user_id: owner.id }), 404);
  });

  it('should answer 404 for an unknown wall owner and 400 for a malformed id', async () => {
    const a = await createUser();
    await expectProblem(await createPostRaw(a, { content: 'hi', target_user_id: UNKNOWN_ID }), 404);
    await expectProblem(await createPostRaw(a, { content: 'hi', target_user_id: 'nobody' }), 400, 'target_user_id');
  });

  it('should let the wall owner delete a post on their wall, and nobody else but the author', async () => {
    const owner = await createUser();
    const author = await createUser();
    const third = await createUser();
    await setWallPolicy(owner, 'everyone');
    const p1 = await post(author, { content: 'one', target_user_id: owner.id });
    const p2 = await post(author, { content: 'two', target_user_id: owner.id });
    const thirdRes = await deletePost(third, p1.id);
    expect([403, 404]).toContain(thirdRes.status);
    await expectProblem(thirdRes, thirdRes.status);
    await expectStatus(await getPost(p1.id), 200);
    await expectStatus(await deletePost(owner, p1.id), 204);
    await expectProblem(await getPost(p1.id, author), 404);
    await expectStatus(await deletePost(author, p2.id), 204);
    await expectProblem(await getPost(p2.id, owner), 404);
  });

  it("should not let a wall owner delete the author's other posts", async () => {
    const owner = await createUser();
    const author = await createUser();
    const elsewhere = await post(author, 'on my own profile');
    await expectProblem(await deletePost(owner, elsewhere.id), 403);
  });
});

describe('Wall and user post lists', () => {
  it("should list the owner's own posts and posts on their wall, newest first, but not the owner's posts on other walls", async () => {
    const owner = await createUser();
    const friend = await createUser();
    const other = await createUser();
    await makeFriends(owner, friend);
    await setWallPolicy(other, 'everyone');
    const p1 = await post(owner, 'own 1');
    const w1 = await post(friend, { content: 'on owner wall', target_user_id: owner.id });
    const elsewhere = await post(owner, { content: "on other's wall", target_user_id: other.id });
    const p2 = await post(owner, 'own 2');
    const f1 = await post(friend, "friend's own post");
    expect(await ids(await wall(owner))).toEqual([p2.id, w1.id, p1.id]);
    expect(await ids(await wall(owner, owner))).toEqual([p2.id, w1.id, p1.id]);
    // Posts the owner authored, wherever they were written.
    expect(await ids(await userPosts(owner))).toEqual([p2.id, elsewhere.id, p1.id]);
    expect(await ids(await userPosts(friend))).toEqual([f1.id, w1.id]);
    expect(await ids(await wall(other))).toEqual([elsewhere.id]);
  });

  it('should accept a username as well as an id, and 404 an unknown user', async () => {
    const owner = await createUser();
    const p = await post(owner, 'by name');
    expect(await ids(await wall(owner.username))).toEqual([p.id]);
    expect(await ids(await userPosts(owner.username.toUpperCase()))).toEqual([p.id]);
    await expectProblem(await wall('no_such_user_here'), 404);
    await expectProblem(await userPosts(UNKNOWN_ID), 404);
  });

  it('should paginate the wall with cursors without gaps or repeats', async () => {
    const owner = await createUser();
    const friend = await createUser();
    await makeFriends(owner, friend);
    const created: string[] = [];
    for (let i = 0; i < 7; i++) {
      const author = i % 2 === 0 ? owner : friend;
      const p = await post(author, { content: `wall ${i}`, ...(author === friend ? { target_user_id: owner.id } : {}) });
      created.push(p.id);
    }
    const first = await expectStatus(await wall(owner, undefined, '?limit=3'), 200);
    expect(first.data).toHaveLength(3);
    expect(first.next_cursor).toEqual(expect.any(String));
    const all = await collect((q) => wall(owner, undefined, q), 3);
    expect(all.map((p) => p.id)).toEqual([...created].reverse());
    const posts = await collect((q) => userPosts(owner, undefined, q), 2);
    expect(posts.map((p) => p.id)).toEqual(created.filter((_, i) => i % 2 === 0).reverse());
  });

  it('should refuse a bad limit or cursor with 400', async () => {
    const owner = await createUser();
    await expectProblem(await wall(owner, undefined, '?limit=0'), 400, 'limit');
    await expectProblem(await wall(owner, undefined, '?limit=101'), 400, 'limit');
    await expectProblem(await userPosts(owner, undefined, '?cursor=garbage'), 400, 'cursor');
  });

  it('should mark liked_by_me per viewer in lists', async () => {
    const owner = await createUser();
    const fan = await createUser();
    const p = await post(owner, 'like me');
    await expectStatus(await call(`/posts/${p.id}/like`, { method: 'POST', token: fan.accessToken }), 200);
    const forFan = await expectStatus(await wall(owner, fan), 200);
    expect(forFan.data[0]).toMatchObject({ id: p.id, liked_by_me: true, like_count: 1 });
    const forOwner = await expectStatus(await userPosts(owner, owner), 200);
    expect(forOwner.data[0]).toMatchObject({ id: p.id, liked_by_me: false, like_count: 1 });
    const forAnon = await expectStatus(await wall(owner), 200);
    expect(forAnon.data[0]).toMatchObject({ id: p.id, liked_by_me: false, like_count: 1 });
  });

  it("should list the author's posts on the viewer's wall that the viewer may see (wall owner reads the author's list)", async () => {
    const owner = await createUser();
    const author = await createUser();
    await setWallPolicy(owner, 'everyone');
    const secret = await post(author, { content: 'private note on your wall', target_user_id: owner.id, visibility: 'private' });
    const friendsOnly = await post(author, { content: 'friends-only note on your wall', target_user_id: owner.id, visibility: 'friends' });
    // The owner may read both posts...
    await expectStatus(await getPost(secret.id, owner), 200);
    await expectStatus(await getPost(friendsOnly.id, owner), 200);
    expect(await ids(await wall(owner, owner))).toEqual([friendsOnly.id, secret.id]);
    // ...so the author's list shows them to the owner too, and to nobody else.
    expect(await ids(await userPosts(author, owner))).toEqual([friendsOnly.id, secret.id]);
    expect(await ids(await userPosts(author))).toEqual([]);
  });

  it("should list a private author's post on the viewer's wall to the wall owner, and nothing else of theirs", async () => {
    const owner = await createUser();
    const author = await createUser();
    await setWallPolicy(owner, 'everyone');
    await call('/me', { method: 'PATCH', token: author.accessToken, body: { visibility: 'private' } }).then((r) => expectStatus(r, 200));
    const onWall = await post(author, { content: 'note on your wall', target_user_id: owner.id });
    await post(author, 'private account, own profile');
    await expectStatus(await getPost(onWall.id, owner), 200);
    expect(await ids(await userPosts(author, owner))).toEqual([onWall.id]);
    expect(await ids(await wall(owner, owner))).toEqual([onWall.id]);
  });

  it("should read a user's posts through the author index also when the viewer's wall is included", async () => {
    const owner = await createUser();
    const viewer = await createUser();
    await post(owner, 'something to plan over');
    for (const levels of [[], ['public'], ['public', 'friends']]) {
      const { results } = await env.DB.prepare(`EXPLAIN QUERY PLAN ${userPostsSql(levels.length, true)}`)
        .bind(owner.id, ...FIRST_PAGE, 21, ...levels, viewer.id)
        .all<{ detail: string }>();
      const lines = results.map((r) => r.detail);
      expect(lines.some((l) => l.includes('posts_author_created_idx')), lines.join('\n')).toBe(true);
      expect(lines.filter((l) => /^SCAN posts\b/.test(l.trim())), lines.join('\n')).toEqual([]);
    }
  });
});

describe('Private walls', () => {
  it("should show posts others wrote on a private account's wall only to its approved followers and friends", async () => {
    const [owner, writer, follower, stranger] = (await users(4)) as [TestUser, TestUser, TestUser, TestUser];
    await setWallPolicy(owner, 'everyone');
    await follow(follower, owner);
    await makePrivate(owner);
    // The writer's account is public and the post is public: only the wall makes it private.
    const onWall = await post(writer, { content: 'hello on a private wall', target_user_id: owner.id });

    const idsOf = async (res: Response) => (await expectStatus(res, 200)).data.map((p: { id: string }) => p.id);
    expect(await idsOf(await wall(owner, owner))).toContain(onWall.id);
    expect(await idsOf(await wall(owner, follower))).toContain(onWall.id);
    expect(await idsOf(await wall(owner, stranger))).not.toContain(onWall.id);
    expect(await idsOf(await wall(owner))).not.toContain(onWall.id);
    await expectStatus(await getPost(onWall.id, stranger), 404);
    await expectStatus(await getPost(onWall.id), 404);
    await expectStatus(await getPost(onWall.id, follower), 200);
    // The writer always sees their own post.
    await expectStatus(await getPost(onWall.id, writer), 200);
  });
});

describe('Wall posts and blocks between the author and the wall owner', () => {
  it('should hide a wall post from everyone else once either of the two blocks the other, on the wall, the post, the author\'s list and search', async () => {
    const [owner, writer, friend, stranger, otherOwner, otherWriter] = (await users(6)) as [TestUser, TestUser, TestUser, TestUser, TestUser, TestUser];
    const word = `wallblock${Date.now().toString(36)}`;
    for (const u of [owner, otherOwner]) await setWallPolicy(u, 'everyone');
    await makeFriends(owner, friend);
    const onWall = await post(writer, { content: `${word} left on the wall`, target_user_id: owner.id });
    const onOther = await post(otherWriter, { content: `${word} on the other wall`, target_user_id: otherOwner.id });
    const seen = async (res: Response) => (await expectStatus(res, 200)).data.map((p: { id: string }) => p.id);
    expect(await seen(await wall(owner, stranger))).toContain(onWall.id);
    expect(await seen(await call(`/search?type=posts&q=${word}`, { token: stranger.accessToken }))).toEqual(expect.arrayContaining([onWall.id, onOther.id]));

    // The wall owner blocks the writer; the other writer blocks the other wall's owner.
    await block(owner, writer);
    await block(otherWriter, otherOwner);
    for (const [post, wallOwner, author] of [[onWall, owner, writer], [onOther, otherOwner, otherWriter]] as const) {
      for (const viewer of [friend, stranger, undefined]) {
        expect(await seen(await wall(wallOwner, viewer))).not.toContain(post.id);
        expect(await seen(await userPosts(author, viewer))).not.toContain(post.id);
        await expectProblem(await getPost(post.id, viewer), 404);
        if (viewer) expect(await seen(await call(`/search?type=posts&q=${word}`, { token: viewer.accessToken }))).not.toContain(post.id);
      }
    }
    // Unblocked, it is back.
    await unblock(owner, writer);
    expect(await seen(await wall(owner, stranger))).toContain(onWall.id);
    await expectStatus(await getPost(onWall.id), 200);
  });

  it('should let the wall owner find and delete a post on their wall hidden by a block, either way, without seeing it', async () => {
    const [owner, writer, blocker, friend, third] = (await users(5)) as [TestUser, TestUser, TestUser, TestUser, TestUser];
    await setWallPolicy(owner, 'everyone');
    await makeFriends(owner, friend);
    const older = await post(blocker, { content: 'the blocker wrote this first', target_user_id: owner.id });
    const onWall = await post(writer, { content: 'left on the wall', target_user_id: owner.id });
    const visible = await post(friend, { content: 'a friend on the wall', target_user_id: owner.id });
    const underneath = await comment(friend, onWall.id, 'a comment under it');
    const hidden = () => call('/me/wall/hidden', { token: owner.accessToken });
    expect(await expectStatus(await hidden(), 200)).toEqual({ data: [], next_cursor: null });
    // The owner blocks one writer; the other blocks the owner.
    await block(owner, writer);
    await block(blocker, owner);
    await expectProblem(await getPost(onWall.id, owner), 404);
    await expectProblem(await getPost(older.id, owner), 404);
    // The owner's list names the post of the one they blocked, and nothing else of it: no author, no
    // content. Not the one whose author blocked them: that would tell them who did.
    const page = await expectStatus(await hidden(), 200);
    expect(page.data.map((p: { id: string }) => p.id)).toEqual([onWall.id]);
    for (const item of page.data) expect(Object.keys(item).sort()).toEqual(['created_at', 'id']);
    expect(page.data[0].created_at).toBe(onWall.created_at);
    const [latecomer] = (await users(1)) as [TestUser];
    const later = await post(latecomer, { content: 'written before the next block', target_user_id: owner.id });
    await block(owner, latecomer);
    const paged = await collect((query) => call(`/me/wall/hidden${query}`, { token: owner.accessToken }), 1);
    expect(paged.map((p: { id: string }) => p.id)).toEqual([later.id, onWall.id]);
    expect((await deletePost(owner, later.id)).status).toBe(204);
    // Nobody else lists another's wall; anonymous callers are refused.
    expect((await expectStatus(await call('/me/wall/hidden', { token: writer.accessToken }), 200)).data).toEqual([]);
    await expectProblem(await call('/me/wall/hidden'), 401);
    await expectProblem(await call('/me/wall/hidden?limit=0', { token: owner.accessToken }), 400, 'limit');

    // A comment under the hidden post, and the post itself: 204 with no body for the owner.
    const gone = await deleteComment(owner, underneath.id);
    expect(gone.status).toBe(204);
    expect(await gone.text()).toBe('');
    // Someone else who cannot see it still gets 404, whether or not it exists.
    await expectProblem(await deletePost(third, onWall.id), 404);
    for (const hiddenPost of [onWall, older]) {
      const res = await deletePost(owner, hiddenPost.id);
      expect(res.status).toBe(204);
      expect(await res.text()).toBe('');
    }
    expect(await expectStatus(await hidden(), 200)).toEqual({ data: [], next_cursor: null });
    // Unblocked, nothing comes back; the post nobody blocked over is untouched.
    await unblock(owner, writer);
    await unblock(blocker, owner);
    for (const viewer of [owner, writer, friend]) await expectProblem(await getPost(onWall.id, viewer), 404);
    await expectProblem(await getPost(older.id, blocker), 404);
    await expectStatus(await getPost(visible.id, third), 200);
  });
});
