import { env } from 'cloudflare:workers';
import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { call, createUser, expectProblem, expectStatus } from '../helpers/client';
import { startDirect, send, deleteRaw, roomStub, startGroup } from '../messaging/helpers';
import { eventually, waitForNotification, notifications, quiet } from '../notifications/helpers';
import { block, comment, makePrivate, post, deletePost, upload } from '../posts/helpers';
import { auditEntries, createStaff, report, reportRaw, resolve, resolveRaw, staffReport, type TestUser, UNKNOWN_ID } from './helpers';

const REPORT_KEYS = ['category', 'comment', 'created_at', 'id', 'resolved_at', 'status', 'subject_id', 'subject_type'];

let staff: TestUser;
beforeAll(async () => {
  staff = await createStaff('moderator');
});

describe('Reports: filing them', () => {
  it('should file a report on a post with a snapshot that survives the post being deleted', async () => {
    const [author, reporter] = [await createUser(), await createUser()];
    const target = await post(author, 'You again? Log off.');
    const filed = await report(reporter, { subject_type: 'post', subject_id: target.id, category: 'harassment', comment: 'Targets me.' });
    expect(Object.keys(filed).sort()).toEqual(REPORT_KEYS);
    expect(filed).toMatchObject({ subject_type: 'post', subject_id: target.id, category: 'harassment', comment: 'Targets me.', status: 'open', resolved_at: null });
    await expectStatus(await deletePost(author, target.id), 204);
    const view = await staffReport(staff, filed.id);
    expect(view.subject).toEqual({ author: target.author, content: 'You again? Log off.', media: [], earlier_versions: null });
    expect(view.reporter.id).toBe(reporter.id);
    expect(view).toMatchObject({ resolution: null, assigned_to: null, auto: null, held: false });
  });

  it('should snapshot a user, a comment, a community and a message, each with its author', async () => {
    const [a, b] = [await createUser({ display_name: 'Mallory' }), await createUser()];
    const p = await post(b, 'a post');
    const c = await comment(a, p.id, 'a nasty comment');
    const community = await expectStatus(await call('/communities', { token: a.accessToken, body: { name: `Trolls ${Date.now()}`, description: 'we troll' } }), 201);
    const conversation = await startDirect(a, b);
    const message = await send(a, conversation.id, 'a nasty message');

    const user = await report(b, { subject_type: 'user', subject_id: a.id });
    const onComment = await report(b, { subject_type: 'comment', subject_id: c.id });
    const onCommunity = await report(b, { subject_type: 'community', subject_id: community.id });
    const onMessage = await report(b, { subject_type: 'message', subject_id: message.id, conversation_id: conversation.id });
    expect((await staffReport(staff, user.id)).subject.author).toMatchObject({ id: a.id, display_name: 'Mallory' });
    expect((await staffReport(staff, onComment.id)).subject).toMatchObject({ author: { id: a.id }, content: 'a nasty comment' });
    expect((await staffReport(staff, onCommunity.id)).subject).toMatchObject({ author: { id: a.id }, content: expect.stringContaining('we troll') });
    expect((await staffReport(staff, onMessage.id)).subject).toMatchObject({ author: { id: a.id }, content: 'a nasty message' });
  });

  it('should file a community found by an id-shaped slug (made before such slugs were refused) under its id, once', async () => {
    const [owner, reporter] = [await createUser(), await createUser()];
    const community = await expectStatus(await call('/communities', { token: owner.accessToken, body: { name: `Legacy ${Date.now()}` } }), 201);
    const idShaped = `01JC7S${community.id.slice(6)}`;
    await env.DB.prepare('UPDATE communities SET slug = ?2 WHERE id = ?1').bind(community.id, idShaped.toLowerCase()).run();
    const bySlug = await report(reporter, { subject_type: 'community', subject_id: idShaped });
    expect(bySlug.subject_id).toBe(community.id);
    const byId = await report(reporter, { subject_type: 'community', subject_id: community.id }, 200);
    expect(byId.id).toBe(bySlug.id);
    expect((await auditEntries('report.created', bySlug.id)).map((e) => e.data.subject_id)).toEqual([community.id]);
  });

  it('should keep a reported message reviewable after its sender deletes it', async () => {
    const [a, b] = [await createUser(), await createUser()];
    const conversation = await startDirect(a, b);
    const message = await send(a, conversation.id, 'meet me outside');
    const filed = await report(b, { subject_type: 'message', subject_id: message.id, conversation_id: conversation.id, category: 'violence' });
    await expectStatus(await deleteRaw(a, conversation.id, message.seq), 204);
    expect((await staffReport(staff, filed.id)).subject.content).toBe('meet me outside');
  });

  it('should let the people a message was sent to report it for 30 days after its sender unsent it, and nobody after', async () => {
    const [a, b, c, outsider] = [await createUser(), await createUser(), await createUser(), await createUser()];
    const group = await startGroup(a, [b, c]);
    const image = await upload(a);
    const sent = await send(a, group.id, { content: 'you will regret this', media_ids: [image.id] });
    await expectStatus(await deleteRaw(a, group.id, sent.seq), 204);
    // Out of everyone's sight: history shows the tombstone.
    const history = await expectStatus(await call(`/conversations/${group.id}/messages`, { token: b.accessToken }), 200);
    expect(history.data.find((m: any) => m.id === sent.id)).toMatchObject({ deleted: true, content: '', media: [] });
    // A member it was sent to reports it, and staff see it as it was sent.
    const filed = await report(b, { subject_type: 'message', subject_id: sent.id, conversation_id: group.id, category: 'harassment' });
    const seen = (await staffReport(staff, filed.id)).subject;
    expect(seen).toMatchObject({ author: { id: a.id }, content: 'you will regret this' });
    expect(seen.media.map((m: any) => m.id)).toEqual([image.id]);
    // Its sender cannot, nor can anyone outside the conversation.
    await expectProblem(await reportRaw(a, { subject_type: 'message', subject_id: sent.id, conversation_id: group.id, category: 'spam' }), 400, 'subject_id');
    await expectProblem(await reportRaw(outsider, { subject_type: 'message', subject_id: sent.id, conversation_id: group.id, category: 'spam' }), 404);
    // 30 days on, the room's alarm erases the kept copy, and it can no longer be reported.
    const room = roomStub(group.id);
    // (Thirty days pass: the kept copy and the alarm job that erases it move back that far.)
    await runInDurableObject(room, (_, state) => {
      state.storage.sql.exec('UPDATE withdrawn SET withdrawn_at = withdrawn_at - ?', 30 * 24 * 3_600_000 + 1);
      state.storage.sql.exec("UPDATE alarms SET due = due - ? WHERE job = 'withdrawn'", 30 * 24 * 3_600_000 + 1);
    });
    await runDurableObjectAlarm(room);
    expect(await runInDurableObject(room, (_, state) => state.storage.sql.exec('SELECT COUNT(*) AS n FROM withdrawn').one().n)).toBe(0);
    await expectProblem(await reportRaw(c, { subject_type: 'message', subject_id: sent.id, conversation_id: group.id, category: 'harassment' }), 404);
  });

  it('should keep nothing of an unsent message once its sender deletes their account', async () => {
    const [a, b] = [await createUser(), await createUser()];
    const conversation = await startDirect(a, b);
    const message = await send(a, conversation.id, 'gone with me');
    await expectStatus(await deleteRaw(a, conversation.id, message.seq), 204);
    await expectStatus(await call('/me', { method: 'DELETE', token: a.accessToken, body: { password: a.password } }), 204);
    const room = roomStub(conversation.id);
    await eventually(async () => expect(await runInDurableObject(room, (_, state) => state.storage.sql.exec('SELECT COUNT(*) AS n FROM withdrawn').one().n)).toBe(0));
    await expectProblem(await reportRaw(b, { subject_type: 'message', subject_id: message.id, conversation_id: conversation.id, category: 'harassment' }), 404);
  });

  it('should answer 200 with the open report when the same reporter reports the same subject again', async () => {
    const [author, reporter] = [await createUser(), await createUser()];
    const target = await post(author, 'spammy');
    const first = await report(reporter, { subject_type: 'post', subject_id: target.id, category: 'spam' });
    const again = await report(reporter, { subject_type: 'post', subject_id: target.id, category: 'other' }, 200);
    expect(again.id).toBe(first.id);
    // Racing duplicates land once.
    const other = await createUser();
    const raced = await Promise.all([0, 1, 2].map(() => reportRaw(other, { subject_type: 'post', subject_id: target.id, category: 'spam' })));
    const bodies = await Promise.all(raced.map((r) => r.json<any>()));
    expect(new Set(bodies.map((b) => b.id)).size).toBe(1);
    expect(raced.map((r) => r.status).sort()).toEqual([200, 200, 201]);
    expect((await auditEntries('report.created')).filter((e) => e.data.subject_id === target.id)).toHaveLength(2);
  });

  it('should list the reporter\'s own reports and tell them the outcome, never the moderator', async () => {
    const [author, reporter] = [await createUser(), await createUser()];
    const target = await post(author, 'rude');
    const filed = await report(reporter, { subject_type: 'post', subject_id: target.id });
    await resolve(staff, filed.id, { action: 'none', note: 'not a violation' });
    const mine = await expectStatus(await call('/reports', { token: reporter.accessToken }), 200);
    expect(mine.data.map((r: any) => [r.id, r.status])).toEqual([[filed.id, 'dismissed']]);
    expect(JSON.stringify(mine)).not.toContain(staff.id);
    const notice = await waitForNotification(reporter, 'report_resolved');
    expect(notice.data).toEqual({ report_id: filed.id, subject_type: 'post', subject_id: target.id, category: 'harassment', status: 'dismissed', resolved_at: expect.any(String) });
    expect(JSON.stringify(notice)).not.toContain(staff.id);
    expect(JSON.stringify(notice)).not.toContain(staff.username);
  });
});

