import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { compileKeywords, foldText } from '../../src/policy/keyword-matcher';
import { call, createUser, expectProblem, expectStatus, uniqueName } from '../helpers/client';
import { allMessages, editRaw, send, sendRaw, startDirect, startGroup } from '../messaging/helpers';
import { openSocket } from '../messaging/socket-helpers';
import { eventually, ofType, waitForNotification } from '../notifications/helpers';
import { commentRaw, createPostRaw, follow, getPost, listComments, patchPost, post } from '../posts/helpers';
import { addRule, autoReportAbout, createStaff, expectRejected, nonsenseWord, resolve, staffReport, type TestUser } from './helpers';

describe('The keyword matcher', () => {
  const match = (keyword: string, wholeWord: boolean, text: string) => compileKeywords([{ key: keyword, keyword, wholeWord }]).match(text).length > 0;

  it('should fold case, accents and compatibility forms the same way on both sides', () => {
    expect(foldText('Crème BRÛLÉE')).toBe('creme brulee');
    expect(match('café', true, 'I love CAFE au lait')).toBe(true);
    expect(match('cafe', true, 'un Café noir')).toBe(true);
    expect(match('spam', true, 'ｓｐａｍ here')).toBe(true);
    expect(match('strasse', false, 'Hauptstraße')).toBe(true);
    expect(match('strasse', true, 'Hauptstraße')).toBe(false);
  });

  it('should match whole words by default, anywhere when asked, and multi-word patterns in a row', () => {
    expect(match('spam', true, 'no spammer here')).toBe(false);
    expect(match('spam', false, 'no spammer here')).toBe(true);
    expect(match('buy now', true, 'Buy… NOW!')).toBe(true);
    expect(match('buy now', true, 'buy it now')).toBe(false);
    expect(match('$$$', true, 'free $$$ inside')).toBe(true);
  });

  it('should report every keyword found, overlapping ones included', () => {
    const matcher = compileKeywords([
      { key: 'flag', keyword: 'xab', wholeWord: false },
      { key: 'reject', keyword: 'abc', wholeWord: false },
      { key: 'word', keyword: 'hello', wholeWord: true },
    ]);
    expect(matcher.match('xabc hello')).toEqual(['flag', 'reject', 'word']);
    expect(matcher.match('nothing')).toEqual([]);
  });
});

describe('Keyword rules: management', () => {
  let staff: TestUser;
  beforeAll(async () => {
    staff = await createStaff('moderator');
  });

  it('should answer 400 to an empty or over-long pattern and an unknown action', async () => {
    const create = (body: unknown) => call('/admin/keyword_rules', { token: staff.accessToken, body });
    await expectProblem(await create({ pattern: '', action: 'reject' }), 400, 'pattern');
    await expectProblem(await create({ pattern: '   ', action: 'reject' }), 400, 'pattern');
    await expectProblem(await create({ pattern: 'x'.repeat(101), action: 'reject' }), 400, 'pattern');
    await expectProblem(await create({ pattern: 'ok', action: 'ban' }), 400, 'action');
    await expectStatus(await create({ pattern: 'x'.repeat(100), action: 'flag' }), 201);
  });

  it('should list rules and delete them, applying the change at once', async () => {
    const word = nonsenseWord();
    const rule = await addRule(staff, word, 'reject');
    expect(rule).toMatchObject({ pattern: word, whole_word: true, action: 'reject' });
    const listed = await expectStatus(await call('/admin/keyword_rules?limit=100', { token: staff.accessToken }), 200);
    expect(listed.data.map((r: any) => r.id)).toContain(rule.id);
    const author = await createUser();
    await expectRejected(await createPostRaw(author, { content: `a ${word} b` }), 'content');
    await expectStatus(await call(`/admin/keyword_rules/${rule.id}`, { method: 'DELETE', token: staff.accessToken }), 204);
    await expectStatus(await createPostRaw(author, { content: `a ${word} b` }), 201);
    await expectProblem(await call(`/admin/keyword_rules/${rule.id}`, { method: 'DELETE', token: staff.accessToken }), 404);
  });
});

