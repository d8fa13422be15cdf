import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { call, createUser, expectProblem, expectStatus, type TestUser } from '../helpers/client';
import {
  block,
  commentRaw,
  follow,
  getPost,
  ids,
  likers,
  listComments,
  makeFriends,
  makePrivate,
  post,
  requestFollow,
  setWallPolicy,
  unfriend,
  userPosts,
  wall,
} from './helpers';

type Level = 'public' | 'friends' | 'private';
const LEVELS: Level[] = ['public', 'friends', 'private'];

/**
 * Asserts exactly which of `posts` (by level) the viewer reaches on every read path and action.
 * `profileVisible` is false when a block stands between viewer and owner (list routes answer 404).
 */
async function assertViewerSees(
  owner: TestUser,
  posts: Record<Level, any>,
  viewer: TestUser | undefined,
  expected: Level[],
  profileVisible = true,
): Promise<void> {
  const who = viewer ? viewer.username : 'anonymous';
  // Lists, newest first: private was created last.
  const expectedIds = [...expected].sort((x, y) => LEVELS.indexOf(y) - LEVELS.indexOf(x)).map((l) => posts[l].id);
  if (profileVisible) {
    expect(await ids(await userPosts(owner, viewer)), `${who} /users/{id}/posts`).toEqual(expectedIds);
    expect(await ids(await wall(owner, viewer)), `${who} /users/{id}/wall`).toEqual(expectedIds);
    // Also by username.
    expect(await ids(await userPosts(owner.username, viewer)), `${who} /users/{username}/posts`).toEqual(expectedIds);
  } else {
    await expectProblem(await userPosts(owner, viewer), 404);
    await expectProblem(await wall(owner, viewer), 404);
  }
  for (const level of LEVELS) {
    const id = posts[level].id;
    const visible = expected.includes(level);
    const what = `${who} on ${level}`;
    const single = await getPost(id, viewer);
    expect(single.status, `${what}: GET /posts/{id}`).toBe(visible ? 200 : 404);
    if (visible) expect((await single.json<any>()).id).toBe(id);
    else await expectProblem(single, 404);

    const comments = await listComments(id, viewer);
    expect(comments.status, `${what}: GET comments`).toBe(visible ? 200 : 404);
    await comments.text();
    const likes = await likers(id, viewer);
    expect(likes.status, `${what}: GET likes`).toBe(visible ? 200 : 404);
    await likes.text();

    if (viewer) {
      const liked = await call(`/posts/${id}/like`, { method: 'POST', token: viewer.accessToken });
      expect(liked.status, `${what}: POST like`).toBe(visible ? 200 : 404);
      if (visible) expect(await liked.json()).toMatchObject({ liked: true });
      else await expectProblem(liked, 404);
      const unliked = await call(`/posts/${id}/like`, { method: 'DELETE', token: viewer.accessToken });
      expect(unliked.status, `${what}: DELETE like`).toBe(visible ? 200 : 404);
      await unliked.text();
      const commented = await commentRaw(viewer, id, { content: `hi from ${who}` });
      expect(commented.status, `${what}: POST comment`).toBe(visible ? 201 : 404);
      await commented.text();
    } else {
      await expectProblem(await call(`/posts/${id}/like`, { method: 'POST' }), 401);
      await expectProblem(await call(`/posts/${id}/comments`, { body: { content: 'anon' } }), 401);
    }
  }
}

async function threePosts(owner: TestUser): Promise<Record<Level, any>> {
  const out = {} as Record<Level, any>;
  for (const visibility of LEVELS) out[visibility] = await post(owner, { content: `${visibility} post`, visibility });
  return out;
}

