import { describe, expect, it } from 'vitest';
import { cleanText, MAX_COMBINING_MARKS, singleLineFrom, textProblem } from '../../src/policy/text-hygiene';
import { call, createUser, expectProblem, expectStatus, uniqueName } from '../helpers/client';
import { openSocket } from '../messaging/socket-helpers';
import { importUpload } from '../professional/helpers';

const RLO_SPOOF = 'abc\u202Egnp.exe';
const ZALGO = `a${'\u0301'.repeat(49)}`;
const NUL = 'nul\u0000byte';

describe('Text hygiene (the one module)', () => {
  it('should refuse controls and bidi overrides/isolates in single-line text, and allow ordinary text', () => {
    for (const bad of [NUL, 'tab\there', 'line\nbreak', 'bell\u0007', 'del\u007F', 'c1\u0085', RLO_SPOOF, 'lre\u202Ax', 'pdf\u202C', 'lri\u2066x\u2069', 'fsi\u2068x']) {
      expect(textProblem(bad, 'single_line'), JSON.stringify(bad)).not.toBeNull();
    }
    for (const good of ['Ada Lovelace', 'Zoë', 'José 🎉', 'مرحبا', 'שלום עולם', 'a\u200Db']) expect(textProblem(good, 'single_line')).toBeNull();
  });

  it('should allow tab, LF and CR in multi-line text but refuse NUL and other controls', () => {
    expect(textProblem('one\ttwo\nthree\r\nfour', 'multi_line')).toBeNull();
    for (const bad of [NUL, 'esc\u001B[31m', 'vt\u000B', 'ff\u000C', 'del\u007F', 'c1\u009B']) expect(textProblem(bad, 'multi_line'), JSON.stringify(bad)).not.toBeNull();
  });

  it('should refuse a bidi override left open in multi-line text, but not one closed on its line', () => {
    expect(textProblem(RLO_SPOOF, 'multi_line')).toMatch(/bidirectional/);
    expect(textProblem('open \u2067here\nclosed next line\u2069', 'multi_line')).toMatch(/bidirectional/);
    expect(textProblem('quote: \u2067مرحبا\u2069 ok', 'multi_line')).toBeNull();
    expect(textProblem('\u202Bembedded\u202C and more', 'multi_line')).toBeNull();
  });

  it(`should allow ${MAX_COMBINING_MARKS} combining marks on a character and refuse ${MAX_COMBINING_MARKS + 1}`, () => {
    for (const kind of ['single_line', 'multi_line'] as const) {
      expect(textProblem(`a${'\u0301'.repeat(MAX_COMBINING_MARKS)}`, kind)).toBeNull();
      expect(textProblem(`a${'\u0301'.repeat(MAX_COMBINING_MARKS + 1)}`, kind)).toMatch(/combining/);
      expect(textProblem(ZALGO, kind)).toMatch(/combining/);
    }
  });

  it('should return NFC text from the plain function', () => {
    expect(cleanText('Jose\u0301', 'single_line')).toEqual({ ok: true, value: 'José' });
    expect(cleanText(NUL, 'multi_line').ok).toBe(false);
  });

  it('should make text Kith did not get from typing (provider names, user agents) one clean line instead of refusing it', () => {
    expect(singleLineFrom('Grace\u0000 \tHopper\u202E\n', 50)).toBe('Grace Hopper');
    expect(singleLineFrom(RLO_SPOOF, 50)).toBe('abcgnp.exe');
    expect(singleLineFrom('KithPhone/1.0 (\u0007Android)', 200)).toBe('KithPhone/1.0 (Android)');
    expect(singleLineFrom(ZALGO, 50)).toBe(`\u00E1${'\u0301'.repeat(MAX_COMBINING_MARKS)}`); // NFC composes the first mark
    expect(singleLineFrom('x'.repeat(60), 50)).toHaveLength(50);
    for (const nothing of [null, undefined, '', ' \u202E\u0000 ']) expect(singleLineFrom(nothing, 50)).toBeNull();
  });
});

