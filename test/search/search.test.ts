import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { call, createUser, expectProblem, expectStatus, walkPages } from '../helpers/client';
import { createCommunity, users } from '../communities/helpers';
import { like, makeFriends, patchPost, post, type TestUser } from '../posts/helpers';
import { capitalised, found, nonsenseWord, search, type SearchType } from './helpers';

// Without type a search runs all four kinds; posts also page through the rules stage.
const HOSTILE_TYPES: (SearchType | undefined)[] = [undefined, 'posts'];

let viewer: TestUser;
beforeAll(async () => {
  viewer = await createUser();
});

describe('GET /search?type=users', () => {
  it('should find people by a prefix of their name (typeahead), accent- and case-insensitively', async () => {
    const word = nonsenseWord('ad');
    const ada = await createUser({ display_name: `${capitalised(word)} Lovelace` });
    expect(await found(viewer, word.slice(0, 4), 'users')).toContain(ada.id);
    expect(await found(viewer, word.toUpperCase(), 'users')).toContain(ada.id);
    // Accents: the stored "Zoë" and "Crème" are found as "zoe" and "CREME", and the other way round.
    const other = nonsenseWord('zo');
    const zoe = await createUser({ display_name: `Zoë ${other}` });
    await expectStatus(await call('/me', { method: 'PATCH', token: zoe.accessToken, body: { bio: 'Crème brûlée enthusiast' } }), 200);
    expect(await found(viewer, `zoe ${other}`, 'users')).toEqual([zoe.id]);
    expect(await found(viewer, `CREME ${other}`, 'users')).toEqual([zoe.id]);
    expect(await found(viewer, `brûl ${other}`, 'users')).toEqual([zoe.id]);
    // Every word must match somewhere.
    expect(await found(viewer, `${other} ${nonsenseWord()}`, 'users')).toEqual([]);
  });

  it('should find people by username (with or without @) and put the exact username first', async () => {
    const person = await createUser();
    expect(await found(viewer, person.username, 'users')).toContain(person.id);
    expect((await found(viewer, `@${person.username}`, 'users'))[0]).toBe(person.id);
  });

  it('should rank a friend above a stranger with the same name', async () => {
    const word = nonsenseWord('sm');
    const [first, second] = [await createUser({ display_name: `${word} Smith` }), await createUser({ display_name: `${word} Smith` })];
    // Equal matches come newest first; the friendship boost puts the older account ahead.
    expect(await found(viewer, word, 'users')).toEqual([second.id, first.id]);
    await makeFriends(viewer, first);
    expect(await found(viewer, word, 'users')).toEqual([first.id, second.id]);
  });

  it('should match a public professional headline, and stop when the profile is no longer public', async () => {
    const word = nonsenseWord('hd');
    const person = await createUser();
    await expectStatus(await call('/me/professional', { method: 'PUT', token: person.accessToken, body: { headline: `Chief ${word} engineer`, visibility: 'public' } }), 200);
    expect(await found(viewer, word, 'users')).toEqual([person.id]);
    await expectStatus(await call('/me/professional', { method: 'PATCH', token: person.accessToken, body: { visibility: 'connections' } }), 200);
    expect(await found(viewer, word, 'users')).toEqual([]);
  });

  it('should paginate without repeats', async () => {
    const word = nonsenseWord('pg');
    const people = [];
    for (let i = 0; i < 5; i++) people.push(await createUser({ display_name: `${word} ${i}` }));
    const { items, pages } = await walkPages(`/search?type=users&q=${word}`, viewer.accessToken, 2);
    expect(pages).toBe(3);
    expect(items.map((u) => u.id).sort()).toEqual(people.map((p) => p.id).sort());
  });
});

