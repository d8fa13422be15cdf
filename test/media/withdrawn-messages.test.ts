import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { call, createUser, expectProblem, expectStatus, type TestUser } from '../helpers/client';
import { createCommunity, deleteCommunityRaw, join } from '../communities/helpers';
import { deleteRaw, editRaw, removeMemberRaw, roomStub, send, sendRaw, startDirect, startGroup } from '../messaging/helpers';
import { createStaff, report, resolve } from '../moderation/helpers';
import { eventually } from '../notifications/helpers';
import { deletePost, post, upload } from '../posts/helpers';
import { expectPublic, expectWithdrawn, keyOf, setAvatar } from './helpers';

/**
 * Message attachments have the lifecycle of post images: an image is public by URL while a live message
 * carries it (D1's message_media rows, written before the message exists), and withdrawn (owner and
 * staff only, edge copies purged) once the last message or post carrying it is deleted by its sender,
 * removed by moderation, erased with an account, or goes with its conversation.
 */

/** The message_media rows naming an upload. */
async function rowsOf(mediaId: string): Promise<{ conversation_id: string; message_id: string }[]> {
  const { results } = await env.DB.prepare('SELECT conversation_id, message_id FROM message_media WHERE media_id = ?1 ORDER BY message_id').bind(mediaId).all<{ conversation_id: string; message_id: string }>();
  return results;
}

/** A direct conversation of `sender` with a fresh partner, and a message in it carrying a fresh upload. */
async function sentImage(fixture: 'png' | 'jpeg' | 'webp' | 'gif' = 'jpeg') {
  const [sender, partner, staff] = [await createUser(), await createUser(), await createStaff()];
  const conversation = await startDirect(sender, partner);
  const image = await upload(sender, fixture);
  const message = await send(sender, conversation.id, { content: 'look', media_ids: [image.id] });
  return { sender, partner, staff, conversation, image, message };
}

/** Withdrawn from everyone else, the conversation's other members included. */
async function expectWithdrawnFromMembers(url: string, owner: TestUser, staff: TestUser, members: TestUser[]): Promise<void> {
  await expectWithdrawn(url, owner, staff);
  for (const member of members) await expectProblem(await call(url, { token: member.accessToken }), 404);
}