describe('Post visibility matrix (public account)', () => {
  let a: TestUser;
  let posts: Record<Level, any>;
  const v = {} as Record<'stranger' | 'follower' | 'friend' | 'blocked' | 'blocker' | 'followerFriend', TestUser>;

  beforeAll(async () => {
    a = await createUser({ username: undefined });
    for (const k of ['stranger', 'follower', 'friend', 'blocked', 'blocker', 'followerFriend'] as const) v[k] = await createUser();
    await follow(v.follower, a);
    await makeFriends(a, v.friend);
    await follow(v.followerFriend, a);
    await makeFriends(v.followerFriend, a);
    // The blocked user and the blocker both followed and befriended A before the block; the block undoes it.
    await follow(v.blocked, a);
    await makeFriends(v.blocked, a);
    await block(a, v.blocked);
    await follow(v.blocker, a);
    await makeFriends(a, v.blocker);
    await block(v.blocker, a);
    posts = await threePosts(a);
  });

  it('should show the author everything', async () => {
    await assertViewerSees(a, posts, a, ['public', 'friends', 'private']);
  });

  it('should show anonymous callers public posts only', async () => {
    await assertViewerSees(a, posts, undefined, ['public']);
  });

  it('should show a stranger public posts only', async () => {
    await assertViewerSees(a, posts, v.stranger, ['public']);
  });

  it('should show a follower public posts only (following is not friendship)', async () => {
    await assertViewerSees(a, posts, v.follower, ['public']);
  });

  it('should show a friend public and friends posts, never private ones', async () => {
    await assertViewerSees(a, posts, v.friend, ['public', 'friends']);
    await assertViewerSees(a, posts, v.followerFriend, ['public', 'friends']);
  });

  it('should hide everything from a user the author blocks', async () => {
    await assertViewerSees(a, posts, v.blocked, [], false);
  });

  it('should hide everything from a user who blocks the author', async () => {
    await assertViewerSees(a, posts, v.blocker, [], false);
  });

  it('should have recorded likes and comments only from permitted viewers', async () => {
    // Every permitted authenticated viewer left exactly one comment per visible post and no like.
    const allowed = { public: [a, v.stranger, v.follower, v.friend, v.followerFriend], friends: [a, v.friend, v.followerFriend], private: [a] };
    for (const level of LEVELS) {
      const authors = await env.DB.prepare('SELECT author_id FROM comments WHERE post_id = ?1').bind(posts[level].id).all<{ author_id: string }>();
      expect(authors.results.map((r) => r.author_id).sort(), level).toEqual(allowed[level].map((u) => u.id).sort());
      const { like_count } = await expectStatus(await getPost(posts[level].id, a), 200);
      expect(like_count).toBe(0);
    }
  });
});

describe('Post visibility after relationships change', () => {
  it('should take friends posts away when the friendship ends', async () => {
    const a = await createUser();
    const r = await createUser();
    await makeFriends(a, r);
    const friendsOnly = await post(a, { content: 'friends only', visibility: 'friends' });
    await expectStatus(await getPost(friendsOnly.id, r), 200);
    await unfriend(r, a);
    await expectProblem(await getPost(friendsOnly.id, r), 404);
    expect(await ids(await userPosts(a, r))).toEqual([]);
  });

  it('should hide existing posts as soon as a block is placed, in both directions', async () => {
    const a = await createUser();
    const b = await createUser();
    const p = await post(a, 'public before the block');
    const q = await post(b, 'public, by the other side');
    await expectStatus(await getPost(p.id, b), 200);
    await block(b, a);
    await expectProblem(await getPost(p.id, b), 404);
    await expectProblem(await getPost(q.id, a), 404);
    // Still visible to everyone else.
    await expectStatus(await getPost(p.id), 200);
    await expectStatus(await getPost(q.id), 200);
  });

  it('should keep a muted author visible on direct reads (muting only affects feeds)', async () => {
    const a = await createUser();
    const m = await createUser();
    const p = await post(a, 'muted but readable');
    await expectStatus(await call(`/users/${a.id}/mute`, { method: 'POST', token: m.accessToken }), 200);
    await expectStatus(await getPost(p.id, m), 200);
    expect(await ids(await userPosts(a, m))).toEqual([p.id]);
    expect(await ids(await wall(a, m))).toEqual([p.id]);
    await expectStatus(await call(`/posts/${p.id}/like`, { method: 'POST', token: m.accessToken }), 200);
  });

  it('should show posts again after an unblock', async () => {
    const a = await createUser();
    const b = await createUser();
    const p = await post(a, 'visible again later');
    await block(a, b);
    await expectProblem(await getPost(p.id, b), 404);
    await expectStatus(await call(`/users/${b.id}/block`, { method: 'DELETE', token: a.accessToken }), 204);
    await expectStatus(await getPost(p.id, b), 200);
    expect(await ids(await userPosts(a, b))).toEqual([p.id]);
  });

  it('should change what others see when the author edits the visibility', async () => {
    const a = await createUser();
    const s = await createUser();
    const p = await post(a, { content: 'soon private', visibility: 'public' });
    await expectStatus(await getPost(p.id, s), 200);
    await expectStatus(await call(`/posts/${p.id}`, { method: 'PATCH', token: a.accessToken, body: { visibility: 'private' } }), 200);
    await expectProblem(await getPost(p.id, s), 404);
    await expectProblem(await getPost(p.id), 404);
    await expectStatus(await getPost(p.id, a), 200);
  });
});

