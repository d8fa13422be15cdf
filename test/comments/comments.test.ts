import { describe, expect, it } from 'vitest';
import { call, createUser, expectProblem, expectStatus } from '../helpers/client';
import {
  block,
  collect,
  comment,
  commentRaw,
  COMMENT_KEYS,
  dbCount,
  deleteComment,
  getPost,
  ISO,
  listComments,
  makeFriends,
  post,
  PUBLIC_USER_KEYS,
  ULID,
  UNKNOWN_ID,
  users,
} from '../posts/helpers';

const tick = () => new Promise((r) => setTimeout(r, 2));
const postCounts = async (id: string) => {
  const p = await expectStatus(await getPost(id), 200);
  return p.comment_count as number;
};
const replyCount = (id: string) => dbCount('SELECT reply_count AS n FROM comments WHERE id = ?1', id);

describe('Create comment', () => {
  it('should answer 201 with the comment shape', async () => {
    const author = await createUser();
    const commenter = await createUser({ display_name: 'Commenter' });
    const p = await post(author, 'talk to me');
    const c = await expectStatus(await commentRaw(commenter, p.id, { content: '  Beautifully put.  ' }), 201);
    expect(Object.keys(c).sort()).toEqual(COMMENT_KEYS);
    expect(c).toEqual({
      id: expect.stringMatching(ULID),
      post_id: p.id,
      parent_id: null,
      author: { id: commenter.id, username: commenter.username, display_name: 'Commenter', avatar_url: null, bio: expect.any(String), is_verified: false },
      content: 'Beautifully put.',
      reply_count: 0,
      created_at: expect.stringMatching(ISO),
    });
    expect(Object.keys(c.author).sort()).toEqual(PUBLIC_USER_KEYS);
    expect(await postCounts(p.id)).toBe(1);
  });

  it('should refuse blank, missing, non-string and over-long content naming content', async () => {
    const author = await createUser();
    const p = await post(author, 'x');
    await expectProblem(await commentRaw(author, p.id, { content: '' }), 400, 'content');
    await expectProblem(await commentRaw(author, p.id, { content: '  \n ' }), 400, 'content');
    await expectProblem(await commentRaw(author, p.id, {}), 400, 'content');
    await expectProblem(await commentRaw(author, p.id, { content: 5 }), 400, 'content');
    await expectProblem(await commentRaw(author, p.id, { content: 'z'.repeat(2001) }), 400, 'content');
    const max = await comment(author, p.id, 'z'.repeat(2000));
    expect(max.content).toHaveLength(2000);
    expect(await postCounts(p.id)).toBe(1);
  });

  it('should require authentication and answer 404 for unknown posts', async () => {
    const u = await createUser();
    const p = await post(u, 'x');
    await expectProblem(await call(`/posts/${p.id}/comments`, { body: { content: 'anon' } }), 401);
    await expectProblem(await commentRaw(u, UNKNOWN_ID, { content: 'nowhere' }), 404);
    await expectProblem(await commentRaw(u, 'bad-id', { content: 'nowhere' }), 400);
  });

  it('should let a blocked user neither comment nor reply (404), in either direction', async () => {
    const author = await createUser();
    const [blocked, blocker] = await users(2);
    const p = await post(author, 'no trolls');
    const top = await comment(author, p.id, 'opening');
    await block(author, blocked!);
    await block(blocker!, author);
    await expectProblem(await commentRaw(blocked!, p.id, { content: 'let me in' }), 404);
    await expectProblem(await commentRaw(blocker!, p.id, { content: 'let me in' }), 404);
    await expectProblem(await commentRaw(blocked!, p.id, { content: 'reply', parent_id: top.id }), 404);
    expect(await postCounts(p.id)).toBe(1);
  });

  it("should refuse a reply to a comment by someone on the other side of a block", async () => {
    const author = await createUser();
    const [troll, victim] = await users(2);
    const p = await post(author, 'public square');
    const trollComment = await comment(troll!, p.id, 'hot take');
    await block(victim!, troll!);
    await expectProblem(await commentRaw(victim!, p.id, { content: 'reply', parent_id: trollComment.id }), 404, 'parent_id');
  });
});

