import { expect } from 'vitest';
import { call, expectStatus, type TestUser } from '../helpers/client';

export { nonsenseWord } from '../moderation/helpers';

export type SearchType = 'users' | 'posts' | 'communities' | 'tags';

/** GET /search as `viewer` (200), `q` URL-encoded; with `type`, one page of that kind. */
export async function search(viewer: TestUser | undefined, q: string, type?: SearchType, extra = ''): Promise<any> {
  const query = `q=${encodeURIComponent(q)}${type ? `&type=${type}` : ''}${extra}`;
  return expectStatus(await call(`/search?${query}`, { token: viewer?.accessToken }), 200);
}

/** The ids (tags: names) of one search page. */
export async function found(viewer: TestUser, q: string, type: SearchType): Promise<string[]> {
  const page = await search(viewer, q, type);
  expect(page).toEqual({ data: expect.any(Array), next_cursor: page.next_cursor ?? null });
  return page.data.map((item: { id?: string; tag?: string }) => item.id ?? item.tag);
}

/** `Word` from `word`. */
export const capitalised = (word: string) => word[0]!.toUpperCase() + word.slice(1);