describe('Keyword rules: reject', () => {
  let staff: TestUser;
  let word: string;
  let author: TestUser;
  beforeAll(async () => {
    staff = await createStaff('moderator');
    word = nonsenseWord();
    await addRule(staff, word, 'reject');
    author = await createUser();
  });

  it('should refuse posts, edits and comments with 422 /content-rejected naming the field, case- and accent-insensitively', async () => {
    await expectRejected(await createPostRaw(author, { content: `Well ${word.toUpperCase()}!` }), 'content');
    const accented = word.replace(/^(.)(.)/, '$1$2\u0301');
    await expectRejected(await createPostRaw(author, { content: accented }), 'content');
    const clean = await post(author, 'clean');
    await expectRejected(await patchPost(author, clean.id, { content: `now ${word}` }), 'content');
    await expectRejected(await commentRaw(author, clean.id, { content: word }), 'content');
    expect((await expectStatus(await getPost(clean.id, author), 200)).content).toBe('clean');
  });

  it('should refuse bios, display names, community names and descriptions and group titles', async () => {
    await expectRejected(await call('/me', { method: 'PATCH', token: author.accessToken, body: { bio: `I am ${word}` } }), 'bio');
    await expectRejected(await call('/me', { method: 'PATCH', token: author.accessToken, body: { display_name: word } }), 'display_name');
    const name = uniqueName('r');
    await expectRejected(await call('/auth/register', { body: { username: name, email: `${name}@example.com`, password: 'correct horse battery', display_name: word } }), 'display_name');
    await expectRejected(await call('/communities', { token: author.accessToken, body: { name: `The ${word} club` } }), 'name');
    await expectRejected(await call('/communities', { token: author.accessToken, body: { name: 'A fine club', description: word } }), 'description');
    const other = await createUser();
    await expectRejected(await call('/conversations', { token: author.accessToken, body: { participant_ids: [other.id, staff.id], title: word } }), 'title');
    expect(await env.DB.prepare('SELECT COUNT(*) AS n FROM users WHERE username = ?1').bind(name).first('n')).toBe(0);
  });

  it('should refuse messages over REST, and over the socket with an error frame, storing nothing', async () => {
    const other = await createUser();
    const conversation = await startDirect(author, other);
    await expectRejected(await sendRaw(author, conversation.id, { content: `psst ${word}` }), 'content');
    const socket = await openSocket(conversation.id, author.accessToken);
    const frame = await socket.request({ type: 'message.send', client_id: 'c1', content: `${word} via socket` }, (f) => f?.type === 'error' || f?.type === 'ack');
    expect(frame.data).toMatchObject({ type: 'error', status: 422 });
    expect(frame.data.detail).toMatch(/^content:/);
    await socket.request({ type: 'message.send', client_id: 'c2', content: 'fine' }, (f) => f?.type === 'ack');
    socket.close();
    expect((await allMessages(other, conversation.id)).map((m: any) => m.content)).toEqual(['fine']);
  });

  it('should check an edited message like a new one: 422 for a refused word, 400 over 4,000 characters, the message unchanged', async () => {
    const other = await createUser();
    const conversation = await startDirect(author, other);
    const sent = await send(author, conversation.id, 'first draft');
    await expectRejected(await editRaw(author, conversation.id, sent.seq, { content: `second ${word}` }), 'content');
    await expectProblem(await editRaw(author, conversation.id, sent.seq, { content: 'x'.repeat(4001) }), 400, 'content');
    expect((await allMessages(other, conversation.id)).map((m: any) => [m.content, m.edited_at])).toEqual([['first draft', null]]);
  });
});

