import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { runModerationJobs } from '../../src/scheduled';
import backfillHeldReasons from '../../migrations/0038_comment_held_reason_backfill.sql?raw';
import { call, createUser, expectProblem, expectStatus } from '../helpers/client';
import { createConversationRaw, directMessageRaw, startDirect } from '../messaging/helpers';
import { openSocket } from '../messaging/socket-helpers';
import { recordEvents } from '../helpers/events';
import { quiet as quietly, waitForNotification } from '../notifications/helpers';
import { openNotifications } from '../notifications/stream-helpers';
import { comment, follow, getPost, like, likers, listComments, makeFriends, post, userPosts } from '../posts/helpers';
import { act, addRule, auditEntries, autoReportAbout, createStaff, nonsenseWord, resolve, type TestUser } from './helpers';

const HOUR = 3_600_000;
let staff: TestUser;
beforeAll(async () => {
  staff = await createStaff('moderator');
});

const login = (user: TestUser) => call('/auth/login', { body: { login: user.username, password: user.password } });
const ids = (page: { data: { id: string }[] }) => page.data.map((item) => item.id);

describe('Suspension', () => {
  it('should refuse login (403 /account-suspended), the live access token and the refresh token at once', async () => {
    const user = await createUser();
    await expectStatus(await call('/me', { token: user.accessToken }), 200);
    const state = await act(staff, user, 'suspend');
    expect(state).toMatchObject({ user: { id: user.id }, status: 'suspended', until: null, role: 'user' });
    await expectProblem(await call('/me', { token: user.accessToken }), 401);
    await expectProblem(await call('/posts', { token: user.accessToken, body: { content: 'still here?' } }), 401);
    const refused = await expectProblem(await login(user), 403);
    expect(refused.type).toMatch(/\/account-suspended$/);
    const refresh = await expectProblem(await call('/auth/refresh', { body: { refresh_token: user.refreshToken } }), 403);
    expect(refresh.type).toMatch(/\/account-suspended$/);
    // A wrong password still gets the ordinary 401: the state is told only to who knows the password.
    await expectProblem(await call('/auth/login', { body: { login: user.username, password: 'not the password' } }), 401);
  });

  it('should refuse every write of an account suspended elsewhere at once, while a read may ride the 10 s session cache', async () => {
    // As if another isolate suspended it: D1 changes, this isolate's session cache is not told.
    const user = await createUser();
    await expectStatus(await call('/me', { token: user.accessToken }), 200);
    await env.DB.prepare('UPDATE users SET suspended_at = ?2 WHERE id = ?1').bind(user.id, Date.now()).run();
    await expectProblem(await call('/posts', { token: user.accessToken, body: { content: 'sneaky' } }), 401);
    expect(await env.DB.prepare('SELECT COUNT(*) AS n FROM posts WHERE author_id = ?1').bind(user.id).first('n')).toBe(0);
    // The refused write evicted the session here, so reads stop too.
    await expectProblem(await call('/me', { token: user.accessToken }), 401);
  });

  it("should make the account's profile and content 404 to others and absent from every list", async () => {
    const [bad, reader, other] = [await createUser(), await createUser(), await createUser()];
    await follow(reader, bad);
    await follow(bad, other);
    const community = await expectStatus(await call('/communities', { token: other.accessToken, body: { name: `Club ${Date.now()}` } }), 201);
    await expectStatus(await call(`/communities/${community.id}/join`, { method: 'POST', token: bad.accessToken }), 200);
    const own = await post(bad, 'by the suspended');
    const others = await post(other, 'by someone else');
    await comment(bad, others.id, 'suspended comment');
    await expectStatus(await like(bad, others.id), 200);
    // Before: everything is there.
    expect(ids(await expectStatus(await call('/feed/home', { token: reader.accessToken }), 200))).toContain(own.id);
    expect(ids(await expectStatus(await call('/feed/discover?limit=100', { token: reader.accessToken }), 200))).toContain(own.id);

    await act(staff, bad, 'suspend', { duration_hours: 24 });
    await expectProblem(await call(`/users/${bad.id}`, { token: reader.accessToken }), 404);
    await expectProblem(await call(`/users/${bad.username}`), 404);
    await expectProblem(await userPosts(bad, reader), 404);
    await expectProblem(await getPost(own.id, reader), 404);
    expect(ids(await expectStatus(await call('/feed/home', { token: reader.accessToken }), 200))).not.toContain(own.id);
    expect(ids(await expectStatus(await call('/feed/discover?limit=100', { token: reader.accessToken }), 200))).not.toContain(own.id);
    expect((await expectStatus(await listComments(others.id, reader), 200)).data).toHaveLength(0);
    expect(ids(await expectStatus(await likers(others.id, reader), 200))).not.toContain(bad.id);
    expect(ids(await expectStatus(await call(`/users/${other.id}/followers`, { token: reader.accessToken }), 200))).not.toContain(bad.id);
    expect(ids(await expectStatus(await call(`/users/${reader.id}/following`, { token: reader.accessToken }), 200))).not.toContain(bad.id);
    const members = await expectStatus(await call(`/communities/${community.id}/members`, { token: reader.accessToken }), 200);
    expect(members.data.map((m: any) => m.user.id)).not.toContain(bad.id);
    // Staff still see the account's state.
    expect((await expectStatus(await call(`/admin/users/${bad.id}`, { token: staff.accessToken }), 200)).status).toBe('suspended');
  });

  it('should close the account\'s conversation and notification sockets', async () => {
    const [bad, friend] = [await createUser(), await createUser()];
    const conversation = await startDirect(friend, bad);
    const chat = await openSocket(conversation.id, bad.accessToken);
    const inbox = await openNotifications(bad);
    await act(staff, bad, 'suspend');
    expect((await chat.closed()).code).toBe(4403);
    expect((await inbox.closed()).code).toBe(4403);
    // And a new socket is refused before the upgrade.
    const again = await call(`/conversations/${conversation.id}/stream`, { token: bad.accessToken, headers: { Upgrade: 'websocket' } });
    await expectProblem(again, 401);
  });

  it('should lift a timed suspension when the Cron Trigger runs past its end, and record it', async () => {
    const user = await createUser();
    const state = await act(staff, user, 'suspend', { duration_hours: 2 });
    expect(Date.parse(state.until) - Date.now()).toBeGreaterThan(HOUR);
    await runModerationJobs(env, Date.now() + HOUR);
    await expectProblem(await login(user), 403);
    await runModerationJobs(env, Date.now() + 3 * HOUR);
    await expectStatus(await login(user), 200);
    const lifts = (await auditEntries('account.action', user.id)).map((e) => [e.actor_id, e.data.action, e.data.reason]);
    expect(lifts).toEqual([
      [staff.id, 'suspend', 'test suspend'],
      [null, 'unsuspend', 'expired'],
    ]);
  });

  it('should lift a suspension by hand with unsuspend', async () => {
    const user = await createUser();
    await act(staff, user, 'suspend');
    expect((await act(staff, user, 'unsuspend')).status).toBe('active');
    await expectStatus(await login(user), 200);
    await expectStatus(await call(`/users/${user.id}`), 200);
  });
});