describe('Reports: bad input', () => {
  let reporter: TestUser;
  let target: any;
  beforeAll(async () => {
    reporter = await createUser();
    target = await post(await createUser(), 'something');
  });

  it('should answer 400 naming subject_type, category, comment and subject_id', async () => {
    await expectProblem(await reportRaw(reporter, { subject_type: 'planet', subject_id: target.id, category: 'spam' }), 400, 'subject_type');
    await expectProblem(await reportRaw(reporter, { subject_type: 'post', subject_id: target.id, category: 'rude' }), 400, 'category');
    await expectProblem(await reportRaw(reporter, { subject_type: 'post', subject_id: target.id, category: 'spam', comment: 'x'.repeat(1001) }), 400, 'comment');
    await expectProblem(await reportRaw(reporter, { subject_type: 'post', subject_id: 'nope', category: 'spam' }), 400, 'subject_id');
    await expectProblem(await reportRaw(reporter, { subject_type: 'message', subject_id: target.id, category: 'spam' }), 400, 'conversation_id');
    await expectProblem(await reportRaw(reporter, { subject_type: 'post', subject_id: target.id, category: 'spam', surprise: 1 }), 400, 'surprise');
    await expectStatus(await reportRaw(reporter, { subject_type: 'post', subject_id: target.id, category: 'spam', comment: 'x'.repeat(1000) }), 201);
  });

  it('should answer 400 to reporting yourself or your own content', async () => {
    const me = await createUser();
    const mine = await post(me, 'my own post');
    await expectProblem(await reportRaw(me, { subject_type: 'user', subject_id: me.id, category: 'spam' }), 400, 'subject_id');
    await expectProblem(await reportRaw(me, { subject_type: 'post', subject_id: mine.id, category: 'spam' }), 400, 'subject_id');
  });

  it('should answer 404 for subjects that do not exist', async () => {
    for (const subject_type of ['user', 'post', 'comment', 'community']) {
      await expectProblem(await reportRaw(reporter, { subject_type, subject_id: UNKNOWN_ID, category: 'spam' }), 404);
    }
  });

  it('should limit reports per account (429 with Retry-After), counting the last hour', async () => {
    const busy = await createUser();
    const now = Date.now();
    for (let i = 0; i < 20; i++) {
      await env.DB.prepare("INSERT INTO reports (id, reporter_id, subject_type, subject_id, category, snapshot, status, created_at) VALUES (?1, ?2, 'user', ?3, 'spam', ?5, 'dismissed', ?4)")
        .bind(`01JC7R${String(i).padStart(2, '0')}${busy.id.slice(8)}`, busy.id, UNKNOWN_ID, now - i * 1000, JSON.stringify({ author: null, content: '', media: [] }))
        .run();
    }
    const res = await reportRaw(busy, { subject_type: 'post', subject_id: target.id, category: 'spam' });
    await expectProblem(res, 429);
    expect(Number(res.headers.get('Retry-After'))).toBeGreaterThan(0);
  });
});

