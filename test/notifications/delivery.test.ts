import { validatingFetch } from '../contract/validating-fetch';
import { describe, expect, it } from 'vitest';
import { BASE, call, createUser, expectProblem, expectStatus } from '../helpers/client';
import {
  acceptFriend,
  befriend,
  block,
  comment,
  conversation,
  eventually,
  expectEmptyInbox,
  expectEnvelope,
  expectNone,
  expectPublicUser,
  follow,
  like,
  markRead,
  notifications,
  ofType,
  openConversationSocket,
  post,
  quiet,
  requestFriend,
  sendMessage,
  setVisibility,
  unreadCount,
  users,
  waitForCount,
  waitForNotification,
  type Notification,
} from './helpers';
import { openNotifications } from './stream-helpers';

const ULID_LIKE = /^[0-9A-Za-z_-]{10,64}$/;

describe('Friend and follow notifications', () => {
  it('should notify the recipient of a friend request with request_id and the public sender', async () => {
    const [a, b] = await users(2);
    const request = await requestFriend(a, b);
    const n = await waitForNotification(b, 'friend_request');
    expectEnvelope(n, 'friend_request');
    expect(n.data.request_id).toBe(request.id);
    expectPublicUser(n.data.from_user, a);
    // The sender is not notified of their own request.
    await expectEmptyInbox(a);
  });

  it('should notify the requester with friend_accepted {friend} when the request is accepted', async () => {
    const [a, b] = await users(2);
    const request = await requestFriend(a, b);
    await waitForNotification(b, 'friend_request');
    await acceptFriend(b, request.id);
    const n = await waitForNotification(a, 'friend_accepted');
    expectEnvelope(n, 'friend_accepted');
    expectPublicUser(n.data.friend, b);
    await quiet(150);
    // The one who accepted gets no friend_accepted of their own.
    await expectNone(b, 'friend_accepted');
  });

  it('should notify the first requester with friend_accepted when a crossing request settles it', async () => {
    const [a, b] = await users(2);
    await requestFriend(a, b);
    const crossing = await expectStatus(await call('/friends/requests', { token: b.accessToken, body: { user_id: a.id } }), 200);
    expect(crossing.status).toBe('accepted');
    const n = await waitForNotification(a, 'friend_accepted');
    expectPublicUser(n.data.friend, b);
    await quiet(150);
    await expectNone(b, 'friend_accepted');
  });

  it('should notify a public account of a new follower with the public follower', async () => {
    const [owner, fan] = await users(2);
    expect(await follow(fan, owner)).toEqual({ following: true, requested: false });
    const n = await waitForNotification(owner, 'new_follower');
    expectEnvelope(n, 'new_follower');
    expectPublicUser(n.data.follower, fan);
    expect(n.data.count).toBe(1);
    expect(n.data.actors.map((u: any) => u.id)).toEqual([fan.id]);
    await expectNone(owner, 'follow_request');
    await expectEmptyInbox(fan);
  });

  it('should send follow_request {from_user} to a private account, then new_follower once the owner accepts', async () => {
    const [owner, fan] = await users(2);
    await setVisibility(owner, 'private');
    expect(await follow(fan, owner)).toEqual({ following: false, requested: true });
    const request = await waitForNotification(owner, 'follow_request');
    expectEnvelope(request, 'follow_request');
    expectPublicUser(request.data.from_user, fan);
    await quiet(150);
    await expectNone(owner, 'new_follower');

    await expectStatus(await call(`/follow_requests/${fan.id}/accept`, { method: 'POST', token: owner.accessToken }), 200);
    const followed = await waitForNotification(owner, 'new_follower');
    expectPublicUser(followed.data.follower, fan);
    // The follower is not told about their own follow.
    await expectEmptyInbox(fan);
  });

  it('should not notify anyone when a private owner rejects a follow request', async () => {
    const [owner, fan] = await users(2);
    await setVisibility(owner, 'private');
    await follow(fan, owner);
    await waitForNotification(owner, 'follow_request');
    await expectStatus(await call(`/follow_requests/${fan.id}/reject`, { method: 'POST', token: owner.accessToken }), 200);
    await quiet();
    await expectNone(owner, 'new_follower');
    await expectEmptyInbox(fan);
  });

  it('should not notify again when a follow is repeated (idempotent follow)', async () => {
    const [owner, fan] = await users(2);
    await follow(fan, owner);
    await waitForNotification(owner, 'new_follower');
    await follow(fan, owner);
    await quiet();
    const [n] = await waitForCount(owner, 'new_follower', 1);
    expect(n!.data.count).toBe(1);
  });
});

