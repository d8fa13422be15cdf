import { describe, expect, it } from 'vitest';
import { call, expectProblem } from '../helpers/client';
import { befriend, block, expectNone, follow, post, quiet, setVisibility, users, waitForNotification } from '../notifications/helpers';

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
});