describe('Silence', () => {
  it("should keep a silenced account's posts to its followers and friends, out of discover", async () => {
    const [quiet, follower, friend, stranger] = [await createUser(), await createUser(), await createUser(), await createUser()];
    await follow(follower, quiet);
    await makeFriends(quiet, friend);
    const state = await act(staff, quiet, 'silence', { duration_hours: 24 });
    expect(state.status).toBe('silenced');
    const loud = await post(quiet, 'can anyone hear me');
    await expectStatus(await getPost(loud.id, follower), 200);
    await expectStatus(await getPost(loud.id, friend), 200);
    await expectStatus(await getPost(loud.id, quiet), 200);
    await expectProblem(await getPost(loud.id, stranger), 404);
    await expectProblem(await getPost(loud.id), 404);
    expect(ids(await expectStatus(await call('/feed/discover?limit=100', { token: follower.accessToken }), 200))).not.toContain(loud.id);
    expect(ids(await expectStatus(await call('/feed/home', { token: follower.accessToken }), 200))).toContain(loud.id);
    // The profile itself stays visible.
    await expectStatus(await call(`/users/${quiet.id}`, { token: stranger.accessToken }), 200);
  });

  it("should hold a silenced account's comments on the posts of people who neither follow nor befriend it: theirs alone, uncounted, notifying nobody", async () => {
    const [quiet, stranger, follower, friend, reader] = [await createUser(), await createUser(), await createUser(), await createUser(), await createUser()];
    await follow(follower, quiet);
    await makeFriends(quiet, friend);
    await act(staff, quiet, 'silence', { duration_hours: 24 });
    const [strangers, followers, friends] = [await post(stranger, 'a public thought'), await post(follower, 'mine too'), await post(friend, 'and mine')];
    const recorder = recordEvents();
    try {
      const held = await comment(quiet, strangers.id, `look at my profile @${stranger.username}`);
      expect(held.held).toBe(true);
      const commentIds = async (viewer?: TestUser) => ids(await expectStatus(await listComments(strangers.id, viewer), 200));
      expect(await commentIds(quiet)).toEqual([held.id]);
      for (const viewer of [stranger, reader, undefined]) expect(await commentIds(viewer)).toEqual([]);
      expect((await expectStatus(await getPost(strangers.id, reader), 200)).comment_count).toBe(0);
      // Nobody can answer it either.
      await expectProblem(await call(`/posts/${strangers.id}/comments`, { token: stranger.accessToken, body: { content: 'reply', parent_id: held.id } }), 404);
      // Those who follow or befriend it still hear from it.
      const heard = [await comment(quiet, followers.id, 'hello follower'), await comment(quiet, friends.id, 'hello friend')];
      expect(heard.map((c) => c.held)).toEqual([undefined, undefined]);
      expect(ids(await expectStatus(await listComments(followers.id, reader), 200))).toEqual([heard[0].id]);
      expect(ids(await expectStatus(await listComments(friends.id, reader), 200))).toEqual([heard[1].id]);
      expect(recorder.about(quiet).filter((e) => e.actorId === quiet.id).map((e) => [e.type, 'recipientId' in e ? e.recipientId : null])).toEqual([
        ['post_comment', follower.id],
        ['post_comment', friend.id],
      ]);
    } finally {
      recorder.stop();
    }
  });

  it('should release the comments held only because of a silence once it is lifted by hand: counted, notifying nobody late, those under review kept', async () => {
    const holdWord = nonsenseWord('sl');
    await addRule(staff, holdWord, 'hold');
    const [quiet, stranger, other, reader] = [await createUser(), await createUser(), await createUser(), await createUser()];
    const thought = await post(stranger, 'a public thought');
    const answered = await comment(other, thought.id, 'a first word');
    await act(staff, quiet, 'silence');
    const held = await comment(quiet, thought.id, `hear me @${stranger.username}`);
    const heldReply = await comment(quiet, thought.id, 'and here', answered.id);
    const reviewed = await comment(quiet, thought.id, `${holdWord} twice held`);
    const dismissed = await comment(quiet, thought.id, `${holdWord} dismissed while silenced`);
    expect([held, heldReply, reviewed, dismissed].map((c) => c.held)).toEqual([true, true, true, true]);
    // A moderator clears the content of one held for review too: the silence still holds it.
    await resolve(staff, (await autoReportAbout(staff, dismissed.id)).id, { action: 'none' });
    expect(ids(await expectStatus(await listComments(thought.id, reader), 200))).toEqual([answered.id]);
    expect((await expectStatus(await getPost(thought.id), 200)).comment_count).toBe(1);

    const recorder = recordEvents();
    try {
      expect((await act(staff, quiet, 'unsilence')).status).toBe('active');
      // Published as they were written (the anonymous copy of the post counts them at once), except
      // the one a content rule holds, still waiting for review.
      expect(ids(await expectStatus(await listComments(thought.id, reader), 200))).toEqual([answered.id, held.id, dismissed.id]);
      expect(ids(await expectStatus(await listComments(thought.id, reader, `?parent_id=${answered.id}`), 200))).toEqual([heldReply.id]);
      expect((await expectStatus(await getPost(thought.id), 200)).comment_count).toBe(4);
      expect((await expectStatus(await listComments(thought.id, reader), 200)).data[0].reply_count).toBe(1);
      expect(await autoReportAbout(staff, reviewed.id)).toBeDefined();
      // Nobody is told now of what was written then.
      await quietly();
      expect(recorder.about(quiet).filter((e) => e.actorId === quiet.id)).toEqual([]);
    } finally {
      recorder.stop();
    }
  });

  it('should release them when a timed silence lifts itself', async () => {
    const [quiet, stranger, reader] = [await createUser(), await createUser(), await createUser()];
    const thought = await post(stranger, 'another public thought');
    await act(staff, quiet, 'silence', { duration_hours: 1 });
    const held = await comment(quiet, thought.id, 'wait for me');
    expect(held.held).toBe(true);
    await expectStatus(await getPost(thought.id), 200);
    await runModerationJobs(env, Date.now() + 2 * HOUR);
    expect(ids(await expectStatus(await listComments(thought.id, reader), 200))).toEqual([held.id]);
    expect((await expectStatus(await getPost(thought.id), 200)).comment_count).toBe(1);
  });

  it('should tell, for comments held before holds had reasons, which a silence held (migration 0038)', async () => {
    const holdWord = nonsenseWord('mg');
    await addRule(staff, holdWord, 'hold');
    const [quiet, stranger] = [await createUser(), await createUser()];
    const thought = await post(stranger, 'held before reasons');
    await act(staff, quiet, 'silence');
    const bySilence = await comment(quiet, thought.id, 'silenced words');
    const byRule = await comment(quiet, thought.id, `${holdWord} words`);
    const reasons = async () =>
      (await env.DB.prepare('SELECT id, held_reason FROM comments WHERE post_id = ?1 ORDER BY created_at').bind(thought.id).all<{ id: string; held_reason: string | null }>()).results;
    expect(await reasons()).toEqual([{ id: bySilence.id, held_reason: 'silence' }, { id: byRule.id, held_reason: 'review' }]);
    await env.DB.prepare('UPDATE comments SET held_reason = NULL WHERE post_id = ?1').bind(thought.id).run();
    await env.DB.batch(backfillHeldReasons.split('--> statement-breakpoint').filter((sql) => sql.trim()).map((sql) => env.DB.prepare(sql)));
    expect(await reasons()).toEqual([{ id: bySilence.id, held_reason: 'silence' }, { id: byRule.id, held_reason: 'review' }]);
  });

  it('should let a silenced account start conversations with friends only, and tell it why it is silenced', async () => {
    const [quiet, friend, stranger] = [await createUser(), await createUser(), await createUser()];
    await makeFriends(quiet, friend);
    await act(staff, quiet, 'silence', { duration_hours: 1 });
    const notice = await waitForNotification(quiet, 'moderation_warning');
    expect(notice.data).toEqual({ action: 'silence', reason: 'test silence', until: expect.any(String) });
    await expectProblem(await createConversationRaw(quiet, { participant_ids: [stranger.id] }), 403);
    await expectProblem(await directMessageRaw(quiet, { receiver_id: stranger.id, content: 'hi' }), 403);
    await expectProblem(await createConversationRaw(quiet, { participant_ids: [friend.id, stranger.id] }), 403);
    await startDirect(quiet, friend, 201);
    // Lifted by the Cron Trigger an hour later.
    await runModerationJobs(env, Date.now() + 2 * HOUR);
    await startDirect(quiet, stranger, 201);
  });

  it('should warn with a moderation_warning notification carrying the reason', async () => {
    const user = await createUser();
    const state = await act(staff, user, 'warn', { reason: 'Please stop posting spoilers.' });
    expect(state.status).toBe('active');
    const notice = await waitForNotification(user, 'moderation_warning');
    expect(notice.data).toEqual({ action: 'warn', reason: 'Please stop posting spoilers.', until: null });
  });
});
