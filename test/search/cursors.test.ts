import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { FILL_READ_ROWS } from '../../src/modules/posts/posts.service';
import { POST_CANDIDATES } from '../../src/modules/search/search.queries';
import { createCommunity, users } from '../communities/helpers';
import { call, createUser, expectProblem, walkPages } from '../helpers/client';
import { block, makePrivate, post, type TestUser } from '../posts/helpers';
import { nonsenseWord, search, type SearchType } from './helpers';

/**
 * A search answer shows no evidence of what the caller may not see: a cursor is handed out only when a
 * result the caller may see follows, and it names no row (sealed), so neither an empty page with a
 * cursor nor a cursor after the last visible result tells a stranger that hidden matches exist.
 */

/** The cursor read as Kith's plain cursors are (base64url of JSON), or null when it is not one. */
function plainly(cursor: string): unknown {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(Uint8Array.from(atob(cursor.replaceAll('-', '+').replaceAll('_', '/')), (ch) => ch.charCodeAt(0))));
  } catch {
    return null;
  }
}

/**
 * `count` accounts named `<word> hidden <n>` made in D1 (registering them through the API would take a
 * while), each hidden from other people's searches by `how`: suspended, or not discoverable.
 */
async function hiddenAccounts(word: string, count: number, how: 'suspended' | 'undiscoverable'): Promise<void> {
  const now = Date.now();
  const tag = how === 'suspended' ? '01JCS' : '01JCD';
  await env.DB.prepare(
    `WITH RECURSIVE n(j) AS (SELECT 1 UNION ALL SELECT j + 1 FROM n WHERE j < ?1)
     INSERT INTO users (id, username, email, password_hash, display_name, bio, links, visibility, wall_policy, discoverable, suspended_at, created_at, updated_at)
     SELECT ?2 || printf('%021d', j), ?3 || '_' || ?5 || j, ?3 || ?5 || j || '@example.com', 'x', ?3 || ' hidden ' || j, '', '[]', 'public', 'friends',
       ?5 != 'd', CASE WHEN ?5 = 's' THEN ?4 END, ?4, ?4 FROM n`,
  )
    .bind(count, tag, word, now, how === 'suspended' ? 's' : 'd')
    .run();
}

describe('GET /search?type=posts cursors', () => {
  it('should answer an empty last page, never a cursor, when every matching post is hidden from the caller', async () => {
    const word = nonsenseWord('ce');
    const [author, closed, stranger] = await users(3);
    await makePrivate(closed);
    for (let i = 0; i < 6; i++) await post(author, { content: `${word} for friends ${i}`, visibility: 'friends' });
    for (let i = 0; i < 4; i++) await post(author, { content: `${word} for me ${i}`, visibility: 'private' });
    for (let i = 0; i < 4; i++) await post(closed, `${word} from a private account ${i}`);
    for (const limit of [1, 2, 5, 20]) expect(await search(stranger, word, 'posts', `&limit=${limit}`), `limit=${limit}`).toEqual({ data: [], next_cursor: null });
    // However many hidden posts hold the word: a page reads the query's candidates to their end.
    expect(POST_CANDIDATES).toBeLessThanOrEqual(FILL_READ_ROWS);
  });

  it('should end with next_cursor null when only hidden posts follow the visible ones', async () => {
    const word = nonsenseWord('cl');
    const [author, stranger] = await users(2);
    for (let i = 0; i < 10; i++) await post(author, { content: `${word} hidden ${i}`, visibility: 'friends' });
    // Newest first among equal matches: the public post ranks above every hidden one.
    const open = await post(author, `${word} hidden 9`);
    for (const limit of [1, 2]) {
      const page = await search(stranger, word, 'posts', `&limit=${limit}`);
      expect(page.data.map((p: { id: string }) => p.id), `limit=${limit}`).toEqual([open.id]);
      expect(page.next_cursor, `limit=${limit}`).toBeNull();
    }
  });

  it('should walk visible posts among many hidden ones in full pages, the last one ending the list', async () => {
    const word = nonsenseWord('cw');
    const [author, stranger] = await users(2);
    const open: string[] = [];
    for (let i = 0; i < 12; i++) {
      // Contents of one length (equal relevance) that differ (no duplicate-content hold).
      const written = await post(author, { content: `${word} post ${String.fromCharCode(97 + i)}`, visibility: i % 4 === 0 ? 'public' : 'friends' });
      if (i % 4 === 0) open.push(written.id);
    }
    for (const limit of [1, 2]) {
      // walkPages checks that every page before the last is full.
      const { items, pages } = await walkPages(`/search?type=posts&q=${word}`, stranger.accessToken, limit);
      expect(items.map((p: { id: string }) => p.id), `limit=${limit}`).toEqual([...open].reverse());
      expect(pages, `limit=${limit}`).toBe(Math.ceil(open.length / limit));
    }
  });
});

describe('GET /search?type=users cursors', () => {
  it('should hand out no cursor when only people hidden from the caller remain, and name no row in one', async () => {
    const word = nonsenseWord('cu');
    await hiddenAccounts(word, 12, 'suspended');
    await hiddenAccounts(word, 12, 'undiscoverable');
    const [viewer, blocked] = await users(2);
    // Registered after the hidden accounts: equal matches rank newest first, so both come before them.
    const older = await createUser({ display_name: `${word} shown` });
    const newer = await createUser({ display_name: `${word} shown` });
    await block(blocked, older);
    await block(blocked, newer);
    expect(await search(blocked, word, 'users', '&limit=1')).toEqual({ data: [], next_cursor: null });

    const first = await search(viewer, word, 'users', '&limit=1');
    expect(first.data.map((u: { id: string }) => u.id)).toEqual([newer.id]);
    expect(first.next_cursor).toEqual(expect.any(String));
    expect(plainly(first.next_cursor), 'the cursor is sealed').toBeNull();
    const second = await search(viewer, word, 'users', `&limit=1&cursor=${encodeURIComponent(first.next_cursor)}`);
    expect(second).toEqual({ data: [expect.objectContaining({ id: older.id })], next_cursor: null });
    expect(await search(viewer, word, 'users', '&limit=5')).toEqual({ data: [expect.objectContaining({ id: newer.id }), expect.objectContaining({ id: older.id })], next_cursor: null });
  });

  it('should refuse a cursor Kith did not seal with 400 naming cursor', async () => {
    const viewer = await createUser();
    const forged = btoa(JSON.stringify([1e300, 1])).replaceAll('=', '');
    await expectProblem(await call(`/search?q=ada&type=users&cursor=${forged}`, { token: viewer.accessToken }), 400, 'cursor');
  });
});

describe('GET /search cursors of communities and tags', () => {
  it('should seal them as well, and page on with them', async () => {
    const word = nonsenseWord('cs');
    const [owner] = await users(1);
    await createCommunity(owner, { name: `${word} one` });
    await createCommunity(owner, { name: `${word} two` });
    await post(owner, `#${word}a and #${word}b`);
    for (const type of ['communities', 'tags'] as SearchType[]) {
      const viewer: TestUser = owner;
      const first = await search(viewer, word, type, '&limit=1');
      expect(first.data, type).toHaveLength(1);
      expect(plainly(first.next_cursor), `${type}: the cursor is sealed`).toBeNull();
      const second = await search(viewer, word, type, `&limit=1&cursor=${encodeURIComponent(first.next_cursor)}`);
      expect(second.data, type).toHaveLength(1);
      expect(second.data[0], type).not.toEqual(first.data[0]);
      expect(second.next_cursor, type).toBeNull();
    }
  });
});