describe('New post notifications', () => {
  it('should send new_post {id, author, message} to friends and followers, not to the author or strangers', async () => {
    const [author, friend, follower, stranger] = await users(4);
    await befriend(author, friend);
    await follow(follower, author);
    const p = await post(author, 'Hello from the edge');

    for (const recipient of [friend, follower]) {
      const n = await waitForNotification(recipient, 'new_post', (x) => x.data.id === p.id);
      expectEnvelope(n, 'new_post');
      expect(n.data.id).toBe(p.id);
      expectPublicUser(n.data.author, author);
      expect(n.data.message).toBeTypeOf('string');
      expect(n.data.message.length).toBeGreaterThan(0);
      expect(n.data.message).toContain('Hello from the edge');
    }
    await quiet(150);
    await expectNone(author, 'new_post');
    await expectEmptyInbox(stranger);
  });

  it('should send a single new_post to someone who is both friend and follower', async () => {
    const [author, both] = await users(2);
    await befriend(author, both);
    await follow(both, author);
    const p = await post(author, 'once only');
    await waitForNotification(both, 'new_post', (x) => x.data.id === p.id);
    await quiet(150);
    await waitForCount(both, 'new_post', 1, (x) => x.data.id === p.id);
  });

  it('should keep a long post message short', async () => {
    const [author, friend] = await users(2);
    await befriend(author, friend);
    const p = await post(author, 'x'.repeat(3000));
    const n = await waitForNotification(friend, 'new_post', (x) => x.data.id === p.id);
    expect(n.data.message).toBeTypeOf('string');
    expect(n.data.message.length).toBeLessThan(300);
  });

  it('should send a friends-only post to friends but not to mere followers', async () => {
    const [author, friend, follower] = await users(3);
    await befriend(author, friend);
    await follow(follower, author);
    const p = await post(author, { content: 'friends only', visibility: 'friends' });
    await waitForNotification(friend, 'new_post', (x) => x.data.id === p.id);
    await quiet(150);
    await expectNone(follower, 'new_post');
  });

  it('should send a private post to nobody', async () => {
    const [author, friend, follower] = await users(3);
    await befriend(author, friend);
    await follow(follower, author);
    await post(author, { content: 'just for me', visibility: 'private' });
    // A later public post is the barrier: once it has arrived, the private one would have too.
    const barrier = await post(author, 'public after');
    await waitForNotification(friend, 'new_post', (x) => x.data.id === barrier.id);
    await waitForNotification(follower, 'new_post', (x) => x.data.id === barrier.id);
    await quiet(150);
    await waitForCount(friend, 'new_post', 1);
    await waitForCount(follower, 'new_post', 1);
    await expectNone(author, 'new_post');
  });

  it('should not send new_post to a pending (unaccepted) follower of a private account', async () => {
    const [author, pending, friend] = await users(3);
    await setVisibility(author, 'private');
    await befriend(author, friend);
    await follow(pending, author);
    const p = await post(author, 'private account post');
    await waitForNotification(friend, 'new_post', (x) => x.data.id === p.id);
    await quiet(150);
    await expectNone(pending, 'new_post');
  });
});