describe('Post visibility matrix (private account)', () => {
  let pa: TestUser;
  let posts: Record<Level, any>;
  const v = {} as Record<'stranger' | 'pending' | 'follower' | 'friend' | 'rejected', TestUser>;

  beforeAll(async () => {
    pa = await createUser();
    for (const k of ['stranger', 'pending', 'follower', 'friend', 'rejected'] as const) v[k] = await createUser();
    await makePrivate(pa);
    await requestFollow(v.pending, pa);
    await follow(v.follower, pa); // accepted by pa
    await makeFriends(v.friend, pa);
    await requestFollow(v.rejected, pa);
    await expectStatus(await call(`/follow_requests/${v.rejected.id}/reject`, { method: 'POST', token: pa.accessToken }), 200);
    posts = await threePosts(pa);
  });

  it('should show the owner everything', async () => {
    await assertViewerSees(pa, posts, pa, ['public', 'friends', 'private']);
  });

  it('should show anonymous callers nothing', async () => {
    await assertViewerSees(pa, posts, undefined, []);
  });

  it('should show a stranger nothing', async () => {
    await assertViewerSees(pa, posts, v.stranger, []);
  });

  it('should show a pending or rejected follower nothing', async () => {
    await assertViewerSees(pa, posts, v.pending, []);
    await assertViewerSees(pa, posts, v.rejected, []);
  });

  it('should show an approved follower the public posts', async () => {
    await assertViewerSees(pa, posts, v.follower, ['public']);
  });

  it('should show a friend the public and friends posts', async () => {
    await assertViewerSees(pa, posts, v.friend, ['public', 'friends']);
  });

  it('should open public posts to everyone once the account is public again', async () => {
    const owner = await createUser();
    const s = await createUser();
    await makePrivate(owner);
    const p = await post(owner, 'hidden while private');
    await expectProblem(await getPost(p.id, s), 404);
    await expectProblem(await getPost(p.id), 404);
    await expectStatus(await call('/me', { method: 'PATCH', token: owner.accessToken, body: { visibility: 'public' } }), 200);
    await expectStatus(await getPost(p.id, s), 200);
    await expectStatus(await getPost(p.id), 200);
  });
});

