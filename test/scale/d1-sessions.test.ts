import { describe, expect, it } from 'vitest';
import { call, createUser, expectProblem, expectStatus } from '../helpers/client';

const SHAPE = /^[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{32}\.[A-Za-z0-9_-]{22}$/;
/** The D1 bookmark inside a signed header value. */
const d1Part = (value: string) => value.split('.')[0]!;
const bookmarkOf = (res: Response) => res.headers.get('X-D1-Bookmark') ?? '';

describe('D1 Sessions: X-D1-Bookmark', () => {
  it('should put a well-formed bookmark on every response: reads, writes, problems and paths with no route', async () => {
    const user = await createUser();
    const answers = [
      await call('/me', { token: user.accessToken }),
      await call('/me', { method: 'PATCH', token: user.accessToken, body: { bio: 'bookmarked' } }),
      await call('/me', { method: 'PATCH', token: user.accessToken, body: { bio: 7 } }),
      await call('/me'),
      await call('/no/such/path'),
      await call('/health'),
    ];
    expect(answers.map((r) => r.status)).toEqual([200, 200, 400, 401, 404, 200]);
    for (const res of answers) expect(bookmarkOf(res)).toMatch(SHAPE);
  });

  it('should read your own write with the bookmark the write returned', async () => {
    const user = await createUser();
    const before = bookmarkOf(await call('/me', { token: user.accessToken }));
    const write = await call('/me', { method: 'PATCH', token: user.accessToken, body: { display_name: 'Written Once' } });
    await expectStatus(write, 200);
    const afterWrite = bookmarkOf(write);
    // Bookmarks sort oldest to newest: the write's answer names a newer state than the read before it.
    expect(d1Part(afterWrite) > d1Part(before)).toBe(true);

    const read = await call(`/users/${user.id}`, { headers: { 'X-D1-Bookmark': afterWrite } });
    expect((await expectStatus(read, 200)).display_name).toBe('Written Once');
    expect(d1Part(bookmarkOf(read)) >= d1Part(afterWrite)).toBe(true);
  });

  it('should honour only bookmarks it issued: a foreign or forged one is ignored like none', async () => {
    const user = await createUser();
    const issued = bookmarkOf(await call('/me', { method: 'PATCH', token: user.accessToken, body: { bio: 'forgery test' } }));
    const d1 = d1Part(issued);
    // A position far ahead of this database: honoured, it would pin the session to a state never reached.
    const ahead = `fffffff0${d1.slice(8)}`;
    const forged = [ahead, `${ahead}.${issued.split('.')[1]}`, `${d1}.AAAAAAAAAAAAAAAAAAAAAA`, `${d1}.${issued.split('.')[1]!.slice(1)}A`];
    for (const value of forged) {
      const res = await call(`/users/${user.id}`, { headers: { 'X-D1-Bookmark': value } });
      await expectStatus(res, 200);
      expect(d1Part(bookmarkOf(res)) < ahead, value).toBe(true);
    }
    // Its own bookmark is honoured: the answer names at least that state.
    const honoured = await call(`/users/${user.id}`, { headers: { 'X-D1-Bookmark': issued } });
    expect(d1Part(bookmarkOf(honoured)) >= d1).toBe(true);
  });

  it('should ignore a malformed bookmark, never answering 5xx', async () => {
    const user = await createUser();
    for (const bad of ['garbage', '', ' ', 'first-primary', '0'.repeat(62), `${'g'.repeat(8)}-00000000-00000000-${'0'.repeat(32)}`, 'x'.repeat(5000), '00000000-00000000-00000000-0000\t']) {
      const res = await call(`/users/${user.id}`, { headers: { 'X-D1-Bookmark': bad } });
      await expectStatus(res, 200);
      expect(bookmarkOf(res)).toMatch(SHAPE);
      expect(bookmarkOf(res)).not.toBe(bad);
    }
    // A bad bookmark on a request that fails validation changes nothing about the problem it gets.
    await expectProblem(await call('/users/x/posts?limit=0', { headers: { 'X-D1-Bookmark': 'garbage' } }), 400, 'limit');
  });
});
