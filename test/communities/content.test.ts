import { describe, expect, it } from 'vitest';
import { call, createUser, expectProblem, expectStatus, type TestUser } from '../helpers/client';
import { discoverAll, homeAll, homePage } from '../feeds/helpers';
import {
  befriend,
  block,
  expectEnvelope,
  expectNone,
  expectPublicUser,
  follow,
  quiet,
  waitForNotification,
} from '../notifications/helpers';
import {
  addMember,
  createCommunity,
  createPost,
  getCommunity,
  join,
  leaveRaw,
  patchCommunityRaw,
  removeMemberRaw,
  setRoleRaw,
  UNKNOWN_ID,
  users,
} from './helpers';

// ---------------------------------------------------------------- local helpers

type Viewer = TestUser | null;

const tokenOf = (viewer: Viewer) => viewer?.accessToken;
const nameOf = (viewer: Viewer) => (viewer ? viewer.username : 'anonymous');

/** Strict creation order for posts ordered by millisecond timestamps. */
const tick = (ms = 5) => new Promise((resolve) => setTimeout(resolve, ms));

const postRaw = (author: TestUser, body: unknown) => call('/posts', { token: author.accessToken, body });
const getPostRaw = (viewer: Viewer, id: string) => call(`/posts/${id}`, { token: tokenOf(viewer) });
const patchPostRaw = (author: TestUser, id: string, body: unknown) => call(`/posts/${id}`, { method: 'PATCH', token: author.accessToken, body });
const deletePostRaw = (user: TestUser, id: string) => call(`/posts/${id}`, { method: 'DELETE', token: user.accessToken });
const communityPostsRaw = (viewer: Viewer, communityId: string, query = 'limit=100') => call(`/communities/${communityId}/posts?${query}`, { token: tokenOf(viewer) });
const commentsRaw = (viewer: Viewer, postId: string) => call(`/posts/${postId}/comments?limit=100`, { token: tokenOf(viewer) });
const likersRaw = (viewer: Viewer, postId: string) => call(`/posts/${postId}/likes?limit=100`, { token: tokenOf(viewer) });
const likeRaw = (user: TestUser, postId: string) => call(`/posts/${postId}/like`, { method: 'POST', token: user.accessToken });
const commentRaw = (user: TestUser, postId: string, content: string) => call(`/posts/${postId}/comments`, { token: user.accessToken, body: { content } });
const deleteCommentRaw = (user: TestUser, commentId: string) => call(`/comments/${commentId}`, { method: 'DELETE', token: user.accessToken });

/** A plain (non-community) post. */
const plainPost = (author: TestUser, content: string) => createPost(author, { content });
/** A post in a community. */
const communityPost = (author: TestUser, communityId: string, content: string) => createPost(author, { content, community_id: communityId });

async function comment(user: TestUser, postId: string, content: string): Promise<any> {
  return expectStatus(await commentRaw(user, postId, content), 201);
}

async function like(user: TestUser, postId: string): Promise<any> {
  return expectStatus(await likeRaw(user, postId), 200);
}

async function communityPostIds(viewer: Viewer, communityId: string): Promise<string[]> {
  const body = await expectStatus(await communityPostsRaw(viewer, communityId), 200);
  return body.data.map((p: any) => p.id);
}

async function userPostIds(viewer: Viewer, authorId: string): Promise<string[]> {
  const body = await expectStatus(await call(`/users/${authorId}/posts?limit=100`, { token: tokenOf(viewer) }), 200);
  return body.data.map((p: any) => p.id);
}

async function commentIds(viewer: Viewer, postId: string): Promise<string[]> {
  const body = await expectStatus(await commentsRaw(viewer, postId), 200);
  return body.data.map((c: any) => c.id);
}

async function likerIds(viewer: Viewer, postId: string): Promise<string[]> {
  const body = await expectStatus(await likersRaw(viewer, postId), 200);
  return body.data.map((u: any) => u.id);
}

const discoverIds = (viewer: Viewer) => discoverAll(viewer, { limit: 100 });