describe('Reports: what the reporter cannot see', () => {
  it('should answer 404 for a post the reporter may not see, and for a blocker\'s profile', async () => {
    const [author, stranger] = [await createUser(), await createUser()];
    const hidden = await post(author, { content: 'friends only', visibility: 'friends' });
    await expectProblem(await reportRaw(stranger, { subject_type: 'post', subject_id: hidden.id, category: 'spam' }), 404);
    await makePrivate(author);
    const privatePost = await post(author, 'public post of a private account');
    await expectProblem(await reportRaw(stranger, { subject_type: 'post', subject_id: privatePost.id, category: 'spam' }), 404);
    await block(author, stranger);
    await expectProblem(await reportRaw(stranger, { subject_type: 'user', subject_id: author.id, category: 'spam' }), 404);
    // The blocker can still report the account they blocked.
    await report(author, { subject_type: 'user', subject_id: stranger.id });
  });

  it('should let only participants report a message', async () => {
    const [a, b, outsider] = [await createUser(), await createUser(), await createUser()];
    const group = await startGroup(a, [b]);
    const message = await send(a, group.id, 'members only');
    await expectProblem(await reportRaw(outsider, { subject_type: 'message', subject_id: message.id, conversation_id: group.id, category: 'spam' }), 404);
    // A real conversation but the wrong message id is 404 too.
    await expectProblem(await reportRaw(b, { subject_type: 'message', subject_id: UNKNOWN_ID, conversation_id: group.id, category: 'spam' }), 404);
    await report(b, { subject_type: 'message', subject_id: message.id, conversation_id: group.id });
  });

  it('should not notify anyone but the reporter, and nobody when there is no reporter', async () => {
    const [author, reporter] = [await createUser(), await createUser()];
    const target = await post(author, 'meh');
    const filed = await report(reporter, { subject_type: 'post', subject_id: target.id });
    await resolve(staff, filed.id, { action: 'warn', note: 'be nice' });
    await waitForNotification(reporter, 'report_resolved');
    const warning = await waitForNotification(author, 'moderation_warning');
    expect(warning.data).toEqual({ action: 'warn', reason: 'be nice', until: null });
    await quiet(100);
    expect((await notifications(author)).data.filter((n) => n.type === 'report_resolved')).toHaveLength(0);
  });
});

