import { describe, expect, it } from 'vitest';
import { call, createUser, expectProblem, expectStatus, type TestUser } from '../helpers/client';
import { befriend, block, discoverAll, fanOutNow, follow, homeAll, homePage, like, makePrivate, mute } from './helpers';

async function post(author: TestUser, body: Record<string, unknown>): Promise<any> {
  return expectStatus(await call('/posts', { body, token: author.accessToken }), 201);
}

const pro = (author: TestUser, content: string, extra: Record<string, unknown> = {}) => post(author, { content, space: 'professional', ...extra });

async function professionalPage(user: TestUser | null, params: Record<string, string | number> = {}): Promise<{ data: any[]; next_cursor: string | null }> {
  const q = new URLSearchParams(Object.entries(params).map(([k, v]) => [k, String(v)]));
  return expectStatus(await call(`/feed/professional?${q}`, { token: user?.accessToken }), 200);
}

/** Every page of the professional feed, in order. */
async function professionalAll(user: TestUser | null, params: Record<string, string | number> = {}): Promise<any[]> {
  const out: any[] = [];
  let cursor: string | null = null;
  for (let i = 0; i < 100; i++) {
    const page = await professionalPage(user, { ...params, ...(cursor ? { cursor } : {}) });
    out.push(...page.data);
    if (!page.next_cursor) return out;
    expect(page.data.length, 'a page before the last is full').toBe(Number(params.limit ?? 20));
    cursor = page.next_cursor;
  }
  throw new Error('professional feed walk did not end');
}

describe('Posts: space', () => {
  it('should create a personal post by default and a professional one on request', async () => {
    const ada = await createUser();
    expect((await post(ada, { content: 'weekend' })).space).toBe('personal');
    const work = await pro(ada, 'new role', { topic: 'career' });
    expect(work).toMatchObject({ space: 'professional', topic: 'career' });
    expect((await expectStatus(await call(`/posts/${work.id}`), 200)).space).toBe('professional');
    const mine = await expectStatus(await call(`/users/${ada.id}/posts`), 200);
    expect(mine.data.map((p: any) => p.space).sort()).toEqual(['personal', 'professional']);
  });

  it('should refuse a professional wall or community post, and an unknown space, with 400 naming space', async () => {
    const [ada, friend] = [await createUser(), await createUser()];
    await befriend(ada, friend);
    await expectProblem(await call('/posts', { body: { content: 'x', space: 'professional', target_user_id: friend.id }, token: ada.accessToken }), 400, 'space');
    const community = await expectStatus(await call('/communities', { body: { name: 'Engine builders' }, token: ada.accessToken }), 201);
    await expectProblem(await call('/posts', { body: { content: 'x', space: 'professional', community_id: community.id }, token: ada.accessToken }), 400, 'space');
    await expectProblem(await call('/posts', { body: { content: 'x', space: 'work' }, token: ada.accessToken }), 400, 'space');
    // The space is fixed at creation.
    const own = await pro(ada, 'fixed');
    await expectProblem(await call(`/posts/${own.id}`, { method: 'PATCH', body: { space: 'personal' }, token: ada.accessToken }), 400, 'space');
  });
});

describe('Home and discover: personal posts only', () => {
  it('should keep professional posts out of the home feed, through the pull query and the materialised timeline', async () => {
    const [reader, author] = [await createUser(), await createUser()];
    await follow(reader, author);
    const before = await post(author, { content: 'personal one' });
    const hidden = await pro(author, 'professional one');
    // First read: the pull query (and the timeline it builds).
    expect(await homeAll(reader)).toEqual([before.id]);
    // Later posts reach the live timeline through the fan-out queue: the professional one must not.
    const later = await post(author, { content: 'personal two' });
    const laterPro = await pro(author, 'professional two');
    await fanOutNow(later.id, laterPro.id);
    const page = await homePage(reader);
    expect(page.data.map((p) => p.id)).toEqual([later.id, before.id]);
    expect(page.data.map((p) => p.id)).not.toContain(hidden.id);
    // The author's own home too.
    expect(await homeAll(author)).toEqual([later.id, before.id]);
  });

  it('should keep professional posts out of discover', async () => {
    const [reader, author] = [await createUser(), await createUser()];
    const personal = await post(author, { content: 'discover me', topic: 'music' });
    const professional = await pro(author, 'not here', { topic: 'music' });
    const ids = await discoverAll(reader, { topic: 'music' });
    expect(ids).toContain(personal.id);
    expect(ids).not.toContain(professional.id);
  });
});