describe('Post interaction notifications', () => {
  it('should send wall_post to the wall owner', async () => {
    const [owner, writer] = await users(2);
    await befriend(owner, writer);
    const p = await post(writer, { content: 'on your wall', target_user_id: owner.id });
    const n = await waitForNotification(owner, 'wall_post');
    expectEnvelope(n, 'wall_post');
    expect(n.data.post_id).toBe(p.id);
    expectPublicUser(n.data.author, writer);
    await quiet(150);
    await expectNone(writer, 'wall_post');
  });

  it('should send post_like to the post author, and nothing for liking your own post', async () => {
    const [author, liker] = await users(2);
    const p = await post(author, 'like me');
    await like(author, p.id);
    await like(liker, p.id);
    const n = await waitForNotification(author, 'post_like');
    expectEnvelope(n, 'post_like');
    expect(n.data.post_id).toBe(p.id);
    expectPublicUser(n.data.user, liker);
    // Only the other liker counts: the author's own like never notified.
    expect(n.data.count).toBe(1);
    expect(n.data.actors.map((u: any) => u.id)).toEqual([liker.id]);
    await expectEmptyInbox(liker);
  });

  it('should send post_comment to the post author but not for their own comment', async () => {
    const [author, commenter] = await users(2);
    const p = await post(author, 'comment here');
    await comment(author, p.id, 'my own comment');
    const c = await comment(commenter, p.id, 'nice post');
    const n = await waitForNotification(author, 'post_comment');
    expectEnvelope(n, 'post_comment');
    expect(n.data).toMatchObject({ post_id: p.id, comment_id: c.id });
    expectPublicUser(n.data.user, commenter);
    await quiet(150);
    await waitForCount(author, 'post_comment', 1);
    await expectEmptyInbox(commenter);
  });

  it('should send comment_reply to the parent comment author, and post_comment to the post author', async () => {
    const [author, first, replier] = await users(3);
    const p = await post(author, 'thread');
    const parent = await comment(first, p.id, 'top-level');
    const reply = await comment(replier, p.id, 'a reply', parent.id);
    const n = await waitForNotification(first, 'comment_reply');
    expectEnvelope(n, 'comment_reply');
    expect(n.data).toMatchObject({ post_id: p.id, comment_id: reply.id, parent_id: parent.id });
    expectPublicUser(n.data.user, replier);
    await waitForNotification(author, 'post_comment', (x) => x.data.comment_id === reply.id);
    await quiet(150);
    // The post author hears of the reply once (as a comment), not as a reply to someone else's comment.
    await expectNone(author, 'comment_reply');
    await expectEmptyInbox(replier);
  });

  it('should not send comment_reply when replying to your own comment', async () => {
    const [author, commenter] = await users(2);
    const p = await post(author, 'thread');
    const parent = await comment(commenter, p.id, 'first');
    const reply = await comment(commenter, p.id, 'and more', parent.id);
    await waitForNotification(author, 'post_comment', (x) => x.data.comment_id === reply.id);
    await quiet(150);
    await expectEmptyInbox(commenter);
  });

  it('should send mention for @username in a post, not to the author', async () => {
    const [author, mentioned] = await users(2);
    const p = await post(author, `hey @${mentioned.username} and me @${author.username}`);
    const n = await waitForNotification(mentioned, 'mention');
    expectEnvelope(n, 'mention');
    expect(n.data.post_id).toBe(p.id);
    expect(n.data.comment_id ?? null).toBeNull();
    expectPublicUser(n.data.user, author);
    await quiet(150);
    await expectNone(author, 'mention');
  });

  it('should send mention for @username in a comment, with the comment id', async () => {
    const [author, commenter, mentioned] = await users(3);
    const p = await post(author, 'a post');
    const c = await comment(commenter, p.id, `look @${mentioned.username.toUpperCase()}!`);
    const n = await waitForNotification(mentioned, 'mention');
    expect(n.data).toMatchObject({ post_id: p.id, comment_id: c.id });
    expectPublicUser(n.data.user, commenter);
    await quiet(150);
    await expectNone(commenter, 'mention');
  });

  it('should not send mention to someone who cannot see the post', async () => {
    const [author, friend, outsider] = await users(3);
    await befriend(author, friend);
    await post(author, { content: `friends only @${outsider.username} @${friend.username}`, visibility: 'friends' });
    await post(author, { content: `private @${friend.username} @${outsider.username}`, visibility: 'private' });
    await waitForNotification(friend, 'mention');
    await quiet(150);
    // The friend sees only the friends-only post; the outsider sees neither.
    await waitForCount(friend, 'mention', 1);
    await expectNone(outsider, 'mention');
  });

  it('should notify each mentioned user once even when named twice', async () => {
    const [author, mentioned] = await users(2);
    const p = await post(author, `@${mentioned.username} @${mentioned.username} hello`);
    await waitForNotification(mentioned, 'mention', (x) => x.data.post_id === p.id);
    await quiet(150);
    await waitForCount(mentioned, 'mention', 1);
  });
});

