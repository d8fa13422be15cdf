import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { call, createUser, expectProblem, expectStatus, type TestUser } from '../helpers/client';
import { REACH, takeReach, withinReach, type ReachKind } from '../../src/policy/reach';
import { runSignInJobs } from '../../src/scheduled';
import { expectNone, follow as followOk, post, quiet, waitForNotification } from '../notifications/helpers';

const DAY_S = 24 * 60 * 60;

const counter = (kind: ReachKind, user: TestUser) =>
  env.DB.prepare('SELECT count, window_start FROM auth_throttles WHERE key = ?1').bind(`reach:${kind}:${user.id}`).first<{ count: number; window_start: number }>();

/** Sets the account's window for `kind` to `count` actions, started `ageMs` ago. */
async function setCounter(kind: ReachKind, user: TestUser, count: number, ageMs = 0): Promise<void> {
  await env.DB.prepare(
    `INSERT INTO auth_throttles (key, window_start, count) VALUES (?1, ?2, ?3)
     ON CONFLICT(key) DO UPDATE SET window_start = excluded.window_start, count = excluded.count`,
  )
    .bind(`reach:${kind}:${user.id}`, Date.now() - ageMs, count)
    .run();
}

async function expectLimited(res: Response): Promise<void> {
  await expectProblem(res, 429);
  const retryAfter = Number(res.headers.get('Retry-After'));
  expect(retryAfter).toBeGreaterThan(DAY_S - 120);
  expect(retryAfter).toBeLessThanOrEqual(DAY_S);
}

const users = (n: number) => Promise.all(Array.from({ length: n }, () => createUser()));
const follow = (by: TestUser, target: TestUser) => call(`/users/${target.id}/follow`, { method: 'POST', token: by.accessToken });
const followRow = (by: TestUser, target: TestUser) => env.DB.prepare('SELECT status FROM follows WHERE follower_id = ?1 AND followee_id = ?2').bind(by.id, target.id).first();
const befriend = (from: TestUser, to: TestUser) => call('/friends/requests', { token: from.accessToken, body: { user_id: to.id } });