describe('Replies', () => {
  it('should reply to a top-level comment, counting it on the post and the parent', async () => {
    const author = await createUser();
    const [c1, c2] = await users(2);
    const p = await post(author, 'thread');
    const top = await comment(c1!, p.id, 'top-level');
    const r1 = await comment(c2!, p.id, 'first reply', top.id);
    expect(r1).toMatchObject({ post_id: p.id, parent_id: top.id, reply_count: 0 });
    await comment(author, p.id, 'second reply', top.id);
    expect(await replyCount(top.id)).toBe(2);
    expect(await postCounts(p.id)).toBe(3);
    const listed = await expectStatus(await listComments(p.id), 200);
    expect(listed.data).toHaveLength(1);
    expect(listed.data[0]).toMatchObject({ id: top.id, reply_count: 2 });
  });

  it('should refuse a reply to a reply with 400 naming parent_id', async () => {
    const author = await createUser();
    const p = await post(author, 'flat threads');
    const top = await comment(author, p.id, 'top');
    const reply = await comment(author, p.id, 'reply', top.id);
    await expectProblem(await commentRaw(author, p.id, { content: 'nested', parent_id: reply.id }), 400, 'parent_id');
    expect(await replyCount(reply.id)).toBe(0);
    expect(await postCounts(p.id)).toBe(2);
  });

  it('should answer 404 naming parent_id for a parent on another post or an unknown parent', async () => {
    const author = await createUser();
    const p1 = await post(author, 'one');
    const p2 = await post(author, 'two');
    const onP1 = await comment(author, p1.id, 'on one');
    await expectProblem(await commentRaw(author, p2.id, { content: 'cross-post', parent_id: onP1.id }), 404, 'parent_id');
    await expectProblem(await commentRaw(author, p2.id, { content: 'ghost', parent_id: UNKNOWN_ID }), 404, 'parent_id');
    await expectProblem(await commentRaw(author, p2.id, { content: 'bad', parent_id: 'not-an-id' }), 400, 'parent_id');
    expect(await postCounts(p2.id)).toBe(0);
    expect(await replyCount(onP1.id)).toBe(0);
  });

  it('should treat parent_id null as a top-level comment', async () => {
    const author = await createUser();
    const p = await post(author, 'x');
    const c = await expectStatus(await commentRaw(author, p.id, { content: 'top', parent_id: null }), 201);
    expect(c.parent_id).toBeNull();
  });
});