describe('New message notifications', () => {
  it('should notify members without a socket on the conversation, not the one looking at it, never the sender', async () => {
    const [sender, away, looking] = await users(3);
    // Followers of the sender: not a message request for them (a request notifies once, see test/safety).
    await follow(away, sender);
    await follow(looking, sender);
    const conv = await conversation(sender, [away, looking]);
    const ws = await openConversationSocket(looking, conv.id);
    try {
      const message = await sendMessage(sender, conv.id, 'hello group');
      const n = await waitForNotification(away, 'new_message');
      expectEnvelope(n, 'new_message');
      expect(n.data).toMatchObject({
        id: message.id,
        conversation_id: conv.id,
        seq: message.seq,
        content: 'hello group',
        created_at: message.created_at,
      });
      expect(n.data.seq).toBe(1);
      expect(n.data.id).toMatch(ULID_LIKE);
      expectPublicUser(n.data.sender, sender);
      await quiet(150);
      await expectNone(looking, 'new_message');
      await expectNone(sender, 'new_message');
    } finally {
      ws.close();
    }
  });

  it('should notify a member again once their conversation socket is closed', async () => {
    const [sender, member] = await users(2);
    const conv = await conversation(sender, [member]);
    const ws = await openConversationSocket(member, conv.id);
    await sendMessage(sender, conv.id, 'while looking');
    ws.close();
    await quiet(150);
    await expectNone(member, 'new_message');
    const later = await sendMessage(sender, conv.id, 'after leaving');
    const n = await waitForNotification(member, 'new_message', (x) => x.data.id === later.id);
    expect(n.data.content).toBe('after leaving');
    expect(n.data.seq).toBe(2);
    await waitForCount(member, 'new_message', 1);
  });

  it('should send new_message for a direct message to the receiver only', async () => {
    const [sender, receiver] = await users(2);
    const message = await expectStatus(await call('/messages', { token: sender.accessToken, body: { receiver_id: receiver.id, content: 'hi there' } }), 201);
    const n = await waitForNotification(receiver, 'new_message');
    expect(n.data).toMatchObject({ id: message.id, conversation_id: message.conversation_id, seq: 1, content: 'hi there', created_at: message.created_at });
    expectPublicUser(n.data.sender, sender);
    await quiet(150);
    await expectEmptyInbox(sender);
  });

  it('should notify each message separately (no grouping of messages)', async () => {
    const [sender, receiver] = await users(2);
    await follow(receiver, sender);
    const conv = await conversation(sender, [receiver]);
    await sendMessage(sender, conv.id, 'one');
    await sendMessage(sender, conv.id, 'two');
    const found = await waitForCount(receiver, 'new_message', 2);
    expect(found.map((n) => n.data.seq)).toEqual([2, 1]);
  });
});

describe('Grouping of likes and follows', () => {
  it('should fold two likes of the same post into one unread notification with count 2, newest actor first', async () => {
    const [author, first, second] = await users(3);
    const p = await post(author, 'popular');
    await like(first, p.id);
    await waitForNotification(author, 'post_like');
    await like(second, p.id);
    const [n] = await eventually(async () => {
      const found = await ofType(author, 'post_like');
      expect(found).toHaveLength(1);
      expect(found[0]!.data.count).toBe(2);
      return found;
    });
    expect(n!.read).toBe(false);
    expect(n!.data.post_id).toBe(p.id);
    expect(n!.data.actors.map((u: any) => u.id)).toEqual([second.id, first.id]);
    for (const actor of n!.data.actors) expect(actor).not.toHaveProperty('email');
    expect(await unreadCount(author)).toBe(1);
  });

  it('should not count the same liker twice (unlike and like again)', async () => {
    const [author, liker] = await users(2);
    const p = await post(author, 'fickle');
    await like(liker, p.id);
    await waitForNotification(author, 'post_like');
    await expectStatus(await call(`/posts/${p.id}/like`, { method: 'DELETE', token: liker.accessToken }), 200);
    await like(liker, p.id);
    await quiet();
    const [n] = await waitForCount(author, 'post_like', 1);
    expect(n!.data.count).toBe(1);
    expect(n!.data.actors.map((u: any) => u.id)).toEqual([liker.id]);
  });

  it('should keep likes of another post in a separate notification', async () => {
    const [author, liker] = await users(2);
    const p1 = await post(author, 'one');
    const p2 = await post(author, 'two');
    await like(liker, p1.id);
    await like(liker, p2.id);
    const found = await waitForCount(author, 'post_like', 2);
    expect(found.map((n) => n.data.post_id).sort()).toEqual([p1.id, p2.id].sort());
    for (const n of found) expect(n.data.count).toBe(1);
    expect(new Set(found.map((n) => n.id)).size).toBe(2);
  });

  it('should start a new notification for a like after the grouped one was read', async () => {
    const [author, first, second] = await users(3);
    const p = await post(author, 'read me');
    await like(first, p.id);
    const old = await waitForNotification(author, 'post_like');
    expect(await markRead(author, [old.id])).toBe(0);
    await like(second, p.id);
    const found = await waitForCount(author, 'post_like', 2);
    const [fresh, read] = found;
    expect(fresh!.id).not.toBe(old.id);
    expect(fresh!.read).toBe(false);
    expect(fresh!.data.count).toBe(1);
    expect(fresh!.data.actors.map((u: any) => u.id)).toEqual([second.id]);
    expect(read!.id).toBe(old.id);
    expect(read!.read).toBe(true);
    expect(read!.data.count).toBe(1);
    expect(await unreadCount(author)).toBe(1);
  });

  it('should fold new followers into one notification the same way', async () => {
    const [owner, f1, f2, f3] = await users(4);
    await follow(f1, owner);
    await waitForNotification(owner, 'new_follower');
    await follow(f2, owner);
    await follow(f3, owner);
    const [n] = await eventually(async () => {
      const found = await ofType(owner, 'new_follower');
      expect(found).toHaveLength(1);
      expect(found[0]!.data.count).toBe(3);
      return found;
    });
    expect(n!.data.actors.map((u: any) => u.id)).toEqual([f3.id, f2.id, f1.id]);
    expectPublicUser(n!.data.follower, f3);
    expect(await unreadCount(owner)).toBe(1);

    // After reading, the next follower starts a new one.
    await markRead(owner);
    const [f4] = await users(1);
    await follow(f4!, owner);
    const both = await waitForCount(owner, 'new_follower', 2);
    expect(both[0]!.data).toMatchObject({ count: 1 });
    expect(both[0]!.data.actors.map((u: any) => u.id)).toEqual([f4!.id]);
    expect(both[1]!.id).toBe(n!.id);
  });

  it('should move a grown group to the top of the list', async () => {
    const [author, first, follower, second] = await users(4);
    const p = await post(author, 'grow');
    await like(first, p.id);
    const grouped = await waitForNotification(author, 'post_like');
    await follow(follower, author);
    await waitForNotification(author, 'new_follower');
    await like(second, p.id);
    await eventually(async () => {
      const page = await notifications(author);
      expect(page.data.map((n) => n.type)).toEqual(['post_like', 'new_follower']);
      expect(page.data[0]!.id).toBe(grouped.id);
      expect(page.data[0]!.data.count).toBe(2);
    });
  });
});

