import { env } from 'cloudflare:workers';
import { runInDurableObject } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { call, createUser, expectProblem, expectStatus } from '../helpers/client';
import { deleteRaw, editRaw, ISO, roomStub, send, startDirect, startGroup, upload } from '../messaging/helpers';
import { post } from '../posts/helpers';
import { createStaff, report, reportRaw, staffReport, type TestUser, UNKNOWN_ID } from './helpers';

/**
 * A harasser edits a message into something harmless before it is reported: the room keeps each
 * earlier version for 30 days (test/messaging/kept-versions.test.ts), and a report by another
 * participant carries them in its snapshot, so staff see what was said as well as what it says now.
 */

const DAY = 24 * 3_600_000;

let staff: TestUser;
beforeAll(async () => {
  staff = await createStaff('moderator');
});

async function edit(user: TestUser, convId: string, seq: number, content: string): Promise<void> {
  await expectStatus(await editRaw(user, convId, seq, { content }), 200);
}

/** The staff queue's copy of one report (GET /admin/reports). */
async function inQueue(id: string): Promise<any> {
  const page = await expectStatus(await call('/admin/reports?subject_type=message&limit=100', { token: staff.accessToken }), 200);
  return page.data.find((r: any) => r.id === id);
}

describe('Reports: earlier versions of an edited message', () => {
  it('should show staff every earlier version, oldest first, with its media and when it was replaced, beside the current text', async () => {
    const [a, b] = [await createUser(), await createUser()];
    const conversation = await startDirect(a, b);
    const image = await upload(a);
    const sent = await send(a, conversation.id, { content: 'I know where you live', media_ids: [image.id] });
    await edit(a, conversation.id, sent.seq, 'I know where you are');
    await edit(a, conversation.id, sent.seq, 'have a nice day');
    const filed = await report(b, { subject_type: 'message', subject_id: sent.id, conversation_id: conversation.id, category: 'harassment' });

    const { subject } = await staffReport(staff, filed.id);
    expect(subject).toMatchObject({ author: { id: a.id }, content: 'have a nice day' });
    expect(subject.earlier_versions).toEqual([
      { content: 'I know where you live', media: sent.media, replaced_at: expect.stringMatching(ISO) },
      { content: 'I know where you are', media: sent.media, replaced_at: expect.stringMatching(ISO) },
    ]);
    expect(subject.earlier_versions[0].replaced_at <= subject.earlier_versions[1].replaced_at).toBe(true);
    // The queue shows the same snapshot.
    expect((await inQueue(filed.id)).subject).toEqual(subject);
    // The reporter's own view of the report carries no snapshot at all.
    const mine = await expectStatus(await call('/reports', { token: b.accessToken }), 200);
    expect(JSON.stringify(mine)).not.toContain('where you live');
  });

  it('should carry the earlier versions of a message its sender edited and then unsent', async () => {
    const [a, b, c] = [await createUser(), await createUser(), await createUser()];
    const group = await startGroup(a, [b, c]);
    const sent = await send(a, group.id, 'nobody likes you');
    await edit(a, group.id, sent.seq, 'never mind');
    await expectStatus(await deleteRaw(a, group.id, sent.seq), 204);
    const filed = await report(c, { subject_type: 'message', subject_id: sent.id, conversation_id: group.id });
    const { subject } = await staffReport(staff, filed.id);
    expect(subject.content).toBe('never mind');
    expect(subject.earlier_versions.map((v: any) => v.content)).toEqual(['nobody likes you']);
  });

  it('should carry only the versions replaced within the last 30 days', async () => {
    const [a, b] = [await createUser(), await createUser()];
    const conversation = await startDirect(a, b);
    const sent = await send(a, conversation.id, 'long ago');
    await edit(a, conversation.id, sent.seq, 'recently');
    await edit(a, conversation.id, sent.seq, 'now');
    // (The first version was replaced 30 days ago; the alarm has not erased it yet.)
    await runInDurableObject(roomStub(conversation.id), (_, state) => {
      state.storage.sql.exec("UPDATE versions SET replaced_at = replaced_at - ? WHERE content = 'long ago'", 30 * DAY + 1);
    });
    const filed = await report(b, { subject_type: 'message', subject_id: sent.id, conversation_id: conversation.id });
    expect((await staffReport(staff, filed.id)).subject.earlier_versions.map((v: any) => v.content)).toEqual(['recently']);
  });

  it('should answer 400 to the sender reporting their own edited message and 404 to a non-member, filing nothing', async () => {
    const [a, b, outsider] = [await createUser(), await createUser(), await createUser()];
    const conversation = await startDirect(a, b);
    const sent = await send(a, conversation.id, 'before');
    await edit(a, conversation.id, sent.seq, 'after');
    const body = { subject_type: 'message', subject_id: sent.id, conversation_id: conversation.id, category: 'harassment' };
    await expectProblem(await reportRaw(a, body), 400, 'subject_id');
    await expectProblem(await reportRaw(outsider, body), 404);
    await expectProblem(await reportRaw(b, { ...body, subject_id: UNKNOWN_ID }), 404);
    expect(await env.DB.prepare('SELECT COUNT(*) AS n FROM reports WHERE subject_id = ?1').bind(sent.id).first('n')).toBe(0);
  });

  it('should send earlier_versions as [] for a message never edited, and null for every other subject', async () => {
    const [a, b] = [await createUser(), await createUser()];
    const conversation = await startDirect(a, b);
    const sent = await send(a, conversation.id, 'plain');
    const onMessage = await report(b, { subject_type: 'message', subject_id: sent.id, conversation_id: conversation.id });
    expect((await staffReport(staff, onMessage.id)).subject.earlier_versions).toEqual([]);
    const onPost = await report(b, { subject_type: 'post', subject_id: (await post(a, 'a post')).id });
    expect((await staffReport(staff, onPost.id)).subject.earlier_versions).toBeNull();
    const onUser = await report(b, { subject_type: 'user', subject_id: a.id });
    expect((await staffReport(staff, onUser.id)).subject.earlier_versions).toBeNull();
  });
});