describe('Keyword rules: hold and flag', () => {
  let staff: TestUser;
  let holdWord: string;
  let flagWord: string;
  beforeAll(async () => {
    staff = await createStaff('moderator');
    [holdWord, flagWord] = [nonsenseWord('hx'), nonsenseWord('fx')];
    await addRule(staff, holdWord, 'hold');
    await addRule(staff, flagWord, 'flag', false);
  });

  it('should keep a held post to its author and staff until a moderator releases it', async () => {
    const [author, follower, stranger] = [await createUser(), await createUser(), await createUser()];
    await follow(follower, author);
    const held = await post(author, `buy ${holdWord} today`);
    expect(held.held).toBe(true);
    expect((await expectStatus(await getPost(held.id, author), 200)).held).toBe(true);
    expect((await expectStatus(await getPost(held.id, staff), 200)).id).toBe(held.id);
    for (const viewer of [follower, stranger, undefined]) await expectProblem(await getPost(held.id, viewer), 404);
    const home = await expectStatus(await call('/feed/home', { token: follower.accessToken }), 200);
    expect(home.data.map((p: any) => p.id)).not.toContain(held.id);
    expect((await expectStatus(await call(`/users/${author.id}/posts`, { token: stranger.accessToken }), 200)).data).toHaveLength(0);

    const queued = await autoReportAbout(staff, held.id);
    expect(queued).toMatchObject({ reporter: null, subject_type: 'post', held: true, auto: { kind: 'keyword_rule', action: 'hold', pattern: holdWord, field: 'content' } });
    await resolve(staff, queued.id, { action: 'none', note: 'fine after all' });
    const released = await expectStatus(await getPost(held.id, stranger), 200);
    expect(released.held).toBeUndefined();
    await waitForNotification(follower, 'new_post', (n) => n.data.id === held.id);
  });

  it('should hold comments the same way', async () => {
    const [author, reader] = [await createUser(), await createUser()];
    const parent = await post(author, 'a post');
    const held = await expectStatus(await commentRaw(reader, parent.id, { content: `${holdWord}!` }), 201);
    expect(held.held).toBe(true);
    expect((await expectStatus(await listComments(parent.id, author), 200)).data).toHaveLength(0);
    expect((await expectStatus(await listComments(parent.id, reader), 200)).data.map((c: any) => c.id)).toEqual([held.id]);
    const queued = await autoReportAbout(staff, held.id);
    await resolve(staff, queued.id, { action: 'remove_content' });
    expect((await expectStatus(await listComments(parent.id, reader), 200)).data).toHaveLength(0);
  });

  it('should release a held comment when its automatic report is dismissed, and only then tell the post’s author', async () => {
    const [author, reader] = [await createUser(), await createUser()];
    const parent = await post(author, 'a post');
    const held = await expectStatus(await commentRaw(reader, parent.id, { content: `so ${holdWord}` }), 201);
    expect(await ofType(author, 'post_comment')).toEqual([]);
    await resolve(staff, (await autoReportAbout(staff, held.id)).id, { action: 'none' });
    expect((await expectStatus(await listComments(parent.id, author), 200)).data.map((c: any) => c.id)).toEqual([held.id]);
    await waitForNotification(author, 'post_comment', (n) => n.data.comment_id === held.id);
  });

  it('should refuse a held word in chat (a message cannot wait unseen)', async () => {
    const [a, b] = [await createUser(), await createUser()];
    const group = await startGroup(a, [b]);
    await expectRejected(await sendRaw(a, group.id, { content: holdWord }), 'content');
  });

  it('should publish flagged posts, bios and messages and open an automatic report for each', async () => {
    const [author, reader] = [await createUser(), await createUser()];
    const flagged = await post(author, `so ${flagWord}ish`);
    await expectStatus(await getPost(flagged.id, reader), 200);
    expect(await autoReportAbout(staff, flagged.id)).toMatchObject({ held: false, auto: { kind: 'keyword_rule', action: 'flag' } });

    const me = await expectStatus(await call('/me', { method: 'PATCH', token: author.accessToken, body: { bio: `into ${flagWord}` } }), 200);
    expect(me.bio).toBe(`into ${flagWord}`);
    expect((await autoReportAbout(staff, author.id)).subject.content).toBe(`into ${flagWord}`);

    const conversation = await startDirect(author, reader);
    const socket = await openSocket(conversation.id, author.accessToken);
    await socket.request({ type: 'message.send', client_id: 'f1', content: `${flagWord} in chat` }, (f) => f?.type === 'ack');
    socket.close();
    const [message] = await allMessages(reader, conversation.id);
    const report = await eventually(async () => {
      const found = await autoReportAbout(staff, message.id);
      expect(found).toBeDefined();
      return found;
    });
    expect(report.subject).toMatchObject({ author: { id: author.id }, content: `${flagWord} in chat` });
    expect((await staffReport(staff, report.id)).category).toBe('other');
  });

  it('should publish a message edited to a flagged word and open an automatic report on it', async () => {
    const [author, reader] = [await createUser(), await createUser()];
    const conversation = await startDirect(author, reader);
    const sent = await send(author, conversation.id, 'harmless');
    const edited = await expectStatus(await editRaw(author, conversation.id, sent.seq, { content: `now ${flagWord}` }), 200);
    expect(edited).toMatchObject({ seq: sent.seq, content: `now ${flagWord}`, edited_at: expect.any(String) });
    const report = await eventually(async () => {
      const found = await autoReportAbout(staff, sent.id);
      expect(found).toBeDefined();
      return found;
    });
    expect(report).toMatchObject({ auto: { kind: 'keyword_rule', action: 'flag' }, subject: { content: `now ${flagWord}` } });
  });
});

describe('Spam holds', () => {
  let staff: TestUser;
  beforeAll(async () => {
    staff = await createStaff('moderator');
  });

  it('should hold the same text a fourth time within ten minutes', async () => {
    const author = await createUser();
    await env.DB.prepare('UPDATE users SET created_at = ?2 WHERE id = ?1').bind(author.id, Date.now() - 30 * 86_400_000).run();
    const text = `Limited offer ${nonsenseWord()}`;
    for (let i = 0; i < 3; i++) expect((await post(author, text)).held).toBeUndefined();
    const fourth = await post(author, `  ${text.toUpperCase()} `);
    expect(fourth.held).toBe(true);
    expect(await autoReportAbout(staff, fourth.id)).toMatchObject({ category: 'spam', auto: { kind: 'spam_repeat', action: 'hold' } });
    // Posts and comments count together: the same text as a comment is the fifth copy.
    const parent = await post(await createUser(), 'host');
    expect((await expectStatus(await commentRaw(author, parent.id, { content: text }), 201)).held).toBe(true);
  });

  it('should hold more than five links in a day from an account younger than a day, not from an older one', async () => {
    const [young, old] = [await createUser(), await createUser()];
    await env.DB.prepare('UPDATE users SET created_at = ?2 WHERE id = ?1').bind(old.id, Date.now() - 2 * 86_400_000).run();
    const links = (n: number, tag: string) => Array.from({ length: n }, (_, i) => `https://example.com/${tag}/${i}`).join(' ');
    expect((await post(young, links(3, 'a'))).held).toBeUndefined();
    expect((await post(young, links(2, 'b'))).held).toBeUndefined();
    expect((await post(young, links(1, 'c'))).held).toBe(true);
    expect((await post(old, links(6, 'd'))).held).toBeUndefined();
  });
});