describe('GET /feed/professional', () => {
  it('should list connections first, then others, newest first with sort=new, and never personal posts', async () => {
    const [reader, followed, friend, stranger] = [await createUser(), await createUser(), await createUser(), await createUser()];
    await follow(reader, followed);
    await befriend(reader, friend);
    const s1 = await pro(stranger, 'stranger old');
    const f1 = await pro(followed, 'followed old');
    const k1 = await pro(friend, 'friend, friends only', { visibility: 'friends' });
    const own = await pro(reader, 'my own');
    const s2 = await pro(stranger, 'stranger new');
    await post(followed, { content: 'personal: never here' });
    const hiddenFromReader = await pro(followed, 'followed, friends only', { visibility: 'friends' });

    const mine = new Set([reader.id, followed.id, friend.id, stranger.id]);
    const feed = (await professionalAll(reader, { sort: 'new', limit: 2 })).filter((p) => mine.has(p.author.id));
    expect(feed.map((p) => p.id)).toEqual([own.id, k1.id, f1.id, s2.id, s1.id]);
    expect(feed.every((p) => p.space === 'professional')).toBe(true);
    expect(feed.map((p) => p.id)).not.toContain(hiddenFromReader.id);
  });

  it('should rank with sort=top (the default): connections first, then others by engagement', async () => {
    const [reader, followed, popular, quiet, fan1, fan2] = [await createUser(), await createUser(), await createUser(), await createUser(), await createUser(), await createUser()];
    await follow(reader, followed);
    const quietPost = await pro(quiet, 'quiet', { topic: 'education' });
    const popularPost = await pro(popular, 'popular', { topic: 'education' });
    const connection = await pro(followed, 'from a connection', { topic: 'education' });
    await like(fan1, popularPost.id);
    await like(fan2, popularPost.id);
    const ids = (await professionalAll(reader, { topic: 'education', limit: 1 })).map((p) => p.id);
    expect(ids.indexOf(connection.id)).toBe(0);
    expect(ids.indexOf(popularPost.id)).toBeLessThan(ids.indexOf(quietPost.id));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('should filter by topic, leave out blocked, muted and private authors, and serve anonymous callers the public part', async () => {
    const [reader, blocked, muted, hidden, open] = [await createUser(), await createUser(), await createUser(), await createUser(), await createUser()];
    await block(reader, blocked);
    await mute(reader, muted);
    await makePrivate(hidden);
    const posts = {
      blocked: await pro(blocked, 'blocked', { topic: 'faith' }),
      muted: await pro(muted, 'muted', { topic: 'faith' }),
      hidden: await pro(hidden, 'private account', { topic: 'faith' }),
      open: await pro(open, 'open', { topic: 'faith' }),
      otherTopic: await pro(open, 'career talk', { topic: 'career' }),
    };
    const seen = (await professionalAll(reader, { topic: 'faith', sort: 'new', limit: 50 })).map((p) => p.id);
    expect(seen).toContain(posts.open.id);
    for (const id of [posts.blocked.id, posts.muted.id, posts.hidden.id, posts.otherTopic.id]) expect(seen).not.toContain(id);
    const anonymous = (await professionalAll(null, { topic: 'faith', sort: 'new', limit: 50 })).map((p) => p.id);
    expect(anonymous).toContain(posts.open.id);
    expect(anonymous).toContain(posts.blocked.id);
    expect(anonymous).not.toContain(posts.hidden.id);
  });

  it('should refuse a bad sort, topic or cursor with 400', async () => {
    const reader = await createUser();
    await pro(reader, 'one');
    await pro(reader, 'two');
    await expectProblem(await call('/feed/professional?sort=hot', { token: reader.accessToken }), 400, 'sort');
    await expectProblem(await call('/feed/professional?topic=gossip', { token: reader.accessToken }), 400, 'topic');
    await expectProblem(await call('/feed/professional?sort=new&cursor=abc', { token: reader.accessToken }), 400, 'cursor');
    // A cursor of sort=top means nothing to sort=new.
    const top = await professionalPage(reader, { limit: 1 });
    expect(top.next_cursor).not.toBeNull();
    await expectProblem(await call(`/feed/professional?sort=new&cursor=${top.next_cursor}`, { token: reader.accessToken }), 400, 'cursor');
  });
});