describe('GET /media/{key} of images sent in messages', () => {
  it('should record which message carries an upload, and withdraw it (edge copy included) when its sender deletes the message', async () => {
    const { sender, partner, staff, conversation, image, message } = await sentImage();
    expect(message.media.map((m: { id: string }) => m.id)).toEqual([image.id]);
    expect(await rowsOf(image.id)).toEqual([{ conversation_id: conversation.id, message_id: message.id }]);
    await expectPublic(image.url);
    const cached = await call(image.url);
    expect(cached.headers.get('X-Cache')).toBe('HIT');
    await cached.arrayBuffer();

    expect((await deleteRaw(sender, conversation.id, message.seq)).status).toBe(204);
    expect(await rowsOf(image.id)).toEqual([]);
    await expectWithdrawnFromMembers(image.url, sender, staff, [partner]);
  });

  it('should keep an image public while another message, a post or the avatar still uses it', async () => {
    const [sender, partner, other, staff] = [await createUser(), await createUser(), await createUser(), await createStaff()];
    const direct = await startDirect(sender, partner);
    const group = await startGroup(sender, [partner, other]);
    const image = await upload(sender, 'png');
    const first = await send(sender, direct.id, { media_ids: [image.id] });
    const second = await send(sender, group.id, { content: 'again', media_ids: [image.id] });
    const onPost = await post(sender, { content: 'and on a post', media_ids: [image.id] });

    expect((await deleteRaw(sender, direct.id, first.seq)).status).toBe(204);
    await expectPublic(image.url);
    // The post goes while a message still carries the image: the message keeps it public.
    expect((await deletePost(sender, onPost.id)).status).toBe(204);
    await expectPublic(image.url);
    expect((await deleteRaw(sender, group.id, second.seq)).status).toBe(204);
    await expectWithdrawnFromMembers(image.url, sender, staff, [partner, other]);

    // The same bytes as the avatar are the same object: the avatar keeps it public.
    const avatar = await setAvatar(sender, 'webp');
    const asAvatar = await upload(sender, 'webp');
    expect(asAvatar.url).toBe(avatar.avatar_url);
    const withAvatar = await send(sender, direct.id, { media_ids: [asAvatar.id] });
    expect((await deleteRaw(sender, direct.id, withAvatar.seq)).status).toBe(204);
    await expectPublic(asAvatar.url);
  });

  it('should withdraw the image of a message removed by moderation', async () => {
    const { sender, partner, staff, conversation, image, message } = await sentImage('webp');
    await expectPublic(image.url);
    const filed = await report(partner, { subject_type: 'message', subject_id: message.id, conversation_id: conversation.id });
    await resolve(staff, filed.id, { action: 'remove_content' });
    expect(await rowsOf(image.id)).toEqual([]);
    await expectWithdrawnFromMembers(image.url, sender, staff, [partner]);
  });

  it("should withdraw the image of a message the room erases with its sender's account", async () => {
    // The account.forget queue message drives ConversationRoom.forgetAccount once the account has left
    // D1, where its uploads went too; called here while they exist, the room releases them itself.
    const { sender, partner, staff, conversation, image } = await sentImage('gif');
    const released = await roomStub(conversation.id).forgetAccount(sender.id);
    expect(released).toEqual([keyOf(image.url)]);
    expect(await rowsOf(image.id)).toEqual([]);
    await expectWithdrawnFromMembers(image.url, sender, staff, [partner]);
    // Delivered again, it changes nothing.
    expect(await roomStub(conversation.id).forgetAccount(sender.id)).toEqual([]);
  });

  it('should withdraw the images of a community chat when its community is deleted', async () => {
    const [owner, member, staff] = [await createUser(), await createUser(), await createStaff()];
    const community = await createCommunity(owner);
    await join(member, community.id);
    const image = await upload(member, 'jpeg');
    await send(member, community.conversation_id, { content: 'our picture', media_ids: [image.id] });
    await expectPublic(image.url);
    expect((await deleteCommunityRaw(owner, community.id)).status).toBe(204);
    expect(await rowsOf(image.id)).toEqual([]);
    await expectWithdrawnFromMembers(image.url, member, staff, [owner]);
  });

  it('should withdraw the images of a group erased when its last member deletes their account', async () => {
    const [creator, leaver, other, staff] = [await createUser(), await createUser(), await createUser(), await createStaff()];
    const group = await startGroup(creator, [leaver, other]);
    const image = await upload(leaver, 'png');
    await send(leaver, group.id, { content: 'before I go', media_ids: [image.id] });
    for (const u of [leaver, other]) expect((await removeMemberRaw(u, group.id, u.id)).status).toBe(204);
    // The message is still there (for the creator): so is its image.
    await expectPublic(image.url);
    expect((await call('/me', { method: 'DELETE', token: creator.accessToken, body: { password: creator.password } })).status).toBe(204);
    await eventually(async () => expect(await rowsOf(image.id)).toEqual([]), 10_000);
    await expectWithdrawnFromMembers(image.url, leaver, staff, [other]);
  });

  it('should erase a group its last member leaves, with the images its messages carried', async () => {
    const [creator, other, third, staff] = [await createUser(), await createUser(), await createUser(), await createStaff()];
    const group = await startGroup(creator, [other, third]);
    const image = await upload(other, 'png');
    await send(other, group.id, { content: 'for the record', media_ids: [image.id] });
    for (const u of [other, third]) await expectStatus(await removeMemberRaw(u, group.id, u.id), 204);
    // The creator is still in it: the message and its image stay.
    await expectPublic(image.url);
    await expectStatus(await removeMemberRaw(creator, group.id, creator.id), 204);
    expect(await env.DB.prepare('SELECT id FROM conversations WHERE id = ?1').bind(group.id).first()).toBeNull();
    expect(await rowsOf(image.id)).toEqual([]);
    await expectWithdrawnFromMembers(image.url, other, staff, [creator, third]);
    // The room holds nothing any more.
    const room = roomStub(group.id);
    expect(await room.forgetAccount(other.id)).toEqual([]);
  });

  it('should record a send retried with the same client_id once, even when the retries race', async () => {
    const { sender, partner, staff, conversation } = await sentImage();
    const image = await upload(sender, 'webp');
    const body = { content: 'once', media_ids: [image.id], client_id: 'retried-image-1' };
    const answers = await Promise.all([sendRaw(sender, conversation.id, body), sendRaw(sender, conversation.id, body)]);
    const statuses = answers.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 201]);
    const [first, again] = await Promise.all(answers.map((r) => r.json<any>()));
    expect(again.id).toBe(first.id);
    await expectStatus(await sendRaw(sender, conversation.id, body), 200);
    // A racing retry recorded its rows before it learnt it was one, then released them.
    await eventually(async () => expect(await rowsOf(image.id)).toEqual([{ conversation_id: conversation.id, message_id: first.id }]));
    expect((await deleteRaw(sender, conversation.id, first.seq)).status).toBe(204);
    await expectWithdrawnFromMembers(image.url, sender, staff, [partner]);
  });

  it('should keep the attachments of an edited message in use (an edit changes the text only)', async () => {
    const { sender, conversation, image, message } = await sentImage('png');
    const edited = await expectStatus(await editRaw(sender, conversation.id, message.seq, { content: '' }), 200);
    expect(edited.media.map((m: { id: string }) => m.id)).toEqual([image.id]);
    expect(await rowsOf(image.id)).toHaveLength(1);
    await expectPublic(image.url);
  });

  it('should publish a withdrawn image again when it is sent in a message', async () => {
    const [sender, partner, staff] = [await createUser(), await createUser(), await createStaff()];
    const image = await upload(sender, 'gif');
    const onPost = await post(sender, { content: 'soon gone', media_ids: [image.id] });
    expect((await deletePost(sender, onPost.id)).status).toBe(204);
    await expectWithdrawn(image.url, sender, staff);
    await send(sender, (await startDirect(sender, partner)).id, { content: 'here it is', media_ids: [image.id] });
    await expectPublic(image.url);
  });

  it('should keep public an upload sent in a message before message_media existed (the legacy flag)', async () => {
    const sender = await createUser();
    const image = await upload(sender, 'jpeg');
    // What 0023–0025 left: the flag set by a send, no row saying which message carries it.
    await env.DB.prepare('UPDATE media SET sent_in_message = 1 WHERE id = ?1').bind(image.id).run();
    const onPost = await post(sender, { content: 'legacy', media_ids: [image.id] });
    expect((await deletePost(sender, onPost.id)).status).toBe(204);
    await expectPublic(image.url);
  });
});