describe('Blocks and notifications', () => {
  it('should refuse a friend request or follow between blocked users and notify nobody', async () => {
    const [blocker, blocked] = await users(2);
    await block(blocker, blocked);
    await expectProblem(await call('/friends/requests', { token: blocked.accessToken, body: { user_id: blocker.id } }), 404);
    await expectProblem(await call('/friends/requests', { token: blocker.accessToken, body: { user_id: blocked.id } }), 404);
    await expectProblem(await call(`/users/${blocker.id}/follow`, { method: 'POST', token: blocked.accessToken }), 404);
    await quiet();
    await expectEmptyInbox(blocker);
    await expectEmptyInbox(blocked);
  });

  it('should not notify a mention in either direction of a block', async () => {
    const [blocker, blocked, bystander] = await users(3);
    await block(blocker, blocked);
    await post(blocked, `hi @${blocker.username} and @${bystander.username}`);
    await post(blocker, `hi @${blocked.username} and @${bystander.username}`);
    await waitForCount(bystander, 'mention', 2);
    await quiet(150);
    await expectNone(blocker, 'mention');
    await expectNone(blocked, 'mention');
  });

  it('should not notify a mention in a comment by someone the mentioned user blocked', async () => {
    const [author, blocker, blocked] = await users(3);
    await block(blocker, blocked);
    const p = await post(author, 'open thread');
    await comment(blocked, p.id, `@${blocker.username} look`);
    await waitForNotification(author, 'post_comment');
    await quiet(150);
    await expectNone(blocker, 'mention');
  });

  it('should not send new_message between blocked members of a shared group', async () => {
    const [creator, blocker, blocked] = await users(3);
    const conv = await conversation(creator, [blocker, blocked]);
    await block(blocker, blocked);
    await sendMessage(blocked, conv.id, 'from the blocked one');
    await waitForNotification(creator, 'new_message', (n) => n.data.content === 'from the blocked one');
    await sendMessage(blocker, conv.id, 'from the blocker');
    await waitForNotification(creator, 'new_message', (n) => n.data.content === 'from the blocker');
    await quiet(150);
    await expectNone(blocker, 'new_message');
    await expectNone(blocked, 'new_message');
  });

  it('should not let a blocked user like or comment on the blocker\'s post, and notify nothing', async () => {
    const [blocker, blocked] = await users(2);
    const p = await post(blocker, 'not for you');
    await block(blocker, blocked);
    await expectProblem(await call(`/posts/${p.id}/like`, { method: 'POST', token: blocked.accessToken }), 404);
    await expectProblem(await call(`/posts/${p.id}/comments`, { token: blocked.accessToken, body: { content: 'hey' } }), 404);
    await quiet();
    await expectEmptyInbox(blocker);
  });

  it('should not send new_post to someone the author has since blocked', async () => {
    const [author, exFriend, friend] = await users(3);
    await befriend(author, exFriend);
    await befriend(author, friend);
    await block(exFriend, author);
    const p = await post(author, 'after the block');
    await waitForNotification(friend, 'new_post', (n) => n.data.id === p.id);
    await quiet(150);
    await expectNone(exFriend, 'new_post');
  });
});

