import { describe, expect, it } from 'vitest';
import { call, expectProblem, expectStatus } from '../helpers/client';
import { act, createStaff } from '../moderation/helpers';
import { upload } from '../posts/helpers';
import { nonsenseWord, search } from '../search/helpers';
import { openSocket, settle } from '../messaging/socket-helpers';
import { befriend, block, comment, expectNone, follow, like, notifications, post, quiet, setVisibility, users, waitForCount, waitForNotification } from '../notifications/helpers';

/**
 * Hostile-review findings: each case is a path by which someone could see what the rules stage
 * (canViewPost) or the user visibility predicate hides from them.
 */
describe('Privacy review', () => {
  it("should not send new_post about a wall post to the author's followers who may not see that wall", async () => {
    const [writer, owner, outsider, insider] = await users(4);
    await setVisibility(owner, 'private');
    await befriend(owner, writer);
    await befriend(owner, insider);
    await follow(outsider, writer);
    await follow(insider, writer);
    const p = await post(writer, { content: 'a secret for the private wall', target_user_id: owner.id });
    // The outsider may not read the post (a private account's wall is for its followers and friends) ...
    await expectProblem(await call(`/posts/${p.id}`, { token: outsider.accessToken }), 404);
    // ... so no notification may quote it to them; the insider, who may read it, is told.
    await waitForNotification(insider, 'new_post', (n) => n.data.id === p.id);
    await quiet(150);
    await expectNone(outsider, 'new_post', (n) => n.data.id === p.id);
  });

  it("should not send new_post about a wall post to someone the wall's owner blocked", async () => {
    const [writer, owner, blocked, reader] = await users(4);
    await befriend(owner, writer);
    await follow(blocked, writer);
    await follow(reader, writer);
    await block(owner, blocked);
    const p = await post(writer, { content: 'on a wall that blocks you', target_user_id: owner.id });
    await expectProblem(await call(`/posts/${p.id}`, { token: blocked.accessToken }), 404);
    await waitForNotification(reader, 'new_post', (n) => n.data.id === p.id);
    await quiet(150);
    await expectNone(blocked, 'new_post', (n) => n.data.id === p.id);
    expect(p.target_user.id).toBe(owner.id);
  });

  it("should take a blocked person's notifications (their words, their profile) out of both inboxes", async () => {
    const [author, friend, bystander] = await users(3);
    await befriend(author, friend);
    const p = await post(author, 'words only my friends may read');
    await waitForNotification(friend, 'new_post', (n) => n.data.id === p.id);
    const mine = await post(friend, 'a post for likes');
    await like(author, mine.id);
    await like(bystander, mine.id);
    await waitForNotification(friend, 'post_like', (n) => n.data.count === 2);
    await block(author, friend);
    // The blocked side no longer reads the blocker's words or profile in its inbox ...
    await waitForCount(friend, 'new_post', 0, (n) => n.data.id === p.id);
    const likes = await waitForNotification(friend, 'post_like', (n) => n.data.post_id === mine.id && n.data.count === 1);
    expect(likes.data.actors.map((a: { id: string }) => a.id)).toEqual([bystander.id]);
    expect(likes.data.user.id).toBe(bystander.id);
    // ... and the blocker no longer sees the blocked person anywhere in theirs.
    const page = await notifications(author, 'limit=100');
    expect(JSON.stringify(page.data)).not.toContain(friend.id);
  });

  it('should answer every approach to a suspended account as to one that does not exist', async () => {
    const [suspended, stranger] = await users(2);
    await expectStatus(await call('/me', { method: 'PATCH', token: suspended.accessToken, body: { wall_policy: 'everyone' } }), 200);
    await act(await createStaff('moderator'), suspended, 'suspend');
    await expectProblem(await call(`/users/${suspended.id}`, { token: stranger.accessToken }), 404);
    // Reaching out must not tell the account apart from a missing one, nor land anything on it.
    await expectProblem(await call(`/users/${suspended.id}/follow`, { method: 'POST', token: stranger.accessToken }), 404);
    await expectProblem(await call('/friends/requests', { token: stranger.accessToken, body: { user_id: suspended.id } }), 404);
    await expectProblem(await call('/messages', { token: stranger.accessToken, body: { receiver_id: suspended.id, content: 'are you there?' } }), 404);
    await expectProblem(await call('/conversations', { token: stranger.accessToken, body: { participant_ids: [suspended.id] } }), 404);
    await expectProblem(await call('/posts', { token: stranger.accessToken, body: { content: 'on your wall', target_user_id: suspended.id } }), 404);
  });

  it('should not send comment_reply to the author of the answered comment once they may no longer see the post', async () => {
    const [author, former, friend] = await users(3);
    await befriend(author, former);
    await befriend(author, friend);
    const p = await post(author, { content: 'for my friends', visibility: 'friends' });
    const first = await comment(former, p.id, 'first!');
    await expectStatus(await call(`/friends/${former.id}`, { method: 'DELETE', token: author.accessToken }), 204);
    await expectProblem(await call(`/posts/${p.id}`, { token: former.accessToken }), 404);
    const reply = await comment(friend, p.id, 'a reply under it', first.id);
    await waitForNotification(author, 'post_comment', (n) => n.data.comment_id === reply.id);
    await quiet(150);
    await expectNone(former, 'comment_reply', (n) => n.data.post_id === p.id);
  });

  it("should not let anyone find out whether another account uploaded a given image by guessing its address", async () => {
    const [victim, prober] = await users(2);
    const theirs = await upload(victim, 'png');
    const probe = await upload(prober, 'png');
    // The prober knows the image and the victim's id, never the victim's address for it.
    const guessed = probe.url.replace(prober.id, victim.id);
    expect(guessed).not.toBe(theirs.url);
    await expectProblem(await call(guessed), 404);
  });
  it('should not hand out, in a cursor, the id of a post the caller may not see', async () => {
    const [author, stranger] = await users(2);
    const word = nonsenseWord();
    const hidden = [];
    for (let i = 0; i < 8; i++) hidden.push((await post(author, { content: `${word} number ${i}`, visibility: 'friends' })).id);
    const decode = (cursor: string | null) => (cursor ? atob(cursor.replace(/-/g, '+').replace(/_/g, '/')) : '');
    // Searching for words of posts one may not read says nothing about them ...
    const found = await search(stranger, word, 'posts', '&limit=1');
    expect(found.data).toEqual([]);
    expect(hidden.filter((id) => decode(found.next_cursor).includes(id))).toEqual([]);
    // ... nor does reading a wall whose posts one may not read.
    const wall = await expectStatus(await call(`/users/${author.id}/wall?limit=1`, { token: stranger.accessToken }), 200);
    expect(wall.data).toEqual([]);
    expect(wall.next_cursor).not.toBeNull();
    expect(hidden.filter((id) => decode(wall.next_cursor).includes(id))).toEqual([]);
    // The sealed cursor still pages on, and only a cursor Kith made is taken.
    await expectStatus(await call(`/users/${author.id}/wall?limit=1&cursor=${wall.next_cursor}`, { token: stranger.accessToken }), 200);
    const friend = await expectStatus(await call(`/users/${author.id}/wall?limit=8`, { token: author.accessToken }), 200);
    expect(friend.data.map((p: { id: string }) => p.id)).toEqual([...hidden].reverse());
    await expectProblem(await call(`/users/${author.id}/wall?limit=1&cursor=${btoa(JSON.stringify([Date.now(), hidden[0]]))}`, { token: stranger.accessToken }), 400, 'cursor');
  });

  it("should not show a suspended account as a community's creator", async () => {
    const [creator, reader] = await users(2);
    const community = await expectStatus(await call('/communities', { token: creator.accessToken, body: { name: `Suspended founder ${Date.now()}` } }), 201);
    expect(community.created_by.id).toBe(creator.id);
    await act(await createStaff('moderator'), creator, 'suspend');
    expect((await expectStatus(await call(`/communities/${community.id}`, { token: reader.accessToken }), 200)).created_by).toBeNull();
    expect((await expectStatus(await call(`/communities/${community.id}`), 200)).created_by).toBeNull();
  });

  it('should not tell a stranger that their message request was read until it is accepted', async () => {
    const [stranger, target] = await users(2);
    const sent = await expectStatus(await call('/messages', { token: stranger.accessToken, body: { receiver_id: target.id, content: 'hello, do you read me?' } }), 201);
    const conversationId = sent.conversation_id;
    const socket = await openSocket(conversationId, stranger.accessToken);
    const own = await openSocket(conversationId, target.accessToken);
    try {
      own.send({ type: 'typing' });
      await expectStatus(await call(`/conversations/${conversationId}/read`, { token: target.accessToken, body: {} }), 200);
      // The target's own devices learn the read position; the stranger learns nothing (nor of typing).
      await own.next((f) => f.type === 'read' && f.user_id === target.id, "the target's own read");
      await settle();
      expect(socket.ofType('read').filter((f) => f.user_id === target.id)).toEqual([]);
      expect(socket.ofType('typing')).toEqual([]);
      // Once accepted, reads are shared as in any conversation.
      await expectStatus(await call(`/conversations/${conversationId}/accept`, { method: 'POST', token: target.accessToken }), 200);
      await expectStatus(await call(`/conversations/${conversationId}/messages`, { token: stranger.accessToken, body: { content: 'thanks!' } }), 201);
      await expectStatus(await call(`/conversations/${conversationId}/read`, { token: target.accessToken, body: {} }), 200);
      await socket.next((f) => f.type === 'read' && f.user_id === target.id, 'the read after accepting');
    } finally {
      socket.close();
      own.close();
    }
  });
});
