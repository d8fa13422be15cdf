import { describe, expect, it } from 'vitest';
import { call, expectProblem, expectStatus } from '../helpers/client';
import { act, createStaff } from '../moderation/helpers';
import { block, comment, post, users } from '../notifications/helpers';

/**
 * Hostile-review findings about blocks and suspensions: paths by which one side of a block kept
 * learning about the other, or by which a suspended account could be told apart from a deleted one.
 */

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
