import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { deliverEvent } from '../../src/modules/notifications/delivery';
import { publicUserExample } from '../../src/modules/users/users.schemas';
import { call, createUser, expectProblem, expectStatus, type TestUser } from '../helpers/client';
import { addRule, autoReportAbout, createStaff, nonsenseWord, report, resolve } from '../moderation/helpers';
import { eventually, expectNone, quiet, unreadCount, waitForNotification, type Notification } from '../notifications/helpers';
import { inboxRpc, openNotifications } from '../notifications/stream-helpers';
import { comment, commentRaw, deleteComment, deletePost, getPost, makeFriends, post, setWallPolicy } from '../posts/helpers';

/** The notifications a comment caused: `post_comment`, `comment_reply` and `mention`, all carrying its id. */
const COMMENT_TYPES = ['post_comment', 'comment_reply', 'mention'];
const about = (commentId: string) => (n: Notification) => COMMENT_TYPES.includes(n.type) && n.data.comment_id === commentId;

async function noticesAbout(user: TestUser, commentIds: string[]): Promise<Notification[]> {
  const page = await expectStatus(await call('/notifications?limit=100', { token: user.accessToken }), 200);
  return (page.data as Notification[]).filter((n) => commentIds.some((id) => about(id)(n)));
}

/** Waits until none of the user's notifications is about these comments (forgetting runs after the answer). */
async function expectForgotten(user: TestUser, commentIds: string[]): Promise<void> {
  await eventually(async () => expect(await noticesAbout(user, commentIds), `${user.username} still holds notifications about ${commentIds}`).toEqual([]));
}

