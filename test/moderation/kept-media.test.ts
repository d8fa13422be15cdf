import { createExecutionContext, createScheduledController, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import worker from '../../src/index';
import { TRENDS_CRON } from '../../src/scheduled';
import { call, createUser, expectProblem, expectStatus } from '../helpers/client';
import { headObject, keyOf, statusOf } from '../media/helpers';
import { deleteRaw, editRaw, send, startDirect, upload } from '../messaging/helpers';
import { eventually } from '../notifications/helpers';
import { createStaff, report, staffReport, type TestUser } from './helpers';

/**
 * The kept copy of an unsent message (and the earlier versions of an edited one) points at its images
 * as they were. Its sender deleting such an upload outright (DELETE /media/{id}) must not take it out
 * of a report: the upload goes from everyone's sight, the sender's included, but its object stays for
 * staff while a kept copy may still need it; then it goes. An account's deletion still erases it all at
 * once. An image a live message still carries cannot be deleted (409), as for a post.
 */

const DAY = 24 * 3_600_000;

let staff: TestUser;
beforeAll(async () => {
  staff = await createStaff('moderator');
});

const deleteUpload = (user: TestUser, id: string) => call(`/media/${id}`, { method: 'DELETE', token: user.accessToken });

/** A message from a fresh sender to a fresh partner, carrying a fresh upload; unsent when asked. */
async function imageMessage() {
  const [sender, partner, stranger] = [await createUser(), await createUser(), await createUser()];
  const conversation = await startDirect(sender, partner);
  const image = await upload(sender, 'jpeg');
  const message = await send(sender, conversation.id, { content: 'look at this', media_ids: [image.id] });
  return { sender, partner, stranger, conversation, image, message };
}

async function runTrendsCron(now: number): Promise<void> {
  const ctx = createExecutionContext();
  await worker.scheduled!(createScheduledController({ cron: TRENDS_CRON, scheduledTime: now }), env, ctx);
  await waitOnExecutionContext(ctx);
}

describe('Images of kept copies', () => {
  it('should keep an unsent message’s image for staff after its sender deletes the upload, and hide it from everyone else, the sender included', async () => {
    const { sender, partner, stranger, conversation, image, message } = await imageMessage();
    await expectStatus(await deleteRaw(sender, conversation.id, message.seq), 204);
    await expectStatus(await deleteUpload(sender, image.id), 204);
    // The upload is gone for its owner: deleting it again is 404, and so is its URL.
    await expectProblem(await deleteUpload(sender, image.id), 404);
    for (const viewer of [undefined, sender, partner, stranger]) {
      expect(await statusOf(image.url, viewer), viewer?.username ?? 'anonymous').toBe(404);
      expect(await statusOf(image.url, viewer, '?w=64')).toBe(404);
    }
    // The partner reports the unsent message: staff open its image through the report's snapshot.
    const filed = await report(partner, { subject_type: 'message', subject_id: message.id, conversation_id: conversation.id, category: 'harassment' });
    const { subject } = await staffReport(staff, filed.id);
    expect(subject.media.map((m: any) => m.url)).toEqual([image.url]);
    expect(await statusOf(subject.media[0].url, staff)).toBe(200);
    expect(await statusOf(subject.media[0].url, staff, '?w=128')).toBe(200);
  });

  it('should keep the image of an edited message’s earlier versions for staff once the message is unsent and the upload deleted', async () => {
    const { sender, partner, conversation, image, message } = await imageMessage();
    await expectStatus(await editRaw(sender, conversation.id, message.seq, { content: 'nothing to see' }), 200);
    const filed = await report(partner, { subject_type: 'message', subject_id: message.id, conversation_id: conversation.id });
    await expectStatus(await deleteRaw(sender, conversation.id, message.seq), 204);
    await expectStatus(await deleteUpload(sender, image.id), 204);
    const { subject } = await staffReport(staff, filed.id);
    expect(subject.earlier_versions.map((v: any) => v.media[0].url)).toEqual([image.url]);
    expect(await statusOf(image.url, staff)).toBe(200);
    expect(await statusOf(image.url, sender)).toBe(404);
  });

  it('should let the object go once the 30 days are over (the ten-minute cron)', async () => {
    const { sender, conversation, image, message } = await imageMessage();
    await expectStatus(await deleteRaw(sender, conversation.id, message.seq), 204);
    await expectStatus(await deleteUpload(sender, image.id), 204);
    const key = keyOf(image.url);
    await runTrendsCron(Date.now());
    expect(await headObject(key)).not.toBeNull();
    expect(await statusOf(image.url, staff)).toBe(200);
    // Thirty days on, the cron deletes it, variants included.
    await runTrendsCron(Date.now() + 30 * DAY + 60_000);
    expect(await headObject(key)).toBeNull();
    expect(await headObject(key, 128)).toBeNull();
    expect(await statusOf(image.url, staff)).toBe(404);
  });

  it('should erase the kept images at once when the sender deletes their account', async () => {
    const { sender, conversation, image, message } = await imageMessage();
    await expectStatus(await deleteRaw(sender, conversation.id, message.seq), 204);
    await expectStatus(await deleteUpload(sender, image.id), 204);
    await expectStatus(await call('/me', { method: 'DELETE', token: sender.accessToken, body: { password: sender.password } }), 204);
    expect(await headObject(keyOf(image.url))).toBeNull();
    expect(await statusOf(image.url, staff)).toBe(404);
    await eventually(async () => expect(await env.DB.prepare('SELECT COUNT(*) AS n FROM media_holds WHERE owner_id = ?1').bind(sender.id).first('n')).toBe(0));
  });

  it('should hold nothing for an edit refused at the 20-version cap', async () => {
    const { sender, conversation, image, message } = await imageMessage();
    for (let i = 1; i <= 20; i++) await expectStatus(await editRaw(sender, conversation.id, message.seq, { content: `edit ${i}` }), 200);
    const holds = () => env.DB.prepare('SELECT COUNT(*) AS n FROM media_holds WHERE key = ?1').bind(keyOf(image.url)).first<number>('n');
    expect(await holds()).toBe(1);
    // (The versions' hold is lifted by hand, so that any hold now would come from the refused edit.)
    await env.DB.prepare('DELETE FROM media_holds WHERE key = ?1').bind(keyOf(image.url)).run();
    await expectProblem(await editRaw(sender, conversation.id, message.seq, { content: 'edit 21' }), 409);
    expect(await holds()).toBe(0);
  });

  it('should answer 409 naming id to deleting an upload a live message still carries', async () => {
    const { sender, partner, conversation, image, message } = await imageMessage();
    await expectProblem(await deleteUpload(sender, image.id), 409, 'id');
    expect(await statusOf(image.url, partner)).toBe(200);
    // Unsent, it may go.
    await expectStatus(await deleteRaw(sender, conversation.id, message.seq), 204);
    await expectStatus(await deleteUpload(sender, image.id), 204);
  });
});
