import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { DISCOVER_CANDIDATES_SQL, HOME_FEED_SQL, TOPIC_AFFINITY_SQL } from '../../src/modules/feeds/feeds.queries';
import { DISCOVER_CANDIDATES, DISCOVER_WINDOW_MS } from '../../src/modules/feeds/feeds.service';
import { PUSH_POST_SQL } from '../../src/modules/feeds/hybrid';
import { HOME_TIMELINE_FLOOR_SQL, HOME_TIMELINE_SQL, homeTimelineBuild } from '../../src/modules/feeds/home-timeline';
import { PROFESSIONAL_CONNECTIONS_SQL, professionalOthersSql } from '../../src/modules/feeds/professional-feed';
import { newsPageSql } from '../../src/modules/news/news.service';
import { pageQuery, skeletonOfIds, skeletonOfQuery } from '../../src/modules/posts/post-pipeline';
import { FIRST_PAGE, userPostsSql, WALL_SQL } from '../../src/modules/posts/posts.service';
import { call, createUser, expectStatus, type TestUser } from '../helpers/client';
import { befriend, block, follow, HOUR, insertPost, like, mute } from './helpers';

/** Tables whose full scan would make a query grow with the data. */
const REAL_TABLES = ['posts', 'users', 'likes', 'follows', 'friendships', 'comments', 'blocks', 'mutes', 'community_members', 'home_timelines', 'home_timeline_entries', 'news_items', 'news_sources'];
const TOPICS = ['news', 'sports', 'music', null] as const;

interface PlanRow {
  id: number;
  parent: number;
  notused: number;
  detail: string;
}

async function plan(sql: string, params: unknown[]): Promise<string[]> {
  const { results } = await env.DB.prepare(`EXPLAIN QUERY PLAN ${sql}`)
    .bind(...params)
    .all<PlanRow>();
  expect(results.length).toBeGreaterThan(0);
  return results.map((r) => r.detail);
}

/** Fails on `SCAN posts`, `SCAN p` where p aliases posts, etc. (a full table scan); CTE and subquery scans are fine. */
function fullScans(lines: string[], aliases: Record<string, string>): string[] {
  return lines.filter((line) => {
    const m = /^SCAN (\S+)(?: USING (?:COVERING )?INDEX (\S+))?/.exec(line.trim());
    if (!m) return false;
    const table = aliases[m[1]!] ?? m[1]!;
    if (!REAL_TABLES.includes(table)) return false;
    // `SCAN t USING [COVERING] INDEX i` walks a whole index, just as unbounded as walking the table.
    return true;
  });
}

const DISCOVER_ALIASES: Record<string, string> = { p: 'posts', u: 'users', f: 'friendships', f1: 'friendships', f2: 'friendships', l: 'likes', b: 'blocks', vb: 'blocks', m: 'mutes' };

let viewer: TestUser;
let owner: TestUser;

beforeAll(async () => {
  const people: TestUser[] = [];
  for (let i = 0; i < 8; i++) people.push(await createUser());
  [viewer, owner] = [people[0]!, people[1]!];
  const others = people.slice(2);
  await follow(viewer, others[0]!);
  await follow(viewer, others[1]!);
  await befriend(viewer, others[2]!);
  await befriend(others[2]!, others[3]!);
  await mute(viewer, others[4]!);
  await block(others[5]!, viewer);
  await follow(others[0]!, owner);

  const now = Date.now();
  const statements = [];
  let n = 0;
  for (const author of people) {
    for (let i = 0; i < 30; i++) {
      n += 1;
      statements.push(
        env.DB.prepare(
          `INSERT INTO posts (id, author_id, target_user_id, content, topic, visibility, like_count, comment_count, created_at)
           VALUES (?1, ?2, ?3, 'seed', ?4, ?5, 0, 0, ?6)`,
        ).bind(
          `PLANSEED${String(n).padStart(18, '0')}`,
          author.id,
          i % 10 === 0 && author.id !== owner.id ? owner.id : null,
          TOPICS[i % TOPICS.length],
          ['public', 'public', 'friends', 'private'][i % 4],
          now - i * HOUR - n,
        ),
      );
    }
  }
  await env.DB.batch(statements);
  const liked = await insertPost(others[3]!, { topic: 'music' });
  await like(viewer, liked.id);
  await like(others[2]!, liked.id);
  await expectStatus(await call(`/posts/${liked.id}/comments`, { body: { content: 'seed comment' }, token: others[2]!.accessToken }), 201);
  // No ANALYZE: with statistics from a fixture this small SQLite rightly prefers scanning an 8-row
  // users or blocks table, which says nothing about production; without them it plans for big tables.
});