describe('Text hygiene on every write of user text', () => {
  it('should refuse a spoofed, NUL or zalgo display_name with 400 naming the field, at registration and in PATCH /me', async () => {
    const user = await createUser();
    for (const display_name of [RLO_SPOOF, NUL, ZALGO]) {
      await expectProblem(await call('/me', { method: 'PATCH', token: user.accessToken, body: { display_name } }), 400, 'display_name');
      const username = uniqueName();
      await expectProblem(await call('/auth/register', { body: { username, email: `${username}@example.com`, password: 'correct horse battery', display_name } }), 400, 'display_name');
    }
    const me = await expectStatus(await call('/me', { token: user.accessToken }), 200);
    expect(me.display_name).toBe(user.me.display_name);
  });

  it('should refuse NUL in a bio, controls in a link label and bidi overrides in a city, naming each field', async () => {
    const user = await createUser();
    await expectProblem(await call('/me', { method: 'PATCH', token: user.accessToken, body: { bio: NUL } }), 400, 'bio');
    await expectProblem(await call('/me', { method: 'PATCH', token: user.accessToken, body: { links: [{ label: 'x\u0000', url: 'https://a.example' }] } }), 400, 'links.0.label');
    await expectProblem(await call('/me', { method: 'PATCH', token: user.accessToken, body: { location: { country: 'PT', city: RLO_SPOOF } } }), 400, 'location.city');
  });

  it('should store text NFC-normalised and keep tabs and newlines in a bio', async () => {
    const user = await createUser();
    const me = await expectStatus(await call('/me', { method: 'PATCH', token: user.accessToken, body: { display_name: 'Jose\u0301', bio: 'line one\n\tline two' } }), 200);
    expect(me.display_name).toBe('José');
    expect(me.display_name).toHaveLength(4);
    expect(me.bio).toBe('line one\n\tline two');
  });

  it('should refuse spoofed community names and NUL in descriptions, creating nothing', async () => {
    const owner = await createUser();
    await expectProblem(await call('/communities', { token: owner.accessToken, body: { name: `Club ${RLO_SPOOF}` } }), 400, 'name');
    await expectProblem(await call('/communities', { token: owner.accessToken, body: { name: `Club ${ZALGO}` } }), 400, 'name');
    await expectProblem(await call('/communities', { token: owner.accessToken, body: { name: 'Fine name', description: NUL } }), 400, 'description');
    const mine = await expectStatus(await call('/me/communities', { token: owner.accessToken }), 200);
    expect(mine.data).toEqual([]);
    const created = await expectStatus(await call('/communities', { token: owner.accessToken, body: { name: `Cafe\u0301 ${uniqueName()}` } }), 201);
    expect(created.name.startsWith('Café ')).toBe(true);
    await expectProblem(await call(`/communities/${created.id}`, { method: 'PATCH', token: owner.accessToken, body: { name: RLO_SPOOF } }), 400, 'name');
  });

  it('should refuse NUL and zalgo in posts and comments', async () => {
    const author = await createUser();
    await expectProblem(await call('/posts', { token: author.accessToken, body: { content: NUL } }), 400, 'content');
    await expectProblem(await call('/posts', { token: author.accessToken, body: { content: ZALGO } }), 400, 'content');
    const post = await expectStatus(await call('/posts', { token: author.accessToken, body: { content: 'fine' } }), 201);
    await expectProblem(await call(`/posts/${post.id}`, { method: 'PATCH', token: author.accessToken, body: { content: NUL } }), 400, 'content');
    await expectProblem(await call(`/posts/${post.id}/comments`, { token: author.accessToken, body: { content: NUL } }), 400, 'content');
    await expectProblem(await call(`/posts/${post.id}/comments`, { token: author.accessToken, body: { content: RLO_SPOOF } }), 400, 'content');
  });

  it('should refuse spoofed conversation titles and NUL, zalgo or open overrides in messages over REST and the socket', async () => {
    const [a, b, c] = [await createUser(), await createUser(), await createUser()];
    await expectProblem(await call('/conversations', { token: a.accessToken, body: { participant_ids: [b.id, c.id], title: RLO_SPOOF } }), 400, 'title');
    const conv = await expectStatus(await call('/conversations', { token: a.accessToken, body: { participant_ids: [b.id, c.id], title: 'Plans' } }), 201);
    for (const content of [NUL, ZALGO, RLO_SPOOF]) {
      await expectProblem(await call(`/conversations/${conv.id}/messages`, { token: a.accessToken, body: { content } }), 400, 'content');
      await expectProblem(await call('/messages', { token: a.accessToken, body: { receiver_id: b.id, content } }), 400, 'content');
    }
    const sock = await openSocket(conv.id, a.accessToken);
    try {
      for (const [i, content] of [NUL, ZALGO, RLO_SPOOF].entries()) {
        const reply = await sock.request({ type: 'message.send', client_id: `bad-${i}`, content }, (f) => f?.type === 'error' || f?.type === 'ack');
        expect(reply.data).toMatchObject({ type: 'error', status: 400, detail: expect.stringMatching(/^content: /) });
      }
      const ok = await sock.request({ type: 'message.send', client_id: 'nfc', content: 'cafe\u0301' }, (f) => f?.type === 'ack' || f?.type === 'error');
      expect(ok.data).toEqual({ type: 'ack', client_id: 'nfc', seq: 1 });
    } finally {
      sock.close();
    }
    const history = await expectStatus(await call(`/conversations/${conv.id}/messages`, { token: b.accessToken }), 200);
    expect(history.data.map((m: any) => m.content)).toEqual(['café']);
  });
});

