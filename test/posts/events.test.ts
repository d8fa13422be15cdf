import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { call, createUser, expectStatus } from '../helpers/client';
import { block, comment, createPostRaw, like, makeFriends, makePrivate, patchPost, post, recordEvents, setWallPolicy, settle, unlike, users } from './helpers';

let rec: ReturnType<typeof recordEvents>;
beforeEach(() => {
  rec = recordEvents();
});
afterEach(() => rec.stop());

describe('Post events', () => {
  it('should emit new_post on create, once, with the author as actor', async () => {
    const a = await createUser();
    const p = await post(a, 'news!');
    await settle();
    expect(rec.about(a)).toEqual([{ type: 'new_post', actorId: a.id, postId: p.id }]);
  });

  it('should not emit anything for a refused post', async () => {
    const a = await createUser();
    const stranger = await createUser();
    await expectStatus(await createPostRaw(a, { content: '' }), 400);
    await expectStatus(await createPostRaw(a, { content: 'hi', target_user_id: stranger.id }), 403);
    await settle();
    expect(rec.about(a, stranger)).toEqual([]);
  });

  it('should emit wall_post to the wall owner in addition to new_post', async () => {
    const owner = await createUser();
    const friend = await createUser();
    await makeFriends(owner, friend);
    rec.events.length = 0;
    const p = await post(friend, { content: 'on your wall', target_user_id: owner.id });
    await settle();
    expect(rec.about(owner, friend)).toEqual([
      { type: 'new_post', actorId: friend.id, postId: p.id },
      { type: 'wall_post', actorId: friend.id, recipientId: owner.id, postId: p.id },
    ]);
  });

  it('should not emit wall_post when the target is the author', async () => {
    const a = await createUser();
    await post(a, { content: 'own wall', target_user_id: a.id });
    await settle();
    expect(rec.about(a).map((e) => e.type)).toEqual(['new_post']);
  });

  it('should not emit events on edit', async () => {
    const a = await createUser();
    const p = await post(a, 'draft');
    rec.events.length = 0;
    await expectStatus(await patchPost(a, p.id, { content: 'final' }), 200);
    await settle();
    expect(rec.about(a)).toEqual([]);
  });
});

describe('Like events', () => {
  it('should emit post_like to the author once per like, not on repeats or unlikes', async () => {
    const author = await createUser();
    const fan = await createUser();
    const p = await post(author, 'like me');
    rec.events.length = 0;
    await expectStatus(await like(fan, p.id), 200);
    await expectStatus(await like(fan, p.id), 200);
    await expectStatus(await unlike(fan, p.id), 200);
    await settle();
    expect(rec.about(author, fan)).toEqual([{ type: 'post_like', actorId: fan.id, recipientId: author.id, postId: p.id }]);
  });

  it('should not emit post_like when liking your own post', async () => {
    const author = await createUser();
    const p = await post(author, 'self');
    rec.events.length = 0;
    await expectStatus(await like(author, p.id), 200);
    await settle();
    expect(rec.about(author)).toEqual([]);
  });

  it('should emit post_like to the author, not the wall owner, for a wall post', async () => {
    const owner = await createUser();
    const author = await createUser();
    const fan = await createUser();
    await setWallPolicy(owner, 'everyone');
    const p = await post(author, { content: 'wall', target_user_id: owner.id });
    rec.events.length = 0;
    await expectStatus(await like(fan, p.id), 200);
    await settle();
    expect(rec.ofType('post_like')).toEqual([{ type: 'post_like', actorId: fan.id, recipientId: author.id, postId: p.id }]);
  });
});

describe('Comment events', () => {
  it('should emit post_comment to the post author', async () => {
    const author = await createUser();
    const c = await createUser();
    const p = await post(author, 'discuss');
    rec.events.length = 0;
    const made = await comment(c, p.id, 'my two cents');
    await settle();
    expect(rec.about(author, c)).toEqual([{ type: 'post_comment', actorId: c.id, recipientId: author.id, postId: p.id, commentId: made.id }]);
  });

  it('should not emit when the author comments on their own post', async () => {
    const author = await createUser();
    const p = await post(author, 'monologue');
    rec.events.length = 0;
    await comment(author, p.id, 'talking to myself');
    await settle();
    expect(rec.about(author)).toEqual([]);
  });

  it('should emit comment_reply to the parent author and post_comment to the post author', async () => {
    const author = await createUser();
    const [c1, c2] = await users(2);
    const p = await post(author, 'thread');
    const top = await comment(c1!, p.id, 'top');
    rec.events.length = 0;
    const reply = await comment(c2!, p.id, 'reply', top.id);
    await settle();
    expect(rec.about(author, c1!, c2!)).toEqual([
      { type: 'post_comment', actorId: c2!.id, recipientId: author.id, postId: p.id, commentId: reply.id },
      { type: 'comment_reply', actorId: c2!.id, recipientId: c1!.id, postId: p.id, commentId: reply.id, parentId: top.id },
    ]);
  });

  it('should emit only post_comment when replying to the post author, and nothing when replying to yourself on your post', async () => {
    const author = await createUser();
    const c1 = await createUser();
    const p = await post(author, 'thread');
    const authorTop = await comment(author, p.id, 'author top');
    const c1Top = await comment(c1, p.id, 'c1 top');
    rec.events.length = 0;
    const r1 = await comment(c1, p.id, 'reply to author', authorTop.id);
    await settle();
    expect(rec.about(author, c1)).toEqual([{ type: 'post_comment', actorId: c1.id, recipientId: author.id, postId: p.id, commentId: r1.id }]);
    rec.events.length = 0;
    await comment(c1, p.id, 'reply to myself', c1Top.id);
    await settle();
    expect(rec.about(author, c1).map((e) => e.type)).toEqual(['post_comment']);
    rec.events.length = 0;
    await comment(author, p.id, 'author answers own', authorTop.id);
    await settle();
    expect(rec.about(author, c1)).toEqual([]);
  });
});