describe('GET /search?type=posts', () => {
  it('should find posts by whole words of their content, accent-insensitively, and follow edits', async () => {
    const word = nonsenseWord('po');
    const author = await createUser();
    const hit = await post(author, `Fresh bread and ${word} at the café`);
    await post(author, `Only ${word}s here`);
    expect(await found(viewer, word, 'posts')).toEqual([hit.id]);
    expect(await found(viewer, `CAFE ${word}`, 'posts')).toEqual([hit.id]);
    expect(await found(viewer, `${word} ${nonsenseWord()}`, 'posts')).toEqual([]);
    await expectStatus(await patchPost(author, hit.id, { content: 'Nothing to see' }), 200);
    expect(await found(viewer, word, 'posts')).toEqual([]);
  });

  it('should match #tag as the tag, and a query of tags alone by the tag', async () => {
    const tag = nonsenseWord('tg');
    const author = await createUser();
    const tagged = await post(author, `Reading about #${capitalised(tag)} today`);
    const plain = await post(author, `The word ${tag} without the hash`);
    expect(tagged.tags).toEqual([tag]);
    expect((await found(viewer, `#${tag}`, 'posts')).sort()).toEqual([tagged.id]);
    expect((await found(viewer, `reading #${tag}`, 'posts')).sort()).toEqual([tagged.id]);
    expect((await found(viewer, tag, 'posts')).sort()).toEqual([plain.id, tagged.id].sort());
  });

  it('should rank an engaged post above an equal match without engagement', async () => {
    const word = nonsenseWord('en');
    const [author, fan] = await users(2);
    const older = await post(author, `${word} one`);
    const newer = await post(author, `${word} two`);
    expect(await found(viewer, word, 'posts')).toEqual([newer.id, older.id]);
    await expectStatus(await like(fan, older.id), 200);
    expect(await found(viewer, word, 'posts')).toEqual([older.id, newer.id]);
  });

  it('should paginate the matches without repeats', async () => {
    const word = nonsenseWord('pp');
    const author = await createUser();
    const made = [];
    for (let i = 0; i < 5; i++) made.push((await post(author, `${word} number ${i}`)).id);
    const { items } = await walkPages(`/search?type=posts&q=${word}`, viewer.accessToken, 2);
    expect(items.map((p) => p.id).sort()).toEqual(made.sort());
  });
});

describe('GET /search?type=communities and ?type=tags', () => {
  it('should find communities by a prefix of their name or description words', async () => {
    const word = nonsenseWord('cm');
    const owner = await createUser();
    const community = await createCommunity(owner, { name: `Société ${word}`, description: 'Weekly walks by the river' });
    expect(await found(viewer, word.slice(0, 5), 'communities')).toEqual([community.id]);
    expect(await found(viewer, `societe ${word}`, 'communities')).toEqual([community.id]);
    expect(await found(viewer, `river ${word}`, 'communities')).toEqual([community.id]);
  });

  it('should find tags in use by prefix, with their counts', async () => {
    const tag = nonsenseWord('ht');
    const author = await createUser();
    await post(author, `#${tag} first`);
    await post(author, `#${tag} again`);
    const page = await search(viewer, tag.slice(0, 6), 'tags');
    expect(page.data).toContainEqual({ tag, uses_24h: expect.any(Number), accounts_24h: expect.any(Number) });
    expect((await search(viewer, `#${tag}`, 'tags')).data.map((t: { tag: string }) => t.tag)).toEqual([tag]);
  });

  it('should rank tags by the posts anyone may see, never raised by hidden ones', async () => {
    const stem = nonsenseWord('hr');
    const [busy, open] = [`${stem}a`, `${stem}b`];
    const author = await createUser();
    // busy: one public post and six friends-only ones; open: two public posts.
    await post(author, `#${busy} in public`);
    for (let i = 0; i < 6; i++) await post(author, { content: `#${busy} among friends ${i}`, visibility: 'friends' });
    await post(author, `#${open} one`);
    await post(author, `#${open} two`);
    expect((await search(viewer, stem, 'tags')).data.map((t: { tag: string }) => t.tag)).toEqual([open, busy]);
  });
});

describe('GET /search without type', () => {
  it('should answer the four kinds, at most 5 of each', async () => {
    const word = nonsenseWord('al');
    const author = await createUser({ display_name: `${word} Author` });
    for (let i = 0; i < 6; i++) await post(author, `${word} #${word} post ${i}`);
    const owner = await createUser();
    const community = await createCommunity(owner, { name: `${word} club` });
    const all = await search(viewer, word);
    expect(Object.keys(all).sort()).toEqual(['communities', 'posts', 'tags', 'users']);
    expect(all.users.map((u: { id: string }) => u.id)).toEqual([author.id]);
    expect(all.posts).toHaveLength(5);
    expect(all.communities.map((c: { id: string }) => c.id)).toEqual([community.id]);
    expect(all.tags.map((t: { tag: string }) => t.tag)).toEqual([word]);
  });
});