describe('Mutes and notifications', () => {
  it('should notify nobody of what a muted account does, and notify again after the unmute', async () => {
    const [me, muted] = await users(2);
    await befriend(me, muted);
    await follow(me, muted);
    const mine = await post(me, 'my post');
    await waitForNotification(me, 'friend_accepted');
    await expectStatus(await call(`/users/${muted.id}/mute`, { method: 'POST', token: me.accessToken }), 200);
    const before = (await notifications(me)).data.map((n) => n.id);

    await like(muted, mine.id);
    await comment(muted, mine.id, `nice @${me.username}`);
    await post(muted, `a new post for @${me.username}`);
    await sendMessage(muted, (await conversation(muted, [me])).id, 'hello');
    await quiet(600);
    // Nothing new; what was there before the mute stays.
    expect((await notifications(me)).data.map((n) => n.id)).toEqual(before);

    await expectStatus(await call(`/users/${muted.id}/mute`, { method: 'DELETE', token: me.accessToken }), 204);
    await post(muted, 'after the unmute');
    await waitForNotification(me, 'new_post', (n) => n.data.message.includes('after the unmute'));
  });
});

describe('No self-notifications', () => {
  it('should never notify a user of their own actions', async () => {
    const [me, other] = await users(2);
    await befriend(me, other);
    await waitForNotification(me, 'friend_accepted');
    await markRead(me);
    const before = (await notifications(me, 'limit=100')).data.map((n) => n.id);

    const p = await post(me, `talking to myself @${me.username}`);
    await post(me, { content: 'my own wall', target_user_id: me.id });
    await like(me, p.id);
    const c = await comment(me, p.id, `a note @${me.username}`);
    await comment(me, p.id, 'reply to me', c.id);
    const conv = await conversation(me, [other]);
    await sendMessage(me, conv.id, 'hello');
    await expectProblem(await call(`/users/${me.id}/follow`, { method: 'POST', token: me.accessToken }), 400);
    await expectProblem(await call('/friends/requests', { token: me.accessToken, body: { user_id: me.id } }), 400, 'user_id');

    // The other user's notifications are the barrier: everything I caused has been delivered.
    await waitForNotification(other, 'new_message');
    await waitForNotification(other, 'new_post', (n) => n.data.id === p.id);
    await quiet();
    const after = await notifications(me, 'limit=100');
    expect(after.data.map((n) => n.id)).toEqual(before);
    expect(await unreadCount(me)).toBe(0);
  });
});