describe('Deleted comments take their notifications with them', () => {
  it('should withdraw post_comment, comment_reply and mention of a comment and its replies deleted by its author, live and in counts', async () => {
    const [author, commenter, replier, mentioned] = [await createUser(), await createUser(), await createUser(), await createUser()];
    const parent = await post(author, 'talk to me');
    const top = await comment(commenter, parent.id, `what do you think @${mentioned.username}`);
    const reply = await comment(replier, parent.id, `agreed, @${mentioned.username}`, top.id);
    const kept = await comment(replier, parent.id, 'this one stays');
    await waitForNotification(author, 'post_comment', (n) => n.data.comment_id === reply.id);
    await waitForNotification(author, 'post_comment', (n) => n.data.comment_id === kept.id);
    await waitForNotification(commenter, 'comment_reply', (n) => n.data.comment_id === reply.id);
    await waitForNotification(mentioned, 'mention', (n) => n.data.comment_id === reply.id);
    await waitForNotification(mentioned, 'mention', (n) => n.data.comment_id === top.id);
    expect(await unreadCount(author)).toBe(3);
    expect(await unreadCount(mentioned)).toBe(2);
    const [authorLive, mentionedLive] = [await openNotifications(author), await openNotifications(mentioned)];
    try {
      await expectStatus(await deleteComment(commenter, top.id), 204);
      await expectForgotten(author, [top.id, reply.id]);
      await expectForgotten(commenter, [reply.id]);
      await expectForgotten(mentioned, [top.id, reply.id]);
      expect(await unreadCount(author)).toBe(1);
      expect(await unreadCount(mentioned)).toBe(0);
      // Open sockets are told, one frame per notification withdrawn.
      await authorLive.waitUntil((s) => s.ofType('notification.removed').length === 2, 'two removals on the author’s socket');
      await mentionedLive.waitUntil((s) => s.ofType('notification.removed').length === 2, 'two removals on the mentioned’s socket');
    } finally {
      authorLive.close();
      mentionedLive.close();
    }
    // The rest of the inbox is untouched.
    expect((await noticesAbout(author, [kept.id])).map((n) => n.type)).toEqual(['post_comment']);
  });

  it("should withdraw them when the post's author, the wall owner or moderation deletes the comment", async () => {
    const staff = await createStaff();
    const [owner, writer, commenter, mentioned] = [await createUser(), await createUser(), await createUser(), await createUser()];
    await setWallPolicy(owner, 'everyone');
    const onWall = await post(writer, { content: 'on your wall', target_user_id: owner.id });
    const byWriter = await comment(commenter, onWall.id, `hi @${mentioned.username}`);
    const byOwner = await comment(commenter, onWall.id, `hello again @${mentioned.username}`);
    const byStaff = await comment(commenter, onWall.id, `and once more @${mentioned.username}`);
    const all = [byWriter.id, byOwner.id, byStaff.id];
    for (const id of all) {
      await waitForNotification(writer, 'post_comment', (n) => n.data.comment_id === id);
      await waitForNotification(mentioned, 'mention', (n) => n.data.comment_id === id);
    }
    await expectStatus(await deleteComment(writer, byWriter.id), 204);
    await expectStatus(await deleteComment(owner, byOwner.id), 204);
    await resolve(staff, (await report(mentioned, { subject_type: 'comment', subject_id: byStaff.id })).id, { action: 'remove_content' });
    for (const user of [writer, mentioned]) await expectForgotten(user, all);
  });

  it('should withdraw the mention of someone who changed their username since, and of a comment written before mentions were recorded', async () => {
    const [author, commenter, renamed, legacy] = [await createUser(), await createUser(), await createUser(), await createUser()];
    const parent = await post(author, 'names change');
    const first = await comment(commenter, parent.id, `ping @${renamed.username}`);
    const second = await comment(commenter, parent.id, `ping @${legacy.username}`);
    await waitForNotification(renamed, 'mention', (n) => n.data.comment_id === first.id);
    await waitForNotification(legacy, 'mention', (n) => n.data.comment_id === second.id);
    await expectStatus(await call('/me', { method: 'PATCH', token: renamed.accessToken, body: { username: `re${renamed.username.slice(0, 20)}` } }), 200);
    // A comment from before the record: its mentions are found again in its text.
    await env.DB.prepare('UPDATE comments SET mentioned_ids = NULL WHERE id = ?1').bind(second.id).run();
    await expectStatus(await deleteComment(commenter, first.id), 204);
    await expectStatus(await deleteComment(commenter, second.id), 204);
    await expectForgotten(renamed, [first.id]);
    await expectForgotten(legacy, [second.id]);
  });

  it("should withdraw the notifications of a post's comments when the post is deleted by its author or removed by moderation", async () => {
    const staff = await createStaff();
    const [author, commenter, replier, mentioned, follower] = [await createUser(), await createUser(), await createUser(), await createUser(), await createUser()];
    await makeFriends(author, follower);
    const mine = await post(author, 'deleted by me');
    const reported = await post(author, 'removed by staff');
    const notes: string[] = [];
    for (const p of [mine, reported]) {
      const top = await comment(commenter, p.id, `look @${mentioned.username}`);
      const reply = await comment(replier, p.id, 'a reply', top.id);
      await waitForNotification(commenter, 'comment_reply', (n) => n.data.comment_id === reply.id);
      await waitForNotification(author, 'post_comment', (n) => n.data.comment_id === reply.id);
      await waitForNotification(mentioned, 'mention', (n) => n.data.comment_id === top.id);
      await waitForNotification(follower, 'new_post', (n) => n.data.id === p.id);
      notes.push(top.id, reply.id);
    }
    await expectStatus(await deletePost(author, mine.id), 204);
    await resolve(staff, (await report(follower, { subject_type: 'post', subject_id: reported.id })).id, { action: 'remove_content' });
    for (const user of [author, commenter, mentioned]) await expectForgotten(user, notes);
    // The post's own new_post goes too, whoever deleted it.
    await eventually(async () => expectNone(follower, 'new_post', (n) => [mine.id, reported.id].includes(n.data.id)));
  });

  it('should leave nothing behind of a held comment that is removed, and let nobody reach anyone through replies under it', async () => {
    const staff = await createStaff();
    const holdWord = nonsenseWord('hn');
    await addRule(staff, holdWord, 'hold');
    const [author, writer, mentioned] = [await createUser(), await createUser(), await createUser()];
    const parent = await post(author, 'careful now');
    const held = await expectStatus(await commentRaw(writer, parent.id, { content: `${holdWord} @${mentioned.username}` }), 201);
    expect(held.held).toBe(true);
    // Its author still sees it, but cannot answer it: a reply would be published, and notify, under a
    // comment nobody else sees (the held mention delivered after all).
    await expectProblem(await commentRaw(writer, parent.id, { content: `see above @${mentioned.username}`, parent_id: held.id }), 400, 'parent_id');
    await resolve(staff, (await autoReportAbout(staff, held.id)).id, { action: 'remove_content' });
    for (const user of [author, mentioned]) await expectForgotten(user, [held.id]);
    expect(await unreadCount(mentioned)).toBe(0);
    expect((await expectStatus(await getPost(parent.id, author), 200)).comment_count).toBe(0);
  });

  it('should not deliver a comment’s notification that arrives after the comment is gone', async () => {
    const [author, commenter] = [await createUser(), await createUser()];
    const parent = await post(author, 'fast fingers');
    const gone = await comment(commenter, parent.id, 'here and gone');
    await waitForNotification(author, 'post_comment', (n) => n.data.comment_id === gone.id);
    await expectStatus(await deleteComment(commenter, gone.id), 204);
    await expectForgotten(author, [gone.id]);
    // A delivery of the comment's event that was still on its way: the comment is gone, so nobody is told.
    await deliverEvent({ type: 'post_comment', actorId: commenter.id, recipientId: author.id, postId: parent.id, commentId: gone.id }, { env, baseUrl: 'http://kith.test' });
    // One already past that check when the comment went: the inbox drops it (the deletion is remembered).
    await inboxRpc(author.id).deliver({
      type: 'mention',
      data: { post_id: parent.id, comment_id: gone.id, user: publicUserExample },
      source: `comment:${gone.id}`,
      at: Date.now() - 1_000,
    });
    await quiet();
    expect(await noticesAbout(author, [gone.id])).toEqual([]);
  });
});
