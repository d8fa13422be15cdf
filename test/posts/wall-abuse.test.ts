import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { REACH, reachKey } from '../../src/policy/reach';
import { call, createUser, expectProblem, expectStatus } from '../helpers/client';
import { act, createStaff } from '../moderation/helpers';
import { comment, createPostRaw, deleteComment, follow, ids, makeFriends, post, setWallPolicy, wall } from './helpers';

/**
 * Walls used to reach people who never asked: a silenced account, a stranger flooding open walls, and
 * the wall owner's say over what is written under posts on their wall.
 */
describe('Wall posts against abuse', () => {
  it('should let a silenced account write only on the walls of people who follow or befriend it', async () => {
    const [staff, quiet, stranger, fan] = [await createStaff(), await createUser(), await createUser(), await createUser()];
    await setWallPolicy(stranger, 'everyone');
    await setWallPolicy(fan, 'everyone');
    await follow(fan, quiet);
    await act(staff, quiet, 'silence');
    const refused = await expectProblem(await createPostRaw(quiet, { content: 'hello from the shadows', target_user_id: stranger.id }), 403);
    expect(refused.detail).toMatch(/silenced/);
    expect(await ids(await wall(stranger, stranger))).toEqual([]);
    // Someone who follows it still sees its posts, so it may write there.
    const ok = await post(quiet, { content: 'hello fan', target_user_id: fan.id });
    expect(await ids(await wall(fan, fan))).toEqual([ok.id]);
  });

  it("should cap a stranger's posts on open walls per day (429 with Retry-After), not those of people the owner knows", async () => {
    const [owner, stranger, friend] = [await createUser(), await createUser(), await createUser()];
    await setWallPolicy(owner, 'everyone');
    await makeFriends(owner, friend);
    const first = await post(stranger, { content: 'first wall post', target_user_id: owner.id });
    const key = reachKey('wall_post', stranger.id);
    expect(await env.DB.prepare('SELECT count FROM auth_throttles WHERE key = ?1').bind(key).first('count')).toBe(1);
    // The rest of the day's budget spent elsewhere (as many walls as it takes).
    await env.DB.prepare('UPDATE auth_throttles SET count = ?2 WHERE key = ?1').bind(key, REACH.wall_post.max).run();
    const res = await createPostRaw(stranger, { content: 'one more', target_user_id: owner.id });
    await expectProblem(res, 429);
    expect(Number(res.headers.get('Retry-After'))).toBeGreaterThan(60 * 60);
    expect(await ids(await wall(owner, owner))).toEqual([first.id]);
    // Their own posts, and the owner's friends' wall posts, are not limited.
    await post(stranger, 'my own wall');
    await post(friend, { content: 'from a friend', target_user_id: owner.id });
    await follow(owner, stranger);
    await post(stranger, { content: 'now you follow me', target_user_id: owner.id });
  });

  it('should let the wall owner delete comments under posts on their wall', async () => {
    const [owner, friend, troll] = [await createUser(), await createUser(), await createUser()];
    await makeFriends(owner, friend);
    const onWall = await post(friend, { content: 'happy birthday', target_user_id: owner.id });
    const nasty = await comment(troll, onWall.id, 'nasty words');
    await expectStatus(await deleteComment(owner, nasty.id), 204);
    const page = await expectStatus(await call(`/posts/${onWall.id}/comments`, { token: owner.accessToken }), 200);
    expect(page.data).toEqual([]);
    // Not under someone else's post elsewhere.
    const elsewhere = await post(friend, 'on my own wall');
    const other = await comment(troll, elsewhere.id, 'more words');
    await expectProblem(await deleteComment(owner, other.id), 403);
  });
});