describe('Notification list', () => {
  /** `count` new_post notifications for a fresh follower, delivered one after another (known order). */
  async function inboxWithPosts(count: number) {
    const [author, reader] = await users(2);
    await follow(reader, author);
    const posts: string[] = [];
    for (let i = 0; i < count; i++) {
      const p = await post(author, `post ${i}`);
      await waitForNotification(reader, 'new_post', (n) => n.data.id === p.id);
      posts.push(p.id);
    }
    return { author, reader, postIds: posts };
  }

  it('should list newest first with the notification shape', async () => {
    const { reader, postIds } = await inboxWithPosts(3);
    const page = await notifications(reader);
    expect(page.data.map((n) => n.data.id)).toEqual([...postIds].reverse());
    expect(page.next_cursor).toBeNull();
    for (const n of page.data) expectEnvelope(n, 'new_post');
    const ids = page.data.map((n) => n.id);
    expect(new Set(ids).size).toBe(3);
    const times = page.data.map((n) => Date.parse(n.created_at));
    expect([...times].sort((x, y) => y - x)).toEqual(times);
  });

  it('should walk every page with limit and cursor without gaps or duplicates', async () => {
    const { reader, postIds } = await inboxWithPosts(7);
    const seen: Notification[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: { data: Notification[]; next_cursor: string | null } = await notifications(reader, cursor ? { limit: 3, cursor } : { limit: 3 });
      pages += 1;
      expect(page.data.length).toBeLessThanOrEqual(3);
      if (page.next_cursor !== null) expect(page.data.length).toBe(3);
      seen.push(...page.data);
      cursor = page.next_cursor;
      expect(pages).toBeLessThan(10);
    } while (cursor !== null);
    expect(pages).toBe(3);
    expect(seen.map((n) => n.data.id)).toEqual([...postIds].reverse());
    expect(new Set(seen.map((n) => n.id)).size).toBe(7);
    const all = await notifications(reader, { limit: 100 });
    expect(seen.map((n) => n.id)).toEqual(all.data.map((n) => n.id));
  });

  it('should end with next_cursor null when the page is exactly full', async () => {
    const { reader } = await inboxWithPosts(2);
    const page = await notifications(reader, { limit: 2 });
    expect(page.data).toHaveLength(2);
    expect(page.next_cursor).toBeNull();
  });

  it('should filter with ?unread=true and page through unread ones only', async () => {
    const { reader, postIds } = await inboxWithPosts(5);
    const all = (await notifications(reader)).data;
    // Read the 2nd and 4th newest.
    expect(await markRead(reader, [all[1]!.id, all[3]!.id])).toBe(3);
    const unread = await notifications(reader, 'unread=true');
    expect(unread.data.map((n) => n.id)).toEqual([all[0]!.id, all[2]!.id, all[4]!.id]);
    expect(unread.data.every((n) => n.read === false)).toBe(true);

    const first = await notifications(reader, { unread: 'true', limit: 2 });
    expect(first.data.map((n) => n.id)).toEqual([all[0]!.id, all[2]!.id]);
    expect(first.next_cursor).not.toBeNull();
    const second = await notifications(reader, { unread: 'true', limit: 2, cursor: first.next_cursor! });
    expect(second.data.map((n) => n.id)).toEqual([all[4]!.id]);
    expect(second.next_cursor).toBeNull();

    const everything = await notifications(reader, 'unread=false');
    expect(everything.data.map((n) => n.data.id)).toEqual([...postIds].reverse());
    expect(everything.data.map((n) => n.read)).toEqual([false, true, false, true, false]);
  });

  it('should answer 400 naming the field for a bad limit, cursor or unread', async () => {
    const user = await createUser();
    for (const limit of ['0', '101', '-1', 'abc', '2.5']) {
      await expectProblem(await call(`/notifications?limit=${limit}`, { token: user.accessToken }), 400, 'limit');
    }
    for (const cursor of ['garbage', 'WyJ4Il0', 'x'.repeat(65)]) {
      await expectProblem(await call(`/notifications?cursor=${cursor}`, { token: user.accessToken }), 400, 'cursor');
    }
    await expectProblem(await call('/notifications?unread=maybe', { token: user.accessToken }), 400, 'unread');
  });

  it('should accept limit bounds 1 and 100', async () => {
    const { reader } = await inboxWithPosts(2);
    expect((await notifications(reader, { limit: 1 })).data).toHaveLength(1);
    expect((await notifications(reader, { limit: 100 })).data).toHaveLength(2);
  });
});

