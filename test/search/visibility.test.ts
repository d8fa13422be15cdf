import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { anonymousVisiblePostSql } from '../../src/modules/posts/post-pipeline';
import { createCommunity, users } from '../communities/helpers';
import { call, createUser, expectStatus } from '../helpers/client';
import { act, addRule, createStaff } from '../moderation/helpers';
import { block, follow, makeFriends, makePrivate, patchMe, post, setWallPolicy, type TestUser } from '../posts/helpers';
import { found, nonsenseWord, search } from './helpers';

/**
 * Search shows nothing the caller may not see: each rule of the contract, for people, posts and tags.
 * Every test names its own word, so the accounts of other tests never match.
 */

/** What `viewer` finds of `word`: people, posts and tags (the no-type search, which runs all four). */
async function findAll(viewer: TestUser, word: string): Promise<{ users: string[]; posts: string[]; tags: string[] }> {
  const all = await search(viewer, word);
  return {
    users: all.users.map((u: { id: string }) => u.id),
    posts: all.posts.map((p: { id: string }) => p.id),
    tags: all.tags.map((t: { tag: string }) => t.tag),
  };
}

/** An account named `word` with one public post carrying `#word`. */
async function authorOf(word: string): Promise<{ author: TestUser; postId: string }> {
  const author = await createUser({ display_name: `${word} Person` });
  const written = await post(author, `Public notes #${word}`);
  return { author, postId: written.id };
}