/** Newest first as the feeds order: created_at DESC, then id DESC. */
function newestFirst(posts: any[]): string[] {
  return [...posts]
    .sort((a, b) => Date.parse(b.created_at) - Date.parse(a.created_at) || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
    .map((p) => p.id);
}

interface Target {
  post: any;
  communityId: string;
  authorId: string;
  /** A comment already on the post, and a user who already liked it. */
  commentId: string;
  likerId: string;
}

/**
 * Asserts that `viewer` sees the community post on every read path (list, single read, author's posts,
 * comments, likers, discover, and home when `inHome`), and, when logged in, may like and comment on it.
 */
async function expectVisibleEverywhere(viewer: Viewer, t: Target, options: { inHome?: boolean; write?: boolean } = {}): Promise<void> {
  const who = nameOf(viewer);
  expect(await communityPostIds(viewer, t.communityId), `${who}: GET /communities/{id}/posts`).toContain(t.post.id);
  const single = await expectStatus(await getPostRaw(viewer, t.post.id), 200);
  expect(single).toMatchObject({ id: t.post.id, community_id: t.communityId });
  expect(await userPostIds(viewer, t.authorId), `${who}: GET /users/{author}/posts`).toContain(t.post.id);
  expect(await commentIds(viewer, t.post.id), `${who}: GET /posts/{id}/comments`).toContain(t.commentId);
  expect(await likerIds(viewer, t.post.id), `${who}: GET /posts/{id}/likes`).toContain(t.likerId);
  expect(await discoverIds(viewer), `${who}: GET /feed/discover`).toContain(t.post.id);
  if (viewer && options.inHome) expect(await homeAll(viewer), `${who}: GET /feed/home`).toContain(t.post.id);
  if (viewer && options.write !== false) {
    expect((await like(viewer, t.post.id)).liked, `${who}: POST like`).toBe(true);
    const made = await comment(viewer, t.post.id, `a comment by ${who}`);
    expect(made.post_id).toBe(t.post.id);
  }
}

/**
 * Asserts that `viewer` cannot see the (private community's) post on any read path: the list is 403,
 * the post and everything under it 404, and it is left out of the author's posts and both feeds.
 */
async function expectHiddenEverywhere(viewer: Viewer, t: Target): Promise<void> {
  const who = nameOf(viewer);
  const list = await communityPostsRaw(viewer, t.communityId);
  expect(list.status, `${who}: GET /communities/{id}/posts`).toBe(403);
  await expectProblem(list, 403);
  const single = await getPostRaw(viewer, t.post.id);
  expect(single.status, `${who}: GET /posts/{id}`).toBe(404);
  await expectProblem(single, 404);
  expect(await userPostIds(viewer, t.authorId), `${who}: GET /users/{author}/posts`).not.toContain(t.post.id);
  expect(await discoverIds(viewer), `${who}: GET /feed/discover`).not.toContain(t.post.id);
  const comments = await commentsRaw(viewer, t.post.id);
  expect(comments.status, `${who}: GET /posts/{id}/comments`).toBe(404);
  await expectProblem(comments, 404);
  const likers = await likersRaw(viewer, t.post.id);
  expect(likers.status, `${who}: GET /posts/{id}/likes`).toBe(404);
  await expectProblem(likers, 404);
  if (viewer) {
    expect(await homeAll(viewer), `${who}: GET /feed/home`).not.toContain(t.post.id);
    const liked = await likeRaw(viewer, t.post.id);
    expect(liked.status, `${who}: POST /posts/{id}/like`).toBe(404);
    await expectProblem(liked, 404);
    const commented = await commentRaw(viewer, t.post.id, 'let me in');
    expect(commented.status, `${who}: POST /posts/{id}/comments`).toBe(404);
    await expectProblem(commented, 404);
  }
}

/** A community with a post by `author` (a member), commented on and liked by the owner. */
async function communityWithPost(body: Record<string, unknown>) {
  const [owner, author] = await users(2);
  const community = await createCommunity(owner, body);
  await addMember(owner, community.id, author);
  const post = await communityPost(author, community.id, 'inside the community');
  const c = await comment(owner, post.id, 'the owner comments');
  await like(owner, post.id);
  const target: Target = { post, communityId: community.id, authorId: author.id, commentId: c.id, likerId: owner.id };
  return { owner, author, community, post, target };
}

// ---------------------------------------------------------------- posting

describe('Community posts: creating', () => {
  it('should create a post in a community for its owner and members, with community_id set', async () => {
    const [owner, member] = await users(2);
    const community = await createCommunity(owner);
    await join(member, community.id);

    const byOwner = await communityPost(owner, community.id, 'welcome everyone');
    const byMember = await communityPost(member, community.id, 'glad to be here');
    expect(byOwner).toMatchObject({ community_id: community.id, author: { id: owner.id }, visibility: 'public', target_user: null });
    expect(byMember).toMatchObject({ community_id: community.id, author: { id: member.id }, content: 'glad to be here', visibility: 'public' });
    // An explicit "public" is what a community post is anyway.
    const explicit = await createPost(member, { content: 'explicitly public', community_id: community.id, visibility: 'public' });
    expect(explicit.community_id).toBe(community.id);

    // A plain post keeps community_id null and stays out of the community's list.
    const plain = await plainPost(member, 'not in the community');
    expect(plain.community_id).toBeNull();
    const listed = await communityPostIds(owner, community.id);
    expect(listed).toEqual(expect.arrayContaining([byOwner.id, byMember.id, explicit.id]));
    expect(listed).not.toContain(plain.id);
    expect((await expectStatus(await getPostRaw(member, byOwner.id), 200)).community_id).toBe(community.id);
  });

  it('should refuse a post from a non-member, a pending applicant and a former member with 403', async () => {
    const [owner, stranger, applicant, former] = await users(4);
    const community = await createCommunity(owner, { join_policy: 'approval' });
    expect(await join(applicant, community.id)).toBe('pending');
    await addMember(owner, community.id, former);
    // The former member could post while a member.
    await communityPost(former, community.id, 'while a member');
    await expectStatus(await leaveRaw(former, community.id), 204);

    for (const user of [stranger, applicant, former]) {
      const res = await postRaw(user, { content: `by ${user.username}`, community_id: community.id });
      expect(res.status, user.username).toBe(403);
      await expectProblem(res, 403);
    }
    const listed = await expectStatus(await communityPostsRaw(owner, community.id), 200);
    expect(listed.data.map((p: any) => p.author.id)).toEqual([former.id]);
  });

  it('should answer 404 for a post in a community that does not exist', async () => {
    const user = await createUser();
    await expectProblem(await postRaw(user, { content: 'into the void', community_id: UNKNOWN_ID }), 404);
  });

  it('should refuse community_id together with target_user_id with 400 naming community_id', async () => {
    const [owner, friend] = await users(2);
    await befriend(owner, friend);
    const community = await createCommunity(owner);
    await join(friend, community.id);
    // Each on its own is fine: a wall post on a friend's wall, a community post.
    await createPost(owner, { content: 'on your wall', target_user_id: friend.id });
    await communityPost(owner, community.id, 'in the community');
    await expectProblem(await postRaw(owner, { content: 'both', community_id: community.id, target_user_id: friend.id }), 400, 'community_id');
  });

  it('should refuse visibility friends or private on a community post with 400 naming visibility, on create and on edit', async () => {
    const [owner, member, stranger] = await users(3);
    const community = await createCommunity(owner);
    await join(member, community.id);
    for (const visibility of ['friends', 'private']) {
      await expectProblem(await postRaw(member, { content: `as ${visibility}`, community_id: community.id, visibility }), 400, 'visibility');
    }
    expect(await communityPostIds(owner, community.id)).toEqual([]);

    const post = await communityPost(member, community.id, 'first version');
    for (const visibility of ['friends', 'private']) {
      await expectProblem(await patchPostRaw(member, post.id, { visibility }), 400, 'visibility');
      await expectProblem(await patchPostRaw(member, post.id, { content: 'sneaky', visibility }), 400, 'visibility');
    }
    // Nothing changed: the post is still public to a stranger, with its first content.
    const seen = await expectStatus(await getPostRaw(stranger, post.id), 200);
    expect(seen).toMatchObject({ visibility: 'public', content: 'first version', edited_at: null });

    // Editing the content (or an explicit public) is allowed.
    const edited = await expectStatus(await patchPostRaw(member, post.id, { content: 'second version', visibility: 'public' }), 200);
    expect(edited).toMatchObject({ content: 'second version', visibility: 'public', community_id: community.id });
    expect((await expectStatus(await getPostRaw(stranger, post.id), 200)).content).toBe('second version');
  });
});

// ---------------------------------------------------------------- public communities

describe('Community posts: public community', () => {
  it('should show its posts to anonymous callers and strangers on every read path', async () => {
    const { target } = await communityWithPost({ visibility: 'public' });
    const stranger = await createUser();
    await expectVisibleEverywhere(null, target);
    await expectVisibleEverywhere(stranger, target);
    // The stranger's like and comment landed.
    expect(await likerIds(null, target.post.id)).toContain(stranger.id);
    const after = await expectStatus(await getPostRaw(null, target.post.id), 200);
    expect(after.like_count).toBe(2);
    expect(after.comment_count).toBe(2);
  });
});

// ---------------------------------------------------------------- private communities

describe('Community posts: private community', () => {
  it('should hide its posts on every read path from strangers, anonymous callers, followers and friends of the author', async () => {
    const { owner, author, community, target } = await communityWithPost({ visibility: 'private' });
    const [stranger, follower, friend] = await users(3);
    expect((await follow(follower, author)).following).toBe(true);
    await befriend(friend, author);
    // The author's plain public post does reach them all (so each path works and is not empty for a reason of its own).
    const plain = await plainPost(author, 'outside the community');
    for (const viewer of [follower, friend]) expect(await homeAll(viewer), viewer.username).toContain(plain.id);
    expect(await userPostIds(null, author.id)).toContain(plain.id);
    expect(await discoverIds(stranger)).toContain(plain.id);

    for (const viewer of [null, stranger, follower, friend]) await expectHiddenEverywhere(viewer, target);

    // Members see all of it, and may like and comment.
    const member = await createUser();
    await join(member, community.id);
    await expectVisibleEverywhere(member, target, { inHome: true });
    await expectVisibleEverywhere(owner, target, { inHome: true, write: false });
    expect(await homeAll(author)).toContain(target.post.id);
  });

  it('should hide its posts on every read path from a pending applicant, a member who left and a removed member', async () => {
    const { owner, community, target } = await communityWithPost({ visibility: 'private', join_policy: 'approval' });
    const [applicant, leaver, removed] = await users(3);
    expect(await join(applicant, community.id)).toBe('pending');
    await addMember(owner, community.id, leaver);
    await addMember(owner, community.id, removed);
    // As members they saw it.
    for (const member of [leaver, removed]) {
      expect(await communityPostIds(member, community.id)).toContain(target.post.id);
      expect(await homeAll(member)).toContain(target.post.id);
      await expectStatus(await getPostRaw(member, target.post.id), 200);
    }

    await expectStatus(await leaveRaw(leaver, community.id), 204);
    await expectStatus(await removeMemberRaw(owner, community.id, removed.id), 204);
    expect((await getCommunity(community.id, leaver)).my_role).toBeNull();
    expect((await getCommunity(community.id, removed)).my_role).toBeNull();

    for (const viewer of [applicant, leaver, removed]) await expectHiddenEverywhere(viewer, target);

    // Once approved, the applicant sees it.
    await expectStatus(await setRoleRaw(owner, community.id, applicant.id, 'member'), 200);
    await expectVisibleEverywhere(applicant, target, { inHome: true });
  });

  it('should show its posts to strangers and anonymous callers once the owner makes it public', async () => {
    const { owner, target, community } = await communityWithPost({ visibility: 'private' });
    const stranger = await createUser();
    await expectHiddenEverywhere(stranger, target);

    const patched = await expectStatus(await patchCommunityRaw(owner, community.id, { visibility: 'public' }), 200);
    expect(patched.visibility).toBe('public');
    await expectVisibleEverywhere(null, target);
    await expectVisibleEverywhere(stranger, target);

    // And back to private hides them again.
    await expectStatus(await patchCommunityRaw(owner, community.id, { visibility: 'private' }), 200);
    const other = await createUser();
    await expectHiddenEverywhere(other, target);
  });
});

// ---------------------------------------------------------------- blocks

describe('Community posts: blocks', () => {
  it('should hide a public community post from a user the author blocked, and the blocked user’s from the author', async () => {
    const [owner, author, blocked, bystander] = await users(4);
    const community = await createCommunity(owner, { visibility: 'public' });
    await join(author, community.id);
    await join(blocked, community.id);
    const post = await communityPost(author, community.id, 'not for you');
    const theirs = await communityPost(blocked, community.id, 'from the blocked one');
    const ownersPost = await communityPost(owner, community.id, 'from the owner');
    await block(author, blocked);

    // The blocked user: the author's post is gone from every path.
    const list = await communityPostIds(blocked, community.id);
    expect(list).not.toContain(post.id);
    expect(list).toEqual(expect.arrayContaining([theirs.id, ownersPost.id]));
    await expectProblem(await getPostRaw(blocked, post.id), 404);
    await expectProblem(await commentsRaw(blocked, post.id), 404);
    await expectProblem(await likersRaw(blocked, post.id), 404);
    await expectProblem(await likeRaw(blocked, post.id), 404);
    await expectProblem(await commentRaw(blocked, post.id, 'hi'), 404);
    expect(await homeAll(blocked)).not.toContain(post.id);
    expect(await discoverIds(blocked)).not.toContain(post.id);
    // The community membership itself is untouched.
    expect(await homeAll(blocked)).toContain(ownersPost.id);

    // The author no longer sees the blocked user's post either.
    expect(await communityPostIds(author, community.id)).not.toContain(theirs.id);
    await expectProblem(await getPostRaw(author, theirs.id), 404);

    // Everyone else still sees both.
    for (const viewer of [bystander, null]) {
      expect(await communityPostIds(viewer, community.id)).toEqual(expect.arrayContaining([post.id, theirs.id]));
      await expectStatus(await getPostRaw(viewer, post.id), 200);
    }
  });
});

// ---------------------------------------------------------------- home feed

describe('Community posts: home feed', () => {
  it('should merge posts of the viewer’s communities by unfollowed authors with followed authors’ posts, newest first', async () => {
    const [viewer, followed, author, owner] = await users(4);
    const community = await createCommunity(owner, { visibility: 'private' });
    await join(viewer, community.id);
    await join(author, community.id);
    await follow(viewer, followed);

    const created: any[] = [];
    created.push(await plainPost(followed, 'followed 1'));
    await tick();
    created.push(await communityPost(author, community.id, 'community 1'));
    await tick();
    created.push(await plainPost(followed, 'followed 2'));
    await tick();
    created.push(await communityPost(owner, community.id, 'community 2 by the owner'));
    await tick();
    created.push(await plainPost(viewer, 'my own'));
    await tick();
    created.push(await communityPost(author, community.id, 'community 3'));
    // Not in the feed: the unfollowed author's plain post, and a post in a community the viewer is not in.
    const elsewhere = await createCommunity(author);
    const outside = [await plainPost(author, 'author outside'), await communityPost(author, elsewhere.id, 'another community')];

    const ids = await homeAll(viewer);
    const expected = newestFirst(created);
    expect(ids).toEqual(expected);
    for (const p of outside) expect(ids).not.toContain(p.id);
    // The items are full posts, with their community.
    const first = (await homePage(viewer, { limit: 1 })).data[0]!;
    const newest = created.find((p) => p.id === expected[0]);
    expect(first).toMatchObject({ id: newest.id, author: { id: newest.author.id } });
    expect((first as any).community_id).toBe(newest.community_id);
  });

  it('should page with limit=2 over followed and community posts with no gaps or duplicates', async () => {
    const [viewer, followed, author, owner] = await users(4);
    const community = await createCommunity(owner);
    const other = await createCommunity(owner);
    const closed = await createCommunity(owner, { visibility: 'private' });
    for (const user of [viewer, followed, author]) await join(user, community.id);
    await join(followed, other.id);
    await join(followed, closed.id);
    await follow(viewer, followed);

    const created: any[] = [];
    const make = [
      () => plainPost(followed, 'f1'),
      () => communityPost(author, community.id, 'c1'),
      // By a followed author inside the viewer's community: reached both ways, listed once.
      () => communityPost(followed, community.id, 'f+c 1'),
      () => communityPost(followed, other.id, 'followed, in a public community the viewer is not in'),
      () => plainPost(followed, 'f2'),
      () => communityPost(author, community.id, 'c2'),
      () => communityPost(followed, community.id, 'f+c 2'),
      () => communityPost(owner, community.id, 'c3 by the owner'),
      () => plainPost(viewer, 'own'),
      () => communityPost(author, community.id, 'c4'),
    ];
    for (const m of make) {
      created.push(await m());
      await tick();
    }
    // A followed author's post in a private community the viewer is not in: reached through the author, never shown.
    const hidden: any[] = [];
    for (let i = 0; i < 3; i++) {
      hidden.push(await communityPost(followed, closed.id, `members only ${i}`));
      await tick();
    }
    created.push(await plainPost(followed, 'f3, after the hidden ones'));
    const expected = newestFirst(created);

    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    for (; pages < 20; pages++) {
      const page = await homePage(viewer, { limit: 2, cursor });
      expect(page.data.length).toBeLessThanOrEqual(2);
      seen.push(...page.data.map((p) => p.id));
      if (!page.next_cursor) break;
      cursor = page.next_cursor;
    }
    expect(seen).toEqual(expected);
    expect(new Set(seen).size).toBe(seen.length);
    for (const p of hidden) expect(seen).not.toContain(p.id);
    expect(pages + 1).toBeGreaterThanOrEqual(Math.ceil(expected.length / 2));
    // The same walk in one page agrees.
    expect(await homeAll(viewer)).toEqual(expected);
  });

  it('should drop a community’s posts from home after leaving it', async () => {
    const [viewer, followed, author, owner] = await users(4);
    const community = await createCommunity(owner);
    await join(viewer, community.id);
    await join(author, community.id);
    await follow(viewer, followed);
    const inside = await communityPost(author, community.id, 'community post');
    const byOwner = await communityPost(owner, community.id, 'owner post');
    const plain = await plainPost(followed, 'followed post');
    const before = await homeAll(viewer);
    expect(before).toEqual(expect.arrayContaining([inside.id, byOwner.id, plain.id]));

    await expectStatus(await leaveRaw(viewer, community.id), 204);
    const after = await homeAll(viewer);
    expect(after).not.toContain(inside.id);
    expect(after).not.toContain(byOwner.id);
    expect(after).toEqual([plain.id]);
    // The community is public: the posts are still readable, just not in home.
    await expectStatus(await getPostRaw(viewer, inside.id), 200);
  });
});

// ---------------------------------------------------------------- moderation

describe('Community posts: moderation', () => {
  it('should let the owner and a moderator delete another member’s post and a comment on it, and refuse a plain member', async () => {
    const [owner, moderator, author, member, commenter] = await users(5);
    const community = await createCommunity(owner, { visibility: 'private' });
    await addMember(owner, community.id, moderator, 'moderator');
    for (const user of [author, member, commenter]) await addMember(owner, community.id, user);

    const first = await communityPost(author, community.id, 'first');
    const second = await communityPost(author, community.id, 'second');
    const onFirst = await comment(commenter, first.id, 'comment on first');
    const onSecond = await comment(commenter, second.id, 'comment on second');
    const plain = await plainPost(author, 'outside the community');

    // A plain member moderates nothing.
    await expectProblem(await deletePostRaw(member, first.id), 403);
    await expectProblem(await deleteCommentRaw(member, onFirst.id), 403);
    expect(await commentIds(member, first.id)).toContain(onFirst.id);

    // The moderator removes a comment, then a post.
    await expectStatus(await deleteCommentRaw(moderator, onFirst.id), 204);
    expect(await commentIds(author, first.id)).not.toContain(onFirst.id);
    await expectStatus(await deletePostRaw(moderator, first.id), 204);
    await expectProblem(await getPostRaw(author, first.id), 404);

    // The owner does the same.
    await expectStatus(await deleteCommentRaw(owner, onSecond.id), 204);
    expect(await commentIds(author, second.id)).not.toContain(onSecond.id);
    await expectStatus(await deletePostRaw(owner, second.id), 204);
    await expectProblem(await getPostRaw(author, second.id), 404);
    expect(await communityPostIds(member, community.id)).toEqual([]);

    // Their powers stop at the community: the author's plain post is not theirs to delete.
    await expectProblem(await deletePostRaw(owner, plain.id), 403);
    await expectProblem(await deletePostRaw(moderator, plain.id), 403);
    await expectStatus(await getPostRaw(author, plain.id), 200);
  });
});

// ---------------------------------------------------------------- notifications

describe('Community notifications', () => {
  it('should send new_post of a private community post to followers who are members, not to other followers', async () => {
    const [owner, author, memberFollower, outsideFollower, applicantFollower] = await users(5);
    const community = await createCommunity(owner, { visibility: 'private', join_policy: 'approval' });
    await addMember(owner, community.id, author);
    await addMember(owner, community.id, memberFollower);
    expect(await join(applicantFollower, community.id)).toBe('pending');
    for (const follower of [memberFollower, outsideFollower, applicantFollower]) expect((await follow(follower, author)).following).toBe(true);

    const post = await communityPost(author, community.id, 'members only news');
    const n = await waitForNotification(memberFollower, 'new_post', (x) => x.data.id === post.id);
    expectEnvelope(n, 'new_post');
    expectPublicUser(n.data.author, author);
    expect(n.data.message).toEqual(expect.any(String));
    await quiet(300);
    await expectNone(outsideFollower, 'new_post', (x) => x.data.id === post.id);
    await expectNone(applicantFollower, 'new_post', (x) => x.data.id === post.id);

    // The same followers do get the author's posts they may see: a post in a public community, and a plain post.
    const open = await createCommunity(owner, { visibility: 'public' });
    await join(author, open.id);
    const publicPost = await communityPost(author, open.id, 'open news');
    for (const follower of [memberFollower, outsideFollower, applicantFollower]) {
      await waitForNotification(follower, 'new_post', (x) => x.data.id === publicPost.id);
    }
  });

  it('should notify the owner and moderators of a join request, and the applicant once approved', async () => {
    const [owner, moderator, member, applicant] = await users(4);
    const community = await createCommunity(owner, { join_policy: 'approval' });
    await addMember(owner, community.id, moderator, 'moderator');
    await addMember(owner, community.id, member);
    const summary = { id: community.id, slug: community.slug, name: community.name };

    expect(await join(applicant, community.id)).toBe('pending');
    for (const recipient of [owner, moderator]) {
      const n = await waitForNotification(recipient, 'community_join_request', (x) => x.data.user?.id === applicant.id);
      expectEnvelope(n, 'community_join_request');
      expect(n.data.community).toEqual(summary);
      expectPublicUser(n.data.user, applicant);
    }
    await quiet(300);
    await expectNone(member, 'community_join_request');
    await expectNone(applicant, 'community_join_request');
    await expectNone(applicant, 'community_join_approved');

    await expectStatus(await setRoleRaw(moderator, community.id, applicant.id, 'member'), 200);
    const approved = await waitForNotification(applicant, 'community_join_approved', (x) => x.data.community?.id === community.id);
    expectEnvelope(approved, 'community_join_approved');
    expect(approved.data.community).toEqual(summary);
    expect((await getCommunity(community.id, applicant)).my_role).toBe('member');
  });
});