describe('Query plans', () => {
  it('should detect a full scan when there is one (the checker itself)', async () => {
    const bad = await plan("SELECT * FROM posts WHERE content = ?1", ['x']);
    expect(fullScans(bad, {})).toEqual(['SCAN posts']);
    const badAlias = await plan('SELECT p.id FROM posts p JOIN users u ON u.id = p.author_id WHERE u.bio = ?1', ['x']);
    expect(fullScans(badAlias, { p: 'posts', u: 'users' }).length).toBeGreaterThan(0);
    const cte = await plan('WITH rel(id) AS (SELECT ?1) SELECT * FROM rel', ['x']);
    expect(fullScans(cte, {})).toEqual([]);
  });

  it('should read the home feed through posts_author_created_idx without a full scan', async () => {
    const lines = await plan(HOME_FEED_SQL, [viewer.id, ...FIRST_PAGE, 21]);
    expect(fullScans(lines, { q: 'posts', p: 'posts', m: 'mutes' }), lines.join('\n')).toEqual([]);
    expect(lines.some((l) => /^SEARCH q USING (COVERING )?INDEX posts_author_created_idx/.test(l)), lines.join('\n')).toBe(true);
    expect(lines.some((l) => l.startsWith('SEARCH follows ')), lines.join('\n')).toBe(true);
    expect(lines.some((l) => l.startsWith('SEARCH friendships ')), lines.join('\n')).toBe(true);
  });

  it('should evaluate the skeleton once in a page statement and hydrate it through keyed lookups', async () => {
    const sources = {
      home: skeletonOfQuery(HOME_FEED_SQL, [viewer.id, ...FIRST_PAGE, 21]),
      ids: skeletonOfIds([]),
    };
    for (const [name, source] of Object.entries(sources)) {
      for (const who of [viewer.id, null]) {
        const { sql, params } = pageQuery(who, source);
        const lines = await plan(sql, params);
        const context = `${name}, ${who ? 'signed in' : 'anonymous'}\n${lines.join('\n')}`;
        expect(fullScans(lines, { q: 'posts', p: 'posts', m: 'mutes', u: 'users', f: 'follows', b: 'blocks', vb: 'blocks', pm: 'post_media', l: 'likes' }), context).toEqual([]);
        // SQLite plans a CTE anew at each place it is referenced (the plan shows one MATERIALIZE either
        // way): one reference keeps a complex skeleton such as the home feed's from being planned once per
        // hydration part (seven times before; 1.5 ms of preparing for the home page, 0.5 ms now).
        expect(sql.match(/\bskel\b/g), context).toHaveLength(2);
        expect(lines.filter((l) => /^MATERIALIZE skel\b/.test(l)).length, context).toBeLessThanOrEqual(1);
        for (const [table, index] of [['u', 'users'], ['pm', 'post_media'], ['m', 'media'], ['k', 'communities']]) {
          expect(lines.some((l) => new RegExp(`^SEARCH ${table} USING .*INDEX sqlite_autoindex_${index}_1`).test(l)), `${table}: ${context}`).toBe(true);
        }
        // The viewer's likes are looked up per post of the page, never walked (a user may have liked 100k posts).
        if (who) expect(lines.some((l) => /^SEARCH l USING COVERING INDEX sqlite_autoindex_likes_1 \(post_id=\? AND user_id=\?\)/.test(l)), context).toBe(true);
        expect(lines.filter((l) => /^SEARCH l USING INDEX likes_user_created_idx/.test(l)), context).toEqual([]);
      }
    }
  });

  it('should read a home timeline page through the entries primary key without a full scan', async () => {
    const lines = await plan(HOME_TIMELINE_SQL, [viewer.id, ...FIRST_PAGE, 21]);
    const aliases = { h: 'home_timelines', t: 'home_timeline_entries', p: 'posts', q: 'posts', r: 'posts', m: 'mutes' };
    expect(fullScans(lines, aliases), lines.join('\n')).toEqual([]);
    expect(lines.some((l) => /^SEARCH h USING (COVERING )?INDEX sqlite_autoindex_home_timelines_1 \(user_id=\?\)/.test(l)), lines.join('\n')).toBe(true);
    expect(lines.some((l) => /^SEARCH t USING (COVERING )?INDEX sqlite_autoindex_home_timeline_entries_1 \(user_id=\? AND/.test(l)), lines.join('\n')).toBe(true);
    expect(lines.some((l) => /^SEARCH q USING INDEX sqlite_autoindex_posts_1 \(id=\?\)/.test(l)), lines.join('\n')).toBe(true);
    // The pulled sources: one range of each author's or community's index.
    expect(lines.some((l) => /^SEARCH r USING COVERING INDEX posts_author_created_idx \(author_id=\?/.test(l)), lines.join('\n')).toBe(true);
    expect(lines.some((l) => /^SEARCH r USING COVERING INDEX posts_community_created_idx \(community_id=\?/.test(l)), lines.join('\n')).toBe(true);
    // The pushed entries come newest first straight off the primary key; only the merged page (at most
    // three times the page size) is sorted.
    expect(lines.filter((l) => l.includes('USE TEMP B-TREE FOR ORDER BY')), lines.join('\n')).toHaveLength(1);

    const page = pageQuery(viewer.id, skeletonOfQuery(HOME_TIMELINE_SQL, [viewer.id, ...FIRST_PAGE, 21], HOME_TIMELINE_FLOOR_SQL));
    const pageLines = await plan(page.sql, page.params);
    expect(fullScans(pageLines, { ...aliases, u: 'users', f: 'follows', b: 'blocks', vb: 'blocks', pm: 'post_media' }), pageLines.join('\n')).toEqual([]);
  });

  it('should build a home timeline without a full scan', async () => {
    const statements = homeTimelineBuild(viewer.id, 21);
    expect(statements).toHaveLength(4);
    // The second statement inserts a row of values: there is nothing to plan.
    for (const { sql, params } of statements.filter((_, i) => i !== 1)) {
      const lines = await plan(sql, params);
      expect(fullScans(lines, { q: 'posts', p: 'posts', m: 'mutes' }), `${sql}\n${lines.join('\n')}`).toEqual([]);
    }
  });

  it('should push a post to its audience through keyed lookups (the fan-out queue’s statement)', async () => {
    const lines = await plan(PUSH_POST_SQL, ['post']);
    const context = lines.join('\n');
    expect(fullScans(lines, { h: 'home_timelines', p: 'posts', x: 'posts', f: 'follows', k: 'friendships', m: 'community_members', s: 'timeline_pulled_sources' }), context).toEqual([]);
    for (const index of ['follows_followee_idx', 'sqlite_autoindex_friendships_1', 'sqlite_autoindex_home_timelines_1', 'sqlite_autoindex_timeline_pulled_sources_1']) {
      expect(lines.some((l) => l.includes(index)), `${index}: ${context}`).toBe(true);
    }
    expect(lines.some((l) => /^SEARCH m USING/.test(l)), context).toBe(true);
  });

  it('should read discover candidates through posts_visibility_created_idx without a full scan', async () => {
    const now = Date.now();
    for (const who of [viewer.id, '']) {
      const lines = await plan(DISCOVER_CANDIDATES_SQL, [who, now - DISCOVER_WINDOW_MS, now, DISCOVER_CANDIDATES, null]);
      expect(fullScans(lines, DISCOVER_ALIASES), lines.join('\n')).toEqual([]);
      expect(lines.some((l) => l.includes('posts_visibility_created_idx')), lines.join('\n')).toBe(true);
      // Every lookup of the relations is a keyed search.
      for (const table of ['blocks', 'mutes', 'users', 'friendships', 'likes']) {
        const alias = Object.keys(DISCOVER_ALIASES).filter((k) => DISCOVER_ALIASES[k] === table);
        expect(lines.some((l) => new RegExp(`^SEARCH (${[table, ...alias].join('|')}) `).test(l)), `${table}\n${lines.join('\n')}`).toBe(true);
      }
    }
  });

  it('should read topic-filtered discover candidates through posts_topic_created_idx without a full scan', async () => {
    const now = Date.now();
    for (const who of [viewer.id, '']) {
      const lines = await plan(DISCOVER_CANDIDATES_SQL, [who, now - DISCOVER_WINDOW_MS, now, DISCOVER_CANDIDATES, 'news']);
      expect(fullScans(lines, DISCOVER_ALIASES), lines.join('\n')).toEqual([]);
      expect(lines.some((l) => l.includes('posts_topic_created_idx')), lines.join('\n')).toBe(true);
    }
  });

  it('should read topic affinity through likes_user_created_idx without a full scan', async () => {
    const lines = await plan(TOPIC_AFFINITY_SQL, [viewer.id]);
    expect(fullScans(lines, { p: 'posts' })).toEqual([]);
    expect(lines.some((l) => l.includes('likes_user_created_idx'))).toBe(true);
  });

  it('should read a user’s posts without a full scan', async () => {
    for (const levels of [['public'], ['public', 'friends'], ['public', 'friends', 'private']]) {
      const lines = await plan(userPostsSql(levels.length), [owner.id, ...FIRST_PAGE, 21, ...levels]);
        expect(fullScans(lines, {})).toEqual([]);
      expect(lines.some((l) => l.includes('posts_author_created_idx'))).toBe(true);
    }
  });

  it('should read the professional feed through its partial indexes without a full scan', async () => {
    for (const topic of [null, 'news']) {
      const connections = await plan(PROFESSIONAL_CONNECTIONS_SQL, [viewer.id, ...FIRST_PAGE, 21, 0, topic]);
      expect(fullScans(connections, { q: 'posts', p: 'posts', m: 'mutes' }), connections.join('\n')).toEqual([]);
      expect(connections.some((l) => /^SEARCH q USING (COVERING )?INDEX posts_professional_author_idx/.test(l)), connections.join('\n')).toBe(true);
      const others = await plan(professionalOthersSql(topic !== null), [viewer.id, ...FIRST_PAGE, 21, 0, topic]);
      expect(fullScans(others, { p: 'posts', u: 'users', f: 'follows', k: 'friendships', b: 'blocks', vb: 'blocks', m: 'mutes' }), others.join('\n')).toEqual([]);
      const index = topic ? 'posts_professional_topic_idx' : 'posts_professional_visibility_idx';
      expect(others.some((l) => l.includes(index)), others.join('\n')).toBe(true);
    }
  });

  it('should page news items through their indexes without a full scan', async () => {
    for (const [byTopic, index] of [[false, 'news_items_published_idx'], [true, 'news_items_topic_published_idx']] as const) {
      const lines = await plan(newsPageSql(byTopic), [...FIRST_PAGE, 21, ...(byTopic ? ['career'] : [])]);
      expect(fullScans(lines, { i: 'news_items', s: 'news_sources' }), lines.join('\n')).toEqual([]);
      expect(lines.some((l) => l.includes(index)), lines.join('\n')).toBe(true);
    }
  });

  it('should read a wall without a full scan', async () => {
    const lines = await plan(WALL_SQL, [owner.id, ...FIRST_PAGE, 21]);
    expect(fullScans(lines, {})).toEqual([]);
    expect(lines.some((l) => l.includes('posts_author_created_idx'))).toBe(true);
    expect(lines.some((l) => l.includes('posts_target_created_idx'))).toBe(true);
  });
});