describe('search visibility', () => {
  it('should show friends-only posts to friends only, and private posts to their author only', async () => {
    const word = nonsenseWord('vf');
    const [author, friend, stranger] = await users(3);
    await makeFriends(author, friend);
    const forFriends = await post(author, { content: `${word} for friends #${word}`, visibility: 'friends' });
    const forMe = await post(author, { content: `${word} for me`, visibility: 'private' });
    expect(await found(friend, word, 'posts')).toEqual([forFriends.id]);
    expect(await found(stranger, word, 'posts')).toEqual([]);
    expect((await found(author, word, 'posts')).sort()).toEqual([forFriends.id, forMe.id].sort());
    // A tag used only where strangers cannot read is not listed.
    expect(await found(stranger, word, 'tags')).toEqual([]);
  });

  it("should show a private account's posts to its followers only", async () => {
    const word = nonsenseWord('vp');
    const [author, follower, stranger] = await users(3);
    await makePrivate(author);
    await follow(follower, author);
    const written = await post(author, `${word} from a private account`);
    expect(await found(follower, word, 'posts')).toEqual([written.id]);
    expect(await found(stranger, word, 'posts')).toEqual([]);
  });

  it('should hide people and their posts across a block, either way', async () => {
    const word = nonsenseWord('vb');
    const { author, postId } = await authorOf(word);
    const [blocked, blocker] = await users(2);
    expect(await findAll(blocked, word)).toEqual({ users: [author.id], posts: [postId], tags: [word] });
    await block(author, blocked);
    await block(blocker, author);
    for (const viewer of [blocked, blocker]) expect(await findAll(viewer, word)).toEqual({ users: [], posts: [], tags: [] });
    // And the author finds neither of them.
    expect(await found(author, blocked.username, 'users')).toEqual([]);
    expect(await found(author, blocker.username, 'users')).toEqual([]);
  });

  it('should hide suspended and silenced accounts and their posts and tags from everyone else', async () => {
    const staff = await createStaff();
    const viewer = await createUser();
    for (const action of ['suspend', 'silence']) {
      const word = nonsenseWord('vs');
      const { author, postId } = await authorOf(word);
      const { postId: other } = await authorOf(word);
      const before = await findAll(viewer, word);
      expect(before.users).toContain(author.id);
      expect(before.posts).toContain(postId);
      expect(before.tags).toEqual([word]);
      await act(staff, author, action);
      const after = await findAll(viewer, word);
      expect(after.users, action).not.toContain(author.id);
      expect(after.posts, action).toEqual([other]);
      expect(after.tags, action).toEqual([word]);
    }
  });

  it('should show a non-discoverable account and its posts only to itself, its followers and its friends', async () => {
    const word = nonsenseWord('vd');
    const { author, postId } = await authorOf(word);
    const [follower, friend, stranger] = await users(3);
    await follow(follower, author);
    await makeFriends(author, friend);
    const me = await patchMe(author, { discoverable: false });
    expect(me.discoverable).toBe(false);
    expect((await expectStatus(await call('/me', { token: author.accessToken }), 200)).discoverable).toBe(false);
    expect(await findAll(stranger, word)).toEqual({ users: [], posts: [], tags: [] });
    for (const viewer of [author, follower, friend]) expect(await findAll(viewer, word)).toEqual({ users: [author.id], posts: [postId], tags: [word] });
    // The profile itself stays reachable: discoverable only governs being found.
    await expectStatus(await call(`/users/${author.id}`, { token: stranger.accessToken }), 200);
    await patchMe(author, { discoverable: true });
    expect((await findAll(stranger, word)).users).toEqual([author.id]);
  });

  it('should default discoverable to true and refuse anything but a boolean', async () => {
    const person = await createUser();
    expect(person.me.discoverable).toBe(true);
    const res = await call('/me', { method: 'PATCH', token: person.accessToken, body: { discoverable: 'no' } });
    const body = await expectStatus(res, 400);
    expect(body.errors.map((e: { field: string }) => e.field)).toContain('discoverable');
  });

  it("should count, in trends and tag search, exactly the posts the rules stage shows to anyone", async () => {
    // anonymousVisiblePostSql is the rules stage's anonymous answer for aggregates; the two must agree.
    const staff = await createStaff();
    const held = nonsenseWord('hold');
    await addRule(staff, held, 'hold');
    const [plain, closed, silenced, suspended, wallOwner, parted] = await users(6);
    await makePrivate(closed);
    await setWallPolicy(wallOwner, 'everyone');
    await setWallPolicy(parted, 'everyone');
    const open = await createCommunity(plain);
    const members = await createCommunity(plain, { visibility: 'private' });
    const kinds: Record<string, string> = {
      public: (await post(plain, 'public')).id,
      friends: (await post(plain, { content: 'friends', visibility: 'friends' })).id,
      private: (await post(plain, { content: 'private', visibility: 'private' })).id,
      held: (await post(plain, `held ${held}`)).id,
      privateAccount: (await post(closed, 'closed account')).id,
      silenced: (await post(silenced, 'silenced')).id,
      suspended: (await post(suspended, 'suspended')).id,
      wall: (await post(plain, { content: 'on a wall', target_user_id: wallOwner.id })).id,
      openCommunity: (await post(plain, { content: 'open community', community_id: open.id })).id,
      privateCommunity: (await post(plain, { content: 'members only', community_id: members.id })).id,
    };
    await act(staff, silenced, 'silence');
    await act(staff, suspended, 'suspend');
    const wallOnPrivate = (await post(plain, { content: 'wall, then private', target_user_id: wallOwner.id })).id;
    await makePrivate(wallOwner);
    kinds.wallOfPrivateAccount = wallOnPrivate;
    // A wall post whose owner then blocked its author.
    kinds.wallOfBlocker = (await post(plain, { content: 'wall, then blocked', target_user_id: parted.id })).id;
    await block(parted, plain);
    for (const [kind, id] of Object.entries(kinds)) {
      const res = await call(`/posts/${id}`);
      await res.arrayBuffer();
      const counted = await env.DB.prepare(`SELECT ${anonymousVisiblePostSql('p')} AS v FROM posts p WHERE p.id = ?1`).bind(id).first<{ v: number }>();
      expect(counted!.v === 1, kind).toBe(res.status === 200);
    }
    expect((await call(`/posts/${kinds.public}`)).status).toBe(200);
  });
});
