import { describe, expect, it } from 'vitest';
import { createUser, expectProblem, expectStatus } from '../helpers/client';
import { addRule, autoReportAbout, createStaff, nonsenseWord, resolve } from '../moderation/helpers';
import { comment, commentRaw, dbCount, deleteComment, getPost, listComments, post } from '../posts/helpers';

/** As an anonymous reader sees it (through the edge cache, which a release must purge). */
const commentCount = async (id: string) => (await expectStatus(await getPost(id), 200)).comment_count as number;
const replyCount = (id: string) => dbCount('SELECT reply_count AS n FROM comments WHERE id = ?1', id);

/** Held comments are seen by their author and staff only: the counts everyone reads must not show them. */
describe('Comment counts and held comments', () => {
  it('should count a held comment or reply only once it is released, and never below zero', async () => {
    const staff = await createStaff();
    const holdWord = nonsenseWord('hc');
    await addRule(staff, holdWord, 'hold');
    const [author, reader, other] = [await createUser(), await createUser(), await createUser()];
    const parent = await post(author, 'counting');
    const top = await comment(other, parent.id, 'a fine thought');
    const heldReply = await expectStatus(await commentRaw(reader, parent.id, { content: `${holdWord} indeed`, parent_id: top.id }), 201);
    const heldTop = await expectStatus(await commentRaw(reader, parent.id, { content: `more ${holdWord}` }), 201);
    expect([heldReply.held, heldTop.held]).toEqual([true, true]);
    // Everyone else reads one comment and no reply, as the lists show them.
    expect(await commentCount(parent.id)).toBe(1);
    expect(await replyCount(top.id)).toBe(0);
    expect((await expectStatus(await listComments(parent.id, author, `?parent_id=${top.id}`), 200)).data).toEqual([]);
    // Released: counted from then on.
    await resolve(staff, (await autoReportAbout(staff, heldTop.id)).id, { action: 'none' });
    expect(await commentCount(parent.id)).toBe(2);
    await resolve(staff, (await autoReportAbout(staff, heldReply.id)).id, { action: 'none' });
    expect(await commentCount(parent.id)).toBe(3);
    expect(await replyCount(top.id)).toBe(1);
    // Deleting a comment still held takes nothing off.
    const stillHeld = await expectStatus(await commentRaw(reader, parent.id, { content: `${holdWord} again` }), 201);
    expect(await commentCount(parent.id)).toBe(3);
    await expectStatus(await deleteComment(reader, stillHeld.id), 204);
    expect(await commentCount(parent.id)).toBe(3);
    await expectStatus(await deleteComment(reader, heldTop.id), 204);
    expect(await commentCount(parent.id)).toBe(2);
  });

  it('should take no reply under a held comment, not even from its author, until it is released', async () => {
    const staff = await createStaff();
    const holdWord = nonsenseWord('hr');
    await addRule(staff, holdWord, 'hold');
    const [author, reader] = [await createUser(), await createUser()];
    const parent = await post(author, 'replies under a hold');
    const held = await expectStatus(await commentRaw(reader, parent.id, { content: `${holdWord} here` }), 201);
    // Its author still sees it, but a reply would be published and counted under a comment nobody else sees.
    const refused = await expectProblem(await commentRaw(reader, parent.id, { content: 'and a harmless reply', parent_id: held.id }), 400, 'parent_id');
    expect(refused.errors[0].message).toMatch(/held/);
    expect(await commentCount(parent.id)).toBe(0);
    expect(await dbCount('SELECT COUNT(*) AS n FROM comments WHERE parent_id = ?1', held.id)).toBe(0);
    // Released, it takes replies like any other.
    await resolve(staff, (await autoReportAbout(staff, held.id)).id, { action: 'none' });
    await expectStatus(await commentRaw(reader, parent.id, { content: 'and a harmless reply', parent_id: held.id }), 201);
    expect(await replyCount(held.id)).toBe(1);
  });
});
