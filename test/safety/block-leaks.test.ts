import { describe, expect, it } from 'vitest';
import { call, expectProblem, expectStatus } from '../helpers/client';
import { act, createStaff } from '../moderation/helpers';
import { befriend, block, comment, follow, post, setVisibility, users } from '../notifications/helpers';

/**
 * Hostile-review findings about blocks and suspensions: paths by which one side of a block kept
 * learning about the other, or by which a suspended account could be told apart from a deleted one.
 */

describe('Relations with a suspended account', () => {
  it('should answer every relation endpoint as for an account that does not exist', async () => {
    const [target, follower, friend, muter, blocker, owner] = await users(6);
    await follow(follower, target);
    await befriend(friend, target);
    await expectStatus(await call(`/users/${target.id}/mute`, { method: 'POST', token: muter.accessToken }), 200);
    await block(blocker, target);
    await setVisibility(owner, 'private');
    await follow(target, owner);
    const asked = await expectStatus(await call('/friends/requests', { token: target.accessToken, body: { user_id: owner.id } }), 201);
    const staff = await createStaff('moderator');
    await act(staff, target, 'suspend');

    const missing = '01JC6Z1W3R2J4D5E6F7G8H9J0K';
    for (const id of [missing, target.id]) {
      await expectProblem(await call(`/users/${id}/follow`, { method: 'DELETE', token: follower.accessToken }), 404);
      await expectProblem(await call(`/friends/${id}`, { method: 'DELETE', token: friend.accessToken }), 404);
      await expectProblem(await call(`/users/${id}/mute`, { method: 'DELETE', token: muter.accessToken }), 404);
      await expectProblem(await call(`/users/${id}/block`, { method: 'POST', token: follower.accessToken }), 404);
      await expectProblem(await call(`/users/${id}/block`, { method: 'DELETE', token: blocker.accessToken }), 404);
      await expectProblem(await call(`/follow_requests/${id}/accept`, { method: 'POST', token: owner.accessToken }), 404);
      await expectProblem(await call(`/follow_requests/${id}/reject`, { method: 'POST', token: owner.accessToken }), 404);
    }
    await expectProblem(await call(`/friends/requests/${asked.id}/accept`, { method: 'POST', token: owner.accessToken }), 404);
    await expectProblem(await call(`/friends/requests/${asked.id}/decline`, { method: 'POST', token: owner.accessToken }), 404);
    // Lists leave it out, as they would a deleted account, the block list and mute list included.
    const blocks = await expectStatus(await call('/me/blocks', { token: blocker.accessToken }), 200);
    expect(blocks.data.map((e: { user: { id: string } }) => e.user.id)).not.toContain(target.id);
    const mutes = await expectStatus(await call('/me/mutes', { token: muter.accessToken }), 200);
    expect(mutes.data.map((e: { user: { id: string } }) => e.user.id)).not.toContain(target.id);

    // Nothing was undone meanwhile: once the suspension is lifted, every relation is there to manage.
    await act(staff, target, 'unsuspend');
    const back = await expectStatus(await call('/me/blocks', { token: blocker.accessToken }), 200);
    expect(back.data.map((e: { user: { id: string } }) => e.user.id)).toContain(target.id);
    await expectProblem(await call(`/users/${target.id}`, { token: blocker.accessToken }), 404);
    await expectStatus(await call(`/users/${target.id}/block`, { method: 'DELETE', token: blocker.accessToken }), 204);
    await expectStatus(await call(`/friends/requests/${asked.id}/accept`, { method: 'POST', token: owner.accessToken }), 200);
    await expectStatus(await call(`/follow_requests/${target.id}/accept`, { method: 'POST', token: owner.accessToken }), 200);
    expect(await expectStatus(await call(`/users/${target.id}/follow`, { method: 'DELETE', token: follower.accessToken }), 200)).toEqual({ following: false, requested: false });
  });
});

describe('Replies under a hidden comment', () => {
  it('should answer 404 for the thread of a comment whose author blocks the caller, or whom the caller blocks', async () => {
    const [author, commenter, replier, blocked, blocking] = await users(5);
    const p = await post(author, 'a public post');
    const top = await comment(commenter, p.id, 'a top-level comment');
    const reply = await comment(replier, p.id, 'a reply under it', top.id);
    await block(commenter, blocked);
    await block(blocking, commenter);
    for (const viewer of [blocked, blocking]) {
      const listed = await expectStatus(await call(`/posts/${p.id}/comments`, { token: viewer.accessToken }), 200);
      expect(listed.data.map((k: { id: string }) => k.id)).not.toContain(top.id);
      await expectProblem(await call(`/posts/${p.id}/comments?parent_id=${top.id}`, { token: viewer.accessToken }), 404, 'parent_id');
      await expectProblem(await call(`/posts/${p.id}/comments`, { token: viewer.accessToken, body: { content: 'me too', parent_id: top.id } }), 404, 'parent_id');
      // The reply itself, though its author is visible, lives in a thread the caller cannot see.
      await expectProblem(await call('/reports', { token: viewer.accessToken, body: { subject_type: 'comment', subject_id: reply.id, category: 'spam' } }), 404);
    }
    // Everyone else still reads the thread.
    const thread = await expectStatus(await call(`/posts/${p.id}/comments?parent_id=${top.id}`, { token: author.accessToken }), 200);
    expect(thread.data.map((k: { id: string }) => k.id)).toEqual([reply.id]);
  });

  it('should answer 404 for the thread of a suspended account\'s comment, as for a deleted one', async () => {
    const [author, commenter, replier, reader] = await users(4);
    const p = await post(author, 'another public post');
    const top = await comment(commenter, p.id, 'soon suspended');
    await comment(replier, p.id, 'a reply', top.id);
    await act(await createStaff('moderator'), commenter, 'suspend');
    for (const viewer of [reader, author]) {
      await expectProblem(await call(`/posts/${p.id}/comments?parent_id=${top.id}`, { token: viewer.accessToken }), 404, 'parent_id');
      await expectProblem(await call(`/posts/${p.id}/comments`, { token: viewer.accessToken, body: { content: 'reply to nobody', parent_id: top.id } }), 404, 'parent_id');
    }
    await expectProblem(await call(`/posts/${p.id}/comments?parent_id=${top.id}`), 404, 'parent_id');
  });
});