describe('Reports: subjects that are the reporter’s own or out of their sight', () => {
  it('should answer 400 to reporting your own comment, message or community, and 404 for a comment on a post you cannot see', async () => {
    const [me, other, author] = [await createUser(), await createUser(), await createUser()];
    const theirPost = await post(other, 'their post');
    const mine = await comment(me, theirPost.id, 'my own comment');
    await expectProblem(await reportRaw(me, { subject_type: 'comment', subject_id: mine.id, category: 'spam' }), 400, 'subject_id');
    const conversation = await startDirect(me, other);
    const message = await send(me, conversation.id, 'my own message');
    await expectProblem(await reportRaw(me, { subject_type: 'message', subject_id: message.id, conversation_id: conversation.id, category: 'spam' }), 400, 'subject_id');
    const community = await expectStatus(await call('/communities', { token: me.accessToken, body: { name: `Mine ${Date.now()}` } }), 201);
    await expectProblem(await reportRaw(me, { subject_type: 'community', subject_id: community.id, category: 'spam' }), 400, 'subject_id');

    // A comment is as hidden as the post it is on.
    const hidden = await post(author, { content: 'friends only', visibility: 'friends' });
    const remark = await comment(author, hidden.id, 'a remark');
    await expectProblem(await reportRaw(other, { subject_type: 'comment', subject_id: remark.id, category: 'spam' }), 404);
    expect(await env.DB.prepare('SELECT COUNT(*) AS n FROM reports WHERE reporter_id IN (?1, ?2)').bind(me.id, other.id).first('n')).toBe(0);
  });

  it('should file a report about a user in a community only when they are a member of it', async () => {
    const [owner, member, outsider, reporter] = [await createUser(), await createUser(), await createUser(), await createUser()];
    const community = await expectStatus(await call('/communities', { token: owner.accessToken, body: { name: `Club ${Date.now()}` } }), 201);
    await expectStatus(await call(`/communities/${community.id}/join`, { method: 'POST', token: member.accessToken }), 200);
    await expectProblem(await reportRaw(reporter, { subject_type: 'user', subject_id: outsider.id, community_id: community.id, category: 'harassment' }), 404, 'community_id');
    await expectProblem(await reportRaw(reporter, { subject_type: 'user', subject_id: member.id, community_id: UNKNOWN_ID, category: 'harassment' }), 404, 'community_id');
    const filed = await report(reporter, { subject_type: 'user', subject_id: member.id, community_id: community.id, category: 'harassment' });
    const row = await env.DB.prepare('SELECT community_id, subject_user_id FROM reports WHERE id = ?1').bind(filed.id).first();
    expect(row).toEqual({ community_id: community.id, subject_user_id: member.id });
  });
});

describe('Reports: resolving one whose account is gone', () => {
  it('should answer 404 to an account action on a deleted account, and still let staff dismiss the report', async () => {
    const [gone, reporter] = [await createUser(), await createUser()];
    const filed = await report(reporter, { subject_type: 'user', subject_id: gone.id });
    await expectStatus(await call('/me', { method: 'DELETE', token: gone.accessToken, body: { password: gone.password } }), 204);
    for (const action of ['warn', 'suspend']) {
      const problem = await expectProblem(await resolveRaw(staff, filed.id, { action }), 404);
      expect(problem.detail).toBe('The reported account no longer exists.');
    }
    expect((await staffReport(staff, filed.id)).status).toBe('open');
    expect((await resolve(staff, filed.id, { action: 'none' })).status).toBe('dismissed');
  });
});