describe('List comments', () => {
  it('should list top-level comments oldest first, and replies with ?parent_id', async () => {
    const author = await createUser();
    const [u1, u2] = await users(2);
    const p = await post(author, 'ordering');
    const t1 = await comment(u1!, p.id, 't1');
    await tick();
    const t2 = await comment(u2!, p.id, 't2');
    await tick();
    const r1 = await comment(author, p.id, 'r1', t1.id);
    await tick();
    const t3 = await comment(author, p.id, 't3');
    await tick();
    const r2 = await comment(u2!, p.id, 'r2', t1.id);
    const top = await expectStatus(await listComments(p.id), 200);
    expect(top.data.map((c: any) => c.id)).toEqual([t1.id, t2.id, t3.id]);
    expect(top.next_cursor).toBeNull();
    for (const c of top.data) expect(Object.keys(c).sort()).toEqual(COMMENT_KEYS);
    const replies = await expectStatus(await listComments(p.id, undefined, `?parent_id=${t1.id}`), 200);
    expect(replies.data.map((c: any) => c.id)).toEqual([r1.id, r2.id]);
    expect(replies.data.every((c: any) => c.parent_id === t1.id)).toBe(true);
    const none = await expectStatus(await listComments(p.id, author, `?parent_id=${t2.id}`), 200);
    expect(none.data).toEqual([]);
  });

  it('should paginate with cursors, oldest first, without gaps or repeats', async () => {
    const author = await createUser();
    const p = await post(author, 'many comments');
    const created: string[] = [];
    for (let i = 0; i < 7; i++) {
      created.push((await comment(author, p.id, `c${i}`)).id);
      await tick();
    }
    const first = await expectStatus(await listComments(p.id, undefined, '?limit=3'), 200);
    expect(first.data).toHaveLength(3);
    expect(first.next_cursor).toEqual(expect.any(String));
    const all = await collect((q) => listComments(p.id, undefined, q), 3);
    expect(all.map((c) => c.id)).toEqual(created);
    await expectProblem(await listComments(p.id, undefined, '?cursor=%%%'), 400);
    await expectProblem(await listComments(p.id, undefined, '?parent_id=nope'), 400, 'parent_id');
  });

  it("should hide blocked users' comments from the blocker's listing, and the blocker's from theirs", async () => {
    const author = await createUser();
    const [viewer, troll, bystander] = await users(3);
    const p = await post(author, 'public discussion');
    const good = await comment(bystander!, p.id, 'good point');
    const bad = await comment(troll!, p.id, 'bad take');
    const mine = await comment(viewer!, p.id, 'my view');
    const trollReply = await comment(troll!, p.id, 'reply from troll', good.id);
    await block(viewer!, troll!);
    const seen = await collect((q) => listComments(p.id, viewer, q));
    expect(seen.map((c) => c.id)).toEqual([good.id, mine.id]);
    const seenReplies = await collect((q) => listComments(p.id, viewer, `${q}&parent_id=${good.id}`));
    expect(seenReplies).toEqual([]);
    const trollSees = await collect((q) => listComments(p.id, troll, q));
    expect(trollSees.map((c) => c.id)).toEqual([good.id, bad.id]);
    const anonSees = await collect((q) => listComments(p.id, undefined, q));
    expect(anonSees.map((c) => c.id)).toEqual([good.id, bad.id, mine.id]);
    const bystanderReplies = await collect((q) => listComments(p.id, bystander, `${q}&parent_id=${good.id}`));
    expect(bystanderReplies.map((c) => c.id)).toEqual([trollReply.id]);
  });

  it('should answer 404 for a post the caller may not see', async () => {
    const author = await createUser();
    const [friend, stranger] = await users(2);
    await makeFriends(author, friend!);
    const p = await post(author, { content: 'friends only', visibility: 'friends' });
    await comment(friend!, p.id, 'as a friend');
    expect((await expectStatus(await listComments(p.id, friend), 200)).data).toHaveLength(1);
    await expectProblem(await listComments(p.id, stranger), 404);
    await expectProblem(await listComments(p.id), 404);
    await expectProblem(await listComments(UNKNOWN_ID), 404);
  });
});