describe('Mention events', () => {
  it('should emit mention for each distinct existing @username in a post, except the author', async () => {
    const author = await createUser();
    const [m1, m2] = await users(2);
    const p = await post(author, `hi @${m1!.username} and @${m2!.username.toUpperCase()}, again @${m1!.username}; me: @${author.username}; nobody: @no_such_user_zz`);
    await settle();
    const mentions = rec.ofType('mention').filter((e) => e.postId === p.id);
    expect(mentions).toHaveLength(2);
    expect(mentions).toEqual(
      expect.arrayContaining([
        { type: 'mention', actorId: author.id, recipientId: m1!.id, postId: p.id },
        { type: 'mention', actorId: author.id, recipientId: m2!.id, postId: p.id },
      ]),
    );
  });

  it('should not treat email-like text as a mention', async () => {
    const author = await createUser();
    const m = await createUser();
    const p = await post(author, `write to me at someone@${m.username} please`);
    await settle();
    expect(rec.ofType('mention').filter((e) => e.postId === p.id)).toEqual([]);
  });

  it('should not emit mention to users on either side of a block with the author', async () => {
    const author = await createUser();
    const [blocked, blocker, fine] = await users(3);
    await block(author, blocked!);
    await block(blocker!, author);
    const p = await post(author, `@${blocked!.username} @${blocker!.username} @${fine!.username}`);
    await settle();
    expect(rec.ofType('mention').filter((e) => e.postId === p.id).map((e) => e.recipientId)).toEqual([fine!.id]);
  });

  it('should not emit mention to users who cannot see the post', async () => {
    const author = await createUser();
    const [friend, stranger] = await users(2);
    await makeFriends(author, friend!);
    const friendsOnly = await post(author, { content: `@${friend!.username} @${stranger!.username}`, visibility: 'friends' });
    const priv = await post(author, { content: `@${friend!.username}`, visibility: 'private' });
    await settle();
    expect(rec.ofType('mention').filter((e) => e.postId === friendsOnly.id).map((e) => e.recipientId)).toEqual([friend!.id]);
    expect(rec.ofType('mention').filter((e) => e.postId === priv.id)).toEqual([]);
  });

  it("should not emit mention to strangers for a private account's public post", async () => {
    const author = await createUser();
    const [stranger, follower] = await users(2);
    await makePrivate(author);
    await expectStatus(await call(`/users/${author.id}/follow`, { method: 'POST', token: follower!.accessToken }), 200);
    await expectStatus(await call(`/follow_requests/${follower!.id}/accept`, { method: 'POST', token: author.accessToken }), 200);
    const p = await post(author, `@${stranger!.username} @${follower!.username}`);
    await settle();
    expect(rec.ofType('mention').filter((e) => e.postId === p.id).map((e) => e.recipientId)).toEqual([follower!.id]);
  });

  it('should emit mention with commentId for @username in a comment, except for the commenter', async () => {
    const author = await createUser();
    const [c, m, blockedByC] = await users(3);
    const p = await post(author, 'open thread');
    await block(c!, blockedByC!);
    rec.events.length = 0;
    const made = await comment(c!, p.id, `@${m!.username} look, and @${c!.username} and @${blockedByC!.username}`);
    await settle();
    expect(rec.ofType('mention')).toEqual([{ type: 'mention', actorId: c!.id, recipientId: m!.id, postId: p.id, commentId: made.id }]);
  });

  it('should not emit mention for a comment on a post the mentioned user cannot see', async () => {
    const author = await createUser();
    const [friend, stranger] = await users(2);
    await makeFriends(author, friend!);
    const p = await post(author, { content: 'friends only', visibility: 'friends' });
    rec.events.length = 0;
    await comment(friend!, p.id, `@${stranger!.username} you should see this`);
    await settle();
    expect(rec.ofType('mention')).toEqual([]);
  });
});