describe('Unread count and mark read', () => {
  it('should count unread notifications and drop the count when some are marked read', async () => {
    const [author, reader] = await users(2);
    await follow(reader, author);
    const p1 = await post(author, 'a');
    const p2 = await post(author, 'b');
    const p3 = await post(author, 'c');
    await waitForCount(reader, 'new_post', 3);
    expect(await unreadCount(reader)).toBe(3);

    const listed = (await notifications(reader)).data;
    const target = listed.filter((n) => n.data.id === p1.id || n.data.id === p3.id).map((n) => n.id);
    expect(await markRead(reader, target)).toBe(1);
    expect(await unreadCount(reader)).toBe(1);
    const after = (await notifications(reader)).data;
    for (const n of after) expect(n.read).toBe(n.data.id !== p2.id ? true : false);

    // Marking again is harmless.
    expect(await markRead(reader, target)).toBe(1);
  });

  it('should mark everything read when no ids are given', async () => {
    const [author, r] = await users(2);
    await follow(r, author);
    await post(author, 'x');
    await post(author, 'y');
    await waitForCount(r, 'new_post', 2);
    expect(await markRead(r)).toBe(0);
    expect(await unreadCount(r)).toBe(0);
    expect((await notifications(r)).data.every((n) => n.read)).toBe(true);
    expect((await notifications(r, 'unread=true')).data).toEqual([]);
  });

  it('should ignore unknown ids and ids from someone else\'s inbox', async () => {
    const [a, b, c] = await users(3);
    await follow(b, a);
    await follow(a, c);
    const mine = await waitForNotification(a, 'new_follower');
    const theirs = await waitForNotification(c, 'new_follower');
    expect(await markRead(a, ['01ZZZZZZZZZZZZZZZZZZZZZZZZ', 'nope', theirs.id])).toBe(1);
    expect(await unreadCount(c)).toBe(1);
    expect(await markRead(a, [])).toBe(1);
    expect(await markRead(a, [mine.id, 'unknown'])).toBe(0);
  });

  it('should validate the mark-read body', async () => {
    const user = await createUser();
    await expectProblem(await call('/notifications/read', { token: user.accessToken, body: { ids: 'all' } }), 400, 'ids');
    await expectProblem(await call('/notifications/read', { token: user.accessToken, body: { ids: [42] } }), 400);
    await expectProblem(await call('/notifications/read', { token: user.accessToken, body: '{not json', headers: { 'Content-Type': 'application/json' } }), 400);
  });
});

describe('Notification routes authentication', () => {
  it('should answer 401 without a token on every notification route', async () => {
    await expectProblem(await call('/notifications'), 401);
    await expectProblem(await call('/notifications?unread=true'), 401);
    await expectProblem(await call('/notifications/unread_count'), 401);
    await expectProblem(await call('/notifications/read', { body: {} }), 401);
    await expectProblem(await call('/notifications/stream'), 401);
    const upgrade = await validatingFetch(`${BASE}/api/v1/notifications/stream`, { headers: { Upgrade: 'websocket' } });
    expect(upgrade.status).toBe(401);
    expect(upgrade.webSocket).toBeNull();
  });

  it('should answer 401 for a bad token on every notification route', async () => {
    const token = 'not-a-jwt';
    await expectProblem(await call('/notifications', { token }), 401);
    await expectProblem(await call('/notifications/unread_count', { token }), 401);
    await expectProblem(await call('/notifications/read', { token, body: {} }), 401);
    const upgrade = await validatingFetch(`${BASE}/api/v1/notifications/stream?token=${token}`, { headers: { Upgrade: 'websocket' } });
    expect(upgrade.status).toBe(401);
  });
});

describe('Offline recipients', () => {
  it('should keep notifications delivered while the user had no socket, and show them on the next visit', async () => {
    const [actor, offline] = await users(2);
    const request = await requestFriend(actor, offline);
    await follow(actor, offline);
    const p = await post(offline, 'from before');
    await like(actor, p.id);
    const c = await comment(actor, p.id, `hi @${offline.username}`);
    // Nobody of `offline` was connected; everything waits in the inbox.
    const types = await eventually(async () => {
      const page = await notifications(offline, 'limit=100');
      const t = page.data.map((n) => n.type).sort();
      expect(t).toEqual(['friend_request', 'mention', 'new_follower', 'post_comment', 'post_like']);
      return page.data;
    });
    expect(types.find((n) => n.type === 'friend_request')!.data.request_id).toBe(request.id);
    expect(types.find((n) => n.type === 'post_comment')!.data.comment_id).toBe(c.id);
    expect(types.find((n) => n.type === 'mention')!.data.comment_id).toBe(c.id);
    expect(types.every((n) => n.read === false)).toBe(true);
    expect(await unreadCount(offline)).toBe(5);
  });

  it('should store a notification that was also pushed live on an open notification socket', async () => {
    const [actor, online] = await users(2);
    const socket = await openNotifications(online);
    try {
      const request = await requestFriend(actor, online);
      await eventually(() => expect(socket.ofType('friend_request')).toHaveLength(1));
      const frame = socket.ofType('friend_request')[0];
      expect(frame.data.request_id).toBe(request.id);
      const [stored] = (await notifications(online)).data;
      expect(stored).toMatchObject({ id: frame.id, type: 'friend_request', read: false, created_at: frame.created_at, data: frame.data });
    } finally {
      socket.close();
    }
  });
});
