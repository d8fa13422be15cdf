import { describe, expect, it } from 'vitest';
import { FILL_READ_ROWS } from '../../src/modules/posts/posts.service';
import { POST_CANDIDATES } from '../../src/modules/search/search.queries';
import { users } from '../communities/helpers';
import { walkPages } from '../helpers/client';
import { makePrivate, post } from '../posts/helpers';
import { nonsenseWord, search } from './helpers';

/**
 * A search answer shows no evidence of what the caller may not see: a cursor is handed out only when a
 * result the caller may see follows, and it names no row (sealed), so neither an empty page with a
 * cursor nor a cursor after the last visible result tells a stranger that hidden matches exist.
 */

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