describe('Delete comment', () => {
  it("should let the comment's author delete it (204) and lower comment_count", async () => {
    const author = await createUser();
    const commenter = await createUser();
    const p = await post(author, 'x');
    const c = await comment(commenter, p.id, 'oops');
    expect(await postCounts(p.id)).toBe(1);
    await expectStatus(await deleteComment(commenter, c.id), 204);
    expect(await postCounts(p.id)).toBe(0);
    expect((await expectStatus(await listComments(p.id), 200)).data).toEqual([]);
    await expectProblem(await deleteComment(commenter, c.id), 404);
  });

  it("should let the post's author delete anyone's comment", async () => {
    const author = await createUser();
    const commenter = await createUser();
    const p = await post(author, 'my thread, my rules');
    const c = await comment(commenter, p.id, 'spam');
    await expectStatus(await deleteComment(author, c.id), 204);
    expect(await postCounts(p.id)).toBe(0);
  });

  it('should answer 403 to others who can see the post, 404 to those who cannot', async () => {
    const author = await createUser();
    const [commenter, other, friend] = await users(3);
    await makeFriends(author, friend!);
    const p = await post(author, 'public');
    const c = await comment(commenter!, p.id, 'mine');
    await expectProblem(await deleteComment(other!, c.id), 403);
    const fp = await post(author, { content: 'friends', visibility: 'friends' });
    const fc = await comment(friend!, fp.id, 'among friends');
    await expectProblem(await deleteComment(other!, fc.id), 404);
    await expectProblem(await deleteComment(other!, UNKNOWN_ID), 404);
    await expectProblem(await call(`/comments/${c.id}`, { method: 'DELETE' }), 401);
    expect(await postCounts(p.id)).toBe(1);
  });

  it("should not let the commenter of a reply delete the parent, nor the parent's author delete the reply", async () => {
    const author = await createUser();
    const [c1, c2] = await users(2);
    const p = await post(author, 'x');
    const top = await comment(c1!, p.id, 'top');
    const reply = await comment(c2!, p.id, 'reply', top.id);
    await expectProblem(await deleteComment(c2!, top.id), 403);
    await expectProblem(await deleteComment(c1!, reply.id), 403);
  });

  it('should delete the replies with a top-level comment and lower comment_count by all of them', async () => {
    const author = await createUser();
    const [c1, c2] = await users(2);
    const p = await post(author, 'thread');
    const top = await comment(c1!, p.id, 'top');
    const other = await comment(c2!, p.id, 'another top');
    await comment(c2!, p.id, 'r1', top.id);
    await comment(author, p.id, 'r2', top.id);
    await comment(c1!, p.id, 'r3', top.id);
    const keptReply = await comment(c1!, p.id, 'kept reply', other.id);
    expect(await postCounts(p.id)).toBe(6);
    await expectStatus(await deleteComment(c1!, top.id), 204);
    expect(await postCounts(p.id)).toBe(2);
    expect(await dbCount('SELECT COUNT(*) AS n FROM comments WHERE post_id = ?1', p.id)).toBe(2);
    expect(await dbCount('SELECT COUNT(*) AS n FROM comments WHERE parent_id = ?1', top.id)).toBe(0);
    const left = await expectStatus(await listComments(p.id), 200);
    expect(left.data.map((c: any) => c.id)).toEqual([other.id]);
    expect(left.data[0].reply_count).toBe(1);
    // A deleted parent answers like a hidden one: 404 (an empty page would tell the two apart).
    await expectProblem(await listComments(p.id, undefined, `?parent_id=${top.id}`), 404, 'parent_id');
    expect(keptReply.parent_id).toBe(other.id);
  });

  it('should lower reply_count on the parent when a reply is deleted', async () => {
    const author = await createUser();
    const c1 = await createUser();
    const p = await post(author, 'x');
    const top = await comment(c1, p.id, 'top');
    const r1 = await comment(author, p.id, 'r1', top.id);
    await comment(c1, p.id, 'r2', top.id);
    expect(await replyCount(top.id)).toBe(2);
    await expectStatus(await deleteComment(author, r1.id), 204);
    expect(await replyCount(top.id)).toBe(1);
    expect(await postCounts(p.id)).toBe(2);
    const listed = await expectStatus(await listComments(p.id), 200);
    expect(listed.data[0].reply_count).toBe(1);
  });
});

describe('Comment counter consistency', () => {
  it('should keep comment_count equal to the rows through concurrent comments and deletes', async () => {
    const author = await createUser();
    const people = await users(6);
    const p = await post(author, 'busy thread');
    const top = await comment(author, p.id, 'anchor');
    const created = await Promise.all(
      people.flatMap((u, i) => [comment(u, p.id, `top ${i}`), comment(u, p.id, `reply ${i}`, top.id)]),
    );
    expect(await postCounts(p.id)).toBe(13);
    expect(await replyCount(top.id)).toBe(6);
    // Delete half of them concurrently, each by its author.
    await Promise.all(
      created.filter((_, i) => i % 2 === 1).map((c) => {
        const owner = people.find((u) => u.id === c.author.id)!;
        return deleteComment(owner, c.id).then((r) => expectStatus(r, 204));
      }),
    );
    const rows = await dbCount('SELECT COUNT(*) AS n FROM comments WHERE post_id = ?1', p.id);
    expect(rows).toBe(7);
    expect(await postCounts(p.id)).toBe(rows);
    expect(await replyCount(top.id)).toBe(0);
  });
});
