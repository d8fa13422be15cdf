import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { call, expectProblem, expectStatus } from '../helpers/client';
import { createStaff, report, resolve } from '../moderation/helpers';
import { eventually } from '../notifications/helpers';
import { deleteRaw, editRaw, history, roomStub, send, startDirect, startGroup, users } from './helpers';

/**
 * An edit replaces a message's text for everyone, but the room keeps each earlier version (text and
 * media, with when it was replaced) for 30 days, out of everyone's sight, so that a harasser cannot
 * edit a message into something harmless before it is reported: the report's snapshot carries them
 * (test/moderation/report-versions.test.ts). They go as the kept copy of an unsent message goes: the
 * room's alarm erases them after 30 days, an account's deletion and a moderator's removal at once.
 */

const DAY = 24 * 3_600_000;

/** The earlier versions a room keeps of one message, oldest first. */
async function keptVersions(convId: string, messageId: string): Promise<{ content: string; media: string }[]> {
  return runInDurableObject(roomStub(convId), (_, state) =>
    state.storage.sql.exec<{ content: string; media: string }>('SELECT content, media FROM versions WHERE message_id = ? ORDER BY replaced_at, rowid', messageId).toArray(),
  );
}

async function edit(user: Parameters<typeof editRaw>[0], convId: string, seq: number, content: string): Promise<any> {
  return expectStatus(await editRaw(user, convId, seq, { content }), 200);
}

describe('Earlier versions of edited messages', () => {
  it('should keep each earlier version in the room, out of everyone’s sight', async () => {
    const [a, b] = await users(2);
    const conv = await startDirect(a, b);
    const sent = await send(a, conv.id, 'first words');
    await edit(a, conv.id, sent.seq, 'second words');
    const edited = await edit(a, conv.id, sent.seq, 'third words');
    expect(edited.content).toBe('third words');
    expect(await keptVersions(conv.id, sent.id)).toEqual([
      { content: 'first words', media: '[]' },
      { content: 'second words', media: '[]' },
    ]);
    // Nobody reads them back: history, the sender's included, shows the message as it is now.
    for (const viewer of [a, b]) {
      const shown = (await history(viewer, conv.id)).data.find((m) => m.id === sent.id);
      expect(shown.content).toBe('third words');
      expect(JSON.stringify(shown)).not.toContain('first words');
    }
  });

  it('should refuse a 21st edit within 30 days (409) rather than drop the oldest version', async () => {
    const [a, b] = await users(2);
    const conv = await startDirect(a, b);
    const sent = await send(a, conv.id, 'the original');
    for (let i = 1; i <= 20; i++) await edit(a, conv.id, sent.seq, `edit ${i}`);
    const refused = await expectProblem(await editRaw(a, conv.id, sent.seq, { content: 'edit 21' }), 409);
    expect(refused.detail).toMatch(/20/);
    const kept = await keptVersions(conv.id, sent.id);
    expect(kept).toHaveLength(20);
    expect(kept[0]!.content).toBe('the original');
    // Once the oldest version is past the window, the message can be edited again.
    await runInDurableObject(roomStub(conv.id), (_, state) => {
      state.storage.sql.exec("UPDATE versions SET replaced_at = replaced_at - ? WHERE content = 'the original'", 30 * DAY + 1);
    });
    expect((await edit(a, conv.id, sent.seq, 'edit 21')).content).toBe('edit 21');
  });

  it('should erase earlier versions 30 days after they were replaced, by the room’s alarm', async () => {
    const [a, b] = await users(2);
    const conv = await startDirect(a, b);
    const sent = await send(a, conv.id, 'old text');
    await edit(a, conv.id, sent.seq, 'newer text');
    await edit(a, conv.id, sent.seq, 'newest text');
    const room = roomStub(conv.id);
    // (Thirty days pass for the first version: it and the alarm job move back that far.)
    await runInDurableObject(room, (_, state) => {
      state.storage.sql.exec("UPDATE versions SET replaced_at = replaced_at - ? WHERE content = 'old text'", 30 * DAY + 1);
      state.storage.sql.exec("UPDATE alarms SET due = due - ? WHERE job = 'withdrawn'", 30 * DAY + 1);
    });
    await runDurableObjectAlarm(room);
    expect((await keptVersions(conv.id, sent.id)).map((v) => v.content)).toEqual(['newer text']);
    // The job comes back for the version still kept.
    const due = await runInDurableObject(room, (_, state) => state.storage.sql.exec<{ due: number }>("SELECT due FROM alarms WHERE job = 'withdrawn'").toArray()[0]?.due);
    expect(due).toBeGreaterThan(Date.now() + 29 * DAY);
  });

  it('should erase a sender’s earlier versions with their account, and keep the others’', async () => {
    const [a, b, c] = await users(3);
    const group = await startGroup(a, [b, c]);
    const mine = await send(a, group.id, 'mine, before');
    const theirs = await send(b, group.id, 'theirs, before');
    await edit(a, group.id, mine.seq, 'mine, after');
    await edit(b, group.id, theirs.seq, 'theirs, after');
    await expectStatus(await call('/me', { method: 'DELETE', token: a.accessToken, body: { password: a.password } }), 204);
    await eventually(async () => expect(await keptVersions(group.id, mine.id)).toEqual([]));
    expect((await keptVersions(group.id, theirs.id)).map((v) => v.content)).toEqual(['theirs, before']);
  });

  it('should keep the earlier versions of a message its sender unsent, and nothing once a moderator removes one', async () => {
    const [a, b] = await users(2);
    const staff = await createStaff();
    const conv = await startDirect(a, b);
    const unsent = await send(a, conv.id, 'unsent, before');
    await edit(a, conv.id, unsent.seq, 'unsent, after');
    await expectStatus(await deleteRaw(a, conv.id, unsent.seq), 204);
    expect((await keptVersions(conv.id, unsent.id)).map((v) => v.content)).toEqual(['unsent, before']);

    const removed = await send(a, conv.id, 'removed, before');
    await edit(a, conv.id, removed.seq, 'removed, after');
    const filed = await report(b, { subject_type: 'message', subject_id: removed.id, conversation_id: conv.id });
    await resolve(staff, filed.id, { action: 'remove_content' });
    await eventually(async () => expect(await keptVersions(conv.id, removed.id)).toEqual([]));
  });
});
