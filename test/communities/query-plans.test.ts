import { env } from 'cloudflare:workers';
import { describe, it } from 'vitest';
import { COMMUNITY_POSTS_SQL, communityListQuery, eligibleQuery, memberListSql } from '../../src/modules/communities/communities.queries';
import { HOME_FEED_SQL } from '../../src/modules/feeds/feeds.queries';

async function plan(sql: string, params: unknown[]) {
  const { results } = await env.DB.prepare(`EXPLAIN QUERY PLAN ${sql}`).bind(...params).all<{ detail: string }>();
  return results.map((r) => r.detail);
}
describe('x', () => {
  it('prints', async () => {
    const out: string[] = [];
    const show = async (label: string, q: { sql: string; params: unknown[] }) => out.push(`--- ${label}\n${(await plan(q.sql, q.params)).join('\n')}`);
    for (const sort of ['members', 'new', 'name'] as const) {
      await show(`${sort} none`, communityListQuery('v', {}, sort, null, 21));
      await show(`${sort} none key`, communityListQuery('v', {}, sort, sort === 'members' ? [3, 'x'] : sort === 'new' ? ['x'] : ['a', 'x'], 21));
      await show(`${sort} country`, communityListQuery('v', { country: 'PT' }, sort, null, 21));
      await show(`${sort} region`, communityListQuery('v', { regionKey: 'r' }, sort, null, 21));
      await show(`${sort} city`, communityListQuery('v', { cityKey: 'c' }, sort, null, 21));
      await show(`${sort} country+region+city`, communityListQuery('v', { country: 'PT', regionKey: 'r', cityKey: 'c' }, sort, null, 21));
      await show(`${sort} q`, communityListQuery('v', { match: '"run"*' }, sort, null, 21));
      await show(`${sort} age+gender`, communityListQuery('v', { age: 30, gender: 'female' }, sort, null, 21));
    }
    await show('eligible', eligibleQuery('v', { country: 'PT', regionKey: 'r', cityKey: 'c', age: 30, gender: 'female' }, null, 21));
    await show('members true', { sql: memberListSql(true), params: ['c', 'v', 0, '', 21, 'member'] });
    await show('members false', { sql: memberListSql(false), params: ['c', 'v', 0, '', 21] });
    await show('cposts', { sql: COMMUNITY_POSTS_SQL, params: ['c', Number.MAX_SAFE_INTEGER, '', 21] });
    await show('home', { sql: HOME_FEED_SQL, params: ['v', Number.MAX_SAFE_INTEGER, '', 21] });
    console.log(out.join('\n'));
  });
});