describe('Wall post visibility', () => {
  let owner: TestUser;
  let author: TestUser;
  let wallPost: any;
  let authorOwn: any;
  const v = {} as Record<'stranger' | 'blockedByOwner' | 'blocksOwner' | 'blockedByAuthor' | 'ownerFriend', TestUser>;

  beforeAll(async () => {
    owner = await createUser();
    author = await createUser();
    for (const k of ['stranger', 'blockedByOwner', 'blocksOwner', 'blockedByAuthor', 'ownerFriend'] as const) v[k] = await createUser();
    await makeFriends(author, owner);
    await makeFriends(v.ownerFriend, owner);
    await block(owner, v.blockedByOwner);
    await block(v.blocksOwner, owner);
    await block(author, v.blockedByAuthor);
    authorOwn = await post(author, 'on my own profile');
    wallPost = await post(author, { content: 'hello on your wall', target_user_id: owner.id });
    expect(wallPost.target_user.id).toBe(owner.id);
  });

  it('should show a public wall post to unrelated viewers everywhere', async () => {
    for (const viewer of [undefined, v.stranger, v.ownerFriend]) {
      await expectStatus(await getPost(wallPost.id, viewer), 200);
      expect(await ids(await wall(owner, viewer))).toEqual([wallPost.id]);
      expect(await ids(await userPosts(author, viewer))).toEqual([wallPost.id, authorOwn.id]);
    }
  });

  it('should hide it from someone the wall owner blocks, even though the author does not', async () => {
    const viewer = v.blockedByOwner;
    await expectProblem(await getPost(wallPost.id, viewer), 404);
    await expectProblem(await wall(owner, viewer), 404);
    // The author's own list still answers, but without the post on the owner's wall.
    expect(await ids(await userPosts(author, viewer))).toEqual([authorOwn.id]);
    await expectProblem(await listComments(wallPost.id, viewer), 404);
    await expectProblem(await likers(wallPost.id, viewer), 404);
    await expectProblem(await call(`/posts/${wallPost.id}/like`, { method: 'POST', token: viewer.accessToken }), 404);
    await expectProblem(await commentRaw(viewer, wallPost.id, { content: 'sneaking in' }), 404);
  });

  it('should hide it from someone who blocks the wall owner', async () => {
    const viewer = v.blocksOwner;
    await expectProblem(await getPost(wallPost.id, viewer), 404);
    await expectProblem(await wall(owner, viewer), 404);
    expect(await ids(await userPosts(author, viewer))).toEqual([authorOwn.id]);
    await expectProblem(await call(`/posts/${wallPost.id}/like`, { method: 'POST', token: viewer.accessToken }), 404);
    await expectProblem(await commentRaw(viewer, wallPost.id, { content: 'sneaking in' }), 404);
  });

  it("should hide it from someone the author blocks, also on the owner's wall", async () => {
    const viewer = v.blockedByAuthor;
    await expectProblem(await getPost(wallPost.id, viewer), 404);
    expect(await ids(await wall(owner, viewer))).toEqual([]);
    await expectProblem(await userPosts(author, viewer), 404);
    await expectProblem(await call(`/posts/${wallPost.id}/like`, { method: 'POST', token: viewer.accessToken }), 404);
  });

  it('should let the wall owner see a private post on their wall, and nobody else but the author', async () => {
    const secret = await post(author, { content: 'just for you', target_user_id: owner.id, visibility: 'private' });
    await expectStatus(await getPost(secret.id, owner), 200);
    await expectStatus(await getPost(secret.id, author), 200);
    for (const viewer of [undefined, v.stranger, v.ownerFriend]) await expectProblem(await getPost(secret.id, viewer), 404);
    expect(await ids(await wall(owner, owner))).toEqual([secret.id, wallPost.id]);
    expect(await ids(await wall(owner, v.ownerFriend))).toEqual([wallPost.id]);
    // The owner may like and comment on it.
    await expectStatus(await call(`/posts/${secret.id}/like`, { method: 'POST', token: owner.accessToken }), 200);
    await expectStatus(await commentRaw(owner, secret.id, { content: 'thanks' }), 201);
  });

  it("should show a friends-only wall post to the author's friends, not the owner's other friends", async () => {
    const friendsOnly = await post(author, { content: 'friends of the author', target_user_id: owner.id, visibility: 'friends' });
    await expectStatus(await getPost(friendsOnly.id, owner), 200); // owner is the author's friend and the wall owner
    await expectProblem(await getPost(friendsOnly.id, v.ownerFriend), 404);
    await expectProblem(await getPost(friendsOnly.id, v.stranger), 404);
  });
});

describe('Wall of a private account', () => {
  it("should show strangers none of a private owner's own posts on the wall", async () => {
    const owner = await createUser();
    const friend = await createUser();
    const stranger = await createUser();
    await makeFriends(owner, friend);
    await makePrivate(owner);
    const own = await post(owner, 'private account, public post');
    expect(await ids(await wall(owner, stranger))).toEqual([]);
    expect(await ids(await wall(owner))).toEqual([]);
    expect(await ids(await wall(owner, friend))).toEqual([own.id]);
  });

  it('should refuse wall posts by non-friends of a private account with the default policy', async () => {
    const owner = await createUser();
    const stranger = await createUser();
    await makePrivate(owner);
    await setWallPolicy(owner, 'friends');
    await expectProblem(await call('/posts', { token: stranger.accessToken, body: { content: 'hi', target_user_id: owner.id } }), 403);
  });
});