describe('Text hygiene on the professional, filter, report and news fields', () => {
  it('should refuse spoofed professional fields, filter titles and keywords, and NUL in report comments, naming each field', async () => {
    const user = await createUser();
    const put = (body: unknown) => call('/me/professional', { method: 'PUT', token: user.accessToken, body });
    await expectProblem(await put({ headline: RLO_SPOOF }), 400, 'headline');
    await expectProblem(await put({ summary: NUL }), 400, 'summary');
    await expectProblem(await put({ positions: [{ title: 'Engineer', company: RLO_SPOOF, started_on: '2020-01' }] }), 400, 'positions.0.company');
    await expectProblem(await put({ skills: [ZALGO] }), 400, 'skills.0');
    await expectProblem(await call('/filters', { token: user.accessToken, body: { title: RLO_SPOOF, context: ['home'], keywords: [{ keyword: 'x' }] } }), 400, 'title');
    await expectProblem(await call('/filters', { token: user.accessToken, body: { title: 'F', context: ['home'], keywords: [{ keyword: 'a\u0000b' }] } }), 400, 'keywords.0.keyword');
    const other = await createUser();
    await expectProblem(await call('/reports', { token: user.accessToken, body: { subject_type: 'user', subject_id: other.id, category: 'spam', comment: NUL } }), 400, 'comment');
  });

  it('should leave a spoofed headline out of a LinkedIn import with a warning, and keep the clean fields', async () => {
    const user = await createUser();
    const csv = `First Name,Last Name,Headline,Summary,Industry\nAda,L,${RLO_SPOOF},"Line one\nline two",Research\n`;
    const body = await expectStatus(await importUpload(user, new TextEncoder().encode(csv), 'Profile.csv'), 200);
    expect(body.profile).toMatchObject({ headline: null, summary: 'Line one\nline two', industry: 'Research' });
    expect(body.warnings).toContainEqual({ file: expect.any(String), line: 2, message: expect.stringContaining('Headline must not contain') });
  });
});