describe('GET /search bad input', () => {
  it('should refuse a missing, empty, blank or too long q with 400 naming q', async () => {
    await expectProblem(await call('/search', { token: viewer.accessToken }), 400, 'q');
    await expectProblem(await call('/search?q=', { token: viewer.accessToken }), 400, 'q');
    await expectProblem(await call('/search?q=%20%20', { token: viewer.accessToken }), 400, 'q');
    await expectProblem(await call(`/search?q=${'a'.repeat(101)}`, { token: viewer.accessToken }), 400, 'q');
    await expectStatus(await call(`/search?q=${'a'.repeat(100)}`, { token: viewer.accessToken }), 200);
  });

  it('should refuse an unknown type, a bad limit or cursor with 400 naming the field', async () => {
    await expectProblem(await call('/search?q=ada&type=people', { token: viewer.accessToken }), 400, 'type');
    await expectProblem(await call('/search?q=ada&type=users&limit=0', { token: viewer.accessToken }), 400, 'limit');
    await expectProblem(await call('/search?q=ada&type=users&cursor=%21%21', { token: viewer.accessToken }), 400, 'cursor');
  });

  it('should require authentication', async () => {
    await expectProblem(await call('/search?q=ada'), 401);
  });

  const HOSTILE = ['"', '""', "'", 'AND', 'OR', 'NOT', 'NEAR', '*', '(', ')', 'NEAR(', 'NEAR(a b, 1)', 'col:x', 'username:ada', 'content:x', '^ada', '-ada', '+', '{a b}',
    'a AND (b OR', '"unterminated', 'ada*', '*ada', '#', '##', '#"', '@', '\\', '%', '\u0001\u0002', '\u202e', 'x\u0000y', 'users_fts', 'rank:1', '🙂', '\u0301'];
  it('should answer every hostile q with results or an empty list, never a 5xx', async () => {
    for (const q of HOSTILE) {
      for (const type of HOSTILE_TYPES) {
        const res = await call(`/search?q=${encodeURIComponent(q)}${type ? `&type=${type}` : ''}`, { token: viewer.accessToken });
        const text = await res.text();
        expect(res.status, `q=${JSON.stringify(q)} type=${type}: ${text}`).toBe(200);
      }
    }
  });

  it('should search FTS operators as plain words', async () => {
    const word = nonsenseWord('op');
    const person = await createUser({ display_name: `${capitalised(word)} and Near` });
    const author = await createUser();
    const hit = await post(author, `${word} AND near OR not`);
    for (const q of [`"${word}" AND`, `${word}* NEAR(`, `near:${word}`, `(${word} AND)`, `${word}"`]) {
      expect(await found(viewer, q, 'users'), q).toContain(person.id);
    }
    expect(await found(viewer, `${word} OR NOT`, 'posts')).toEqual([hit.id]);
    expect(await found(viewer, `${word} NOT near`, 'posts')).toEqual([hit.id]);
  });
});

describe('Full-text indexes', () => {
  const INDEXES = ['users_fts', 'posts_fts', 'tags_fts', 'communities_fts'];
  it('should stay equal to their content after every kind of change', async () => {
    const word = nonsenseWord('ix');
    const person = await createUser({ display_name: `${word} Index` });
    await expectStatus(await call('/me', { method: 'PATCH', token: person.accessToken, body: { display_name: 'Renamed', bio: `bio ${word}`, visibility: 'private' } }), 200);
    await expectStatus(await call('/me/professional', { method: 'PUT', token: person.accessToken, body: { headline: `${word} lead` } }), 200);
    await expectStatus(await call('/me', { method: 'PATCH', token: person.accessToken, body: { visibility: 'public' } }), 200);
    await expectStatus(await call('/me/professional', { method: 'PATCH', token: person.accessToken, body: { headline: 'Another', visibility: 'public' } }), 200);
    const written = await post(person, `#${word} first`);
    await expectStatus(await patchPost(person, written.id, { content: `#${word}x second` }), 200);
    await expectStatus(await call(`/posts/${written.id}`, { method: 'DELETE', token: person.accessToken }), 204);
    await post(person, `#${word}y kept`);
    const community = await createCommunity(person, { name: `${word} index club` });
    await expectStatus(await call(`/communities/${community.id}`, { method: 'PATCH', token: person.accessToken, body: { description: `about ${word}` } }), 200);
    for (const table of INDEXES) {
      // FTS5 raises "database disk image is malformed" when an external-content index disagrees with its content.
      await env.DB.prepare(`INSERT INTO ${table} (${table}, rank) VALUES ('integrity-check', 1)`).run();
    }
    await expectStatus(await call(`/communities/${community.id}`, { method: 'DELETE', token: person.accessToken }), 204);
    await expectStatus(await call('/me', { method: 'DELETE', token: person.accessToken, body: { password: person.password } }), 204);
    for (const table of INDEXES) await env.DB.prepare(`INSERT INTO ${table} (${table}, rank) VALUES ('integrity-check', 1)`).run();
    expect(await found(viewer, word, 'users')).toEqual([]);
    expect(await found(viewer, `#${word}y`, 'tags')).toEqual([]);
  });
});