describe('How many people one account can approach in a day', () => {
  it('should count real follows, refuse the one past 400 with 429 writing nothing, never refuse a follow already made, and open a new window after a day', async () => {
    const [spammer, a, b, c, d] = await users(5);
    expect((await expectStatus(await follow(spammer!, a!), 200)).following).toBe(true);
    expect((await expectStatus(await follow(spammer!, b!), 200)).following).toBe(true);
    // Repeating a follow costs nothing.
    await expectStatus(await follow(spammer!, b!), 200);
    expect((await counter('follow', spammer!))?.count).toBe(2);

    await setCounter('follow', spammer!, REACH.follow.max - 1);
    await expectStatus(await follow(spammer!, c!), 200);
    expect((await counter('follow', spammer!))?.count).toBe(REACH.follow.max);
    await expectLimited(await follow(spammer!, d!));
    expect(await followRow(spammer!, d!)).toBeNull();
    const profile = await expectStatus(await call(`/users/${d!.id}`), 200);
    expect(profile.counts.followers).toBe(0);
    // At the limit, a follow that exists is still answered as before (idempotent retries).
    expect(await expectStatus(await follow(spammer!, c!), 200)).toEqual({ following: true, requested: false });

    // A window that started a day ago is over: the next follow starts a new one.
    await setCounter('follow', spammer!, REACH.follow.max, DAY_S * 1000 + 1000);
    await expectStatus(await follow(spammer!, d!), 200);
    expect((await counter('follow', spammer!))?.count).toBe(1);
  });

  it('should count a follow request to a private account like a follow', async () => {
    const [spammer, shy] = await users(2);
    await expectStatus(await call('/me', { method: 'PATCH', token: shy!.accessToken, body: { visibility: 'private' } }), 200);
    await setCounter('follow', spammer!, REACH.follow.max);
    await expectLimited(await follow(spammer!, shy!));
    expect(await followRow(spammer!, shy!)).toBeNull();
    await setCounter('follow', spammer!, REACH.follow.max - 1);
    expect(await expectStatus(await follow(spammer!, shy!), 200)).toEqual({ following: false, requested: true });
  });

  it('should refuse the friend request past 100 with 429 writing nothing, keep 409 for a duplicate and let a crossing request be accepted', async () => {
    const [spammer, a, b, c] = await users(4);
    await expectStatus(await befriend(spammer!, a!), 201);
    expect((await counter('friend_request', spammer!))?.count).toBe(1);

    await setCounter('friend_request', spammer!, REACH.friend_request.max);
    await expectLimited(await befriend(spammer!, b!));
    const outgoing = await expectStatus(await call('/friends/requests?direction=outgoing', { token: spammer!.accessToken }), 200);
    expect(outgoing.data.map((r: any) => r.to_user.id)).toEqual([a!.id]);
    const incoming = await expectStatus(await call('/friends/requests?direction=incoming', { token: b!.accessToken }), 200);
    expect(incoming.data).toEqual([]);
    // A duplicate is still what it was (409), whatever the budget.
    await expectProblem(await befriend(spammer!, a!), 409, 'user_id');
    // Someone who asked first is accepted: that approaches nobody.
    await expectStatus(await befriend(c!, spammer!), 201);
    const accepted = await expectStatus(await befriend(spammer!, c!), 200);
    expect(accepted.status).toBe('accepted');
    expect((await counter('friend_request', spammer!))?.count).toBe(REACH.friend_request.max);
  });

  it('should count message requests per stranger, not per conversation, leave out people who follow the sender, and create nothing past 50', async () => {
    const [spammer, fan, s1, s2, s3] = await users(5);
    await expectStatus(await follow(fan!, spammer!), 200); // a follower: not a request for them
    await setCounter('message_request', spammer!, REACH.message_request.max - 2);

    // Three strangers: one too many; nothing is created.
    await expectLimited(await call('/conversations', { token: spammer!.accessToken, body: { participant_ids: [s1!.id, s2!.id, s3!.id], title: 'hi' } }));
    const none = await expectStatus(await call('/conversations', { token: spammer!.accessToken }), 200);
    expect(none.data).toEqual([]);

    // Two strangers and a follower: two requests, within the budget.
    const group = await expectStatus(await call('/conversations', { token: spammer!.accessToken, body: { participant_ids: [s1!.id, s2!.id, fan!.id], title: 'hi' } }), 201);
    expect((await counter('message_request', spammer!))?.count).toBe(REACH.message_request.max);

    // The budget is spent: adding a stranger, or writing to one directly, is refused; a follower is not a request.
    await expectLimited(await call(`/conversations/${group.id}/members`, { token: spammer!.accessToken, body: { user_ids: [s3!.id] } }));
    await expectLimited(await call('/messages', { token: spammer!.accessToken, body: { receiver_id: s3!.id, content: 'hello' } }));
    const requests = await expectStatus(await call('/conversations?folder=requests', { token: s3!.accessToken }), 200);
    expect(requests.data).toEqual([]);
    await expectStatus(await call('/messages', { token: spammer!.accessToken, body: { receiver_id: fan!.id, content: 'hello' } }), 201);
  });

  // Called directly: requests made at once through the test runner reach the worker one after another,
  // so only direct calls can show that concurrent takers never pass the limit together.
  it('should let concurrent takers share the last of a day’s budget only as far as it fits', async () => {
    const [spammer, author] = await users(2);
    await setCounter('message_request', spammer!, REACH.message_request.max - 2);
    const taken = await Promise.allSettled([1, 2, 3, 4, 5].map(() => takeReach(env.DB, spammer!.id, 'message_request', 2)));
    expect(taken.map((t) => t.status).sort()).toEqual(['fulfilled', 'rejected', 'rejected', 'rejected', 'rejected']);
    for (const t of taken) if (t.status === 'rejected') expect(t.reason).toMatchObject({ status: 429 });
    expect((await counter('message_request', spammer!))?.count).toBe(REACH.message_request.max);
    // What a failed write gives back can be taken again, once.
    await (taken.find((t) => t.status === 'fulfilled') as PromiseFulfilledResult<() => Promise<void>>).value();
    expect((await counter('message_request', spammer!))?.count).toBe(REACH.message_request.max - 2);

    // Mentions: five texts naming three strangers each, at once, with four strangers left in the day.
    await setCounter('mention', author!, REACH.mention.max - 4);
    const strangers = (i: number) => [`s${i}a`, `s${i}b`, `s${i}c`];
    const kept = await Promise.all([1, 2, 3, 4, 5].map((i) => withinReach(env.DB, author!.id, 'mention', strangers(i))));
    expect(kept.flat()).toHaveLength(4);
    expect((await counter('mention', author!))?.count).toBe(REACH.mention.max);
  });

  it('should let mentions notify strangers only within the author’s 100 a day, followers always, and publish the post either way', async () => {
    const [author, fan, s1, s2, s3] = await users(5);
    await followOk(fan!, author!);
    await setCounter('mention', author!, REACH.mention.max - 1);
    const first = await post(author!, `hello @${s1!.username} and @${s2!.username} and @${fan!.username}`);
    // One stranger left in the day: the first named gets it, the second does not; the follower always does.
    await waitForNotification(s1!, 'mention', (n) => n.data.post_id === first.id);
    await waitForNotification(fan!, 'mention', (n) => n.data.post_id === first.id);
    await quiet();
    await expectNone(s2!, 'mention');
    expect((await counter('mention', author!))?.count).toBe(REACH.mention.max);

    const second = await post(author!, `again @${s3!.username} and @${fan!.username}`);
    await expectStatus(await call(`/posts/${second.id}`), 200);
    await waitForNotification(fan!, 'mention', (n) => n.data.post_id === second.id);
    await quiet();
    await expectNone(s3!, 'mention');
    expect((await counter('mention', author!))?.count).toBe(REACH.mention.max);
  });

  it('should delete the account’s counters with the account', async () => {
    const [gone, a] = await users(2);
    await expectStatus(await follow(gone!, a!), 200);
    await expectStatus(await befriend(gone!, a!), 201);
    expect(await counter('follow', gone!)).not.toBeNull();
    await expectStatus(await call('/me', { method: 'DELETE', token: gone!.accessToken, body: { password: gone!.password } }), 204);
    const left = await env.DB.prepare("SELECT key FROM auth_throttles WHERE key LIKE '%' || ?1").bind(gone!.id).all();
    expect(left.results).toEqual([]);
  });

  it('should prune, every minute, the counters whose window is over and keep those still running', async () => {
    const [ended, running] = await users(2);
    await setCounter('follow', ended!, 5, DAY_S * 1000 + 60_000);
    await setCounter('follow', running!, 5, DAY_S * 1000 - 60_000);
    await runSignInJobs(env, Date.now());
    expect(await counter('follow', ended!)).toBeNull();
    expect((await counter('follow', running!))?.count).toBe(5);
  });
});
