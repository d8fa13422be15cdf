#!/usr/bin/env node
// `npm run bench`: builds the worker, serves the bundle straight from workerd through Miniflare's API
// (no wrangler dev proxy), seeds a database to 10k, 100k and 1M posts, and measures the API against two
// ceilings from the same run: a bare JSON route and a bare `SELECT 1` route on D1.
// Options: --sizes 10000,100000,1000000  --duration 5000  --concurrency 16  --users 5000
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { convertV4MiniflareOptions, Miniflare } from 'miniflare';
import { unstable_splitSqlQuery as splitSql } from 'wrangler';
import { measure } from './lib/load.mjs';
import { SEED_PASSWORD, seed } from './lib/seed.mjs';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '10000,100000,1000000' },
    duration: { type: 'string', default: '5000' },
    concurrency: { type: 'string', default: '16' },
    users: { type: 'string', default: '5000' },
  },
});
const sizes = values.sizes.split(',').map(Number);
const durationMs = Number(values.duration);
const concurrency = Number(values.concurrency);
const STATE = '.bench/state';

const require = createRequire(import.meta.url);
const wrangler = join(dirname(require.resolve('wrangler/package.json')), 'bin', 'wrangler.js');

console.log('Building the worker (wrangler deploy --dry-run)…');
const build = spawnSync(process.execPath, [wrangler, 'deploy', '--dry-run', '--outdir', 'dist'], {
  stdio: ['ignore', 'ignore', 'inherit'],
  env: { ...process.env, WRANGLER_SEND_METRICS: 'false' },
});
if (build.status !== 0) process.exit(build.status ?? 1);

const toml = readFileSync('wrangler.toml', 'utf8');
const compatibilityDate = /compatibility_date\s*=\s*"([^"]+)"/.exec(toml)[1];
const unlimited = (id) => ({ namespace_id: id, simple: { limit: 1_000_000_000, period: 60 } });

// The ceilings: the cheapest possible answers from the same workerd, one without and one with D1.
const CEILING = `export default {
  async fetch(request, env) {
    if (new URL(request.url).pathname === '/select1') {
      const row = await env.DB.prepare('SELECT 1 AS one').first();
      return Response.json(row);
    }
    return Response.json({ ok: true });
  },
};`;

rmSync(STATE, { recursive: true, force: true });
// Miniflare 5 takes a new option shape; the v4 shape (one object per worker) converts into it.
const mf = new Miniflare(convertV4MiniflareOptions({
  d1Persist: `${STATE}/d1`,
  r2Persist: `${STATE}/r2`,
  workers: [
    {
      name: 'kith',
      modules: true,
      scriptPath: 'dist/index.js',
      compatibilityDate,
      compatibilityFlags: ['nodejs_compat'],
      d1Databases: { DB: 'bench-db' },
      r2Buckets: { MEDIA: 'bench-media' },
      ratelimits: Object.fromEntries(['RL_REGISTER', 'RL_LOGIN', 'RL_PASSWORD', 'RL_API_IP', 'RL_API_USER'].map((n, i) => [n, unlimited(String(9001 + i))])),
      bindings: {
        JWT_SECRET: randomUUID() + randomUUID(),
        CORS_ORIGINS: '',
        APP_URL: 'http://localhost',
        MAILER: 'outbox',
        ACCESS_TOKEN_TTL_SECONDS: '3600',
      },
    },
    { name: 'ceiling', modules: true, script: CEILING, compatibilityDate, d1Databases: { DB: 'bench-db' }, routes: ['ceiling.bench/*'] },
  ],
}));

try {
  const origin = (await mf.ready).origin;
  const db = await mf.getD1Database('DB', 'kith');
  for (const file of readdirSync('migrations').filter((f) => f.endsWith('.sql')).sort()) {
    const statements = splitSql(readFileSync(join('migrations', file), 'utf8'));
    await db.batch(statements.map((sql) => db.prepare(sql)));
  }

  const ceilingHeaders = { host: 'ceiling.bench' };
  const run = (next, label) =>
    measure({ origin, concurrency, durationMs, next }).then((r) => {
      const bad = Object.entries(r.statuses).filter(([s]) => Number(s) >= 400);
      if (bad.length) console.warn(`  ! ${label}: non-2xx answers ${JSON.stringify(r.statuses)}`);
      return r;
    });

  let tokens = [];
  let sample = { posts: [], users: [] };
  const pick = (list, i) => list[i % list.length];
  const auth = (i) => ({ authorization: `Bearer ${pick(tokens, i)}`, 'cf-connecting-ip': `10.0.${i % 250}.1` });
  const scenarios = {
    'GET /feed/home': (i) => ({ path: '/api/v1/feed/home', headers: auth(i) }),
    'GET /feed/discover': (i) => ({ path: '/api/v1/feed/discover', headers: auth(i) }),
    'GET /users/{id}': (i) => ({ path: `/api/v1/users/${pick(sample.users, i * 7)}`, headers: auth(i) }),
    'POST /posts': (i) => ({ method: 'POST', path: '/api/v1/posts', headers: auth(i), body: JSON.stringify({ content: `bench post ${i}`, topic: 'news' }) }),
    'POST /posts/{id}/like': (i) => ({ method: 'POST', path: `/api/v1/posts/${pick(sample.posts, i * 13)}/like`, headers: auth(i) }),
  };
  const ceilings = {
    'bare JSON route': () => ({ path: '/', headers: ceilingHeaders }),
    'bare SELECT 1 route': () => ({ path: '/select1', headers: ceilingHeaders }),
  };

  const scaling = [];
  let finalRows = [];
  for (const [index, size] of sizes.entries()) {
    console.log(`\nSeeding to ${size.toLocaleString('en')} posts…`);
    const totals = await seed(db, { users: Number(values.users), posts: size, log: (line) => console.log(line) });
    console.log('  rows:', JSON.stringify(totals));

    if (tokens.length === 0) {
      // Ordinary accounts (not the power-law celebrities), each following ~40 and befriending ~10 others.
      for (let n = 101; n <= 132; n++) {
        const res = await fetch(`${origin}/api/v1/auth/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'cf-connecting-ip': '10.9.9.9' },
          body: JSON.stringify({ login: `seed_${n}`, password: SEED_PASSWORD }),
        });
        if (!res.ok) throw new Error(`login seed_${n}: ${res.status} ${await res.text()}`);
        tokens.push((await res.json()).access_token);
      }
    }
    sample = {
      posts: (await db.prepare("SELECT id FROM posts WHERE visibility = 'public' ORDER BY created_at DESC LIMIT 500").all()).results.map((r) => r.id),
      users: (await db.prepare('SELECT id FROM users ORDER BY id LIMIT 1000').all()).results.map((r) => r.id),
    };

    const home = await run(scenarios['GET /feed/home'], 'home');
    const discover = await run(scenarios['GET /feed/discover'], 'discover');
    scaling.push({ size, home, discover });
    console.log(`  home feed p50 ${home.p50.toFixed(2)} ms, p99 ${home.p99.toFixed(2)} ms, ${home.rps.toFixed(0)} req/s`);

    if (index === sizes.length - 1) {
      const measured = {};
      for (const [label, next] of Object.entries(ceilings)) measured[label] = await run(next, label);
      for (const [label, next] of Object.entries(scenarios)) {
        measured[label] = label === 'GET /feed/home' ? home : label === 'GET /feed/discover' ? discover : await run(next, label);
      }
      finalRows = Object.entries(measured);
    }
  }

  const select1 = finalRows.find(([l]) => l === 'bare SELECT 1 route')[1];
  const fmt = (n) => n.toFixed(n < 10 ? 2 : 1);
  console.log(`\n## Kith API at ${sizes.at(-1).toLocaleString('en')} posts (concurrency ${concurrency}, ${durationMs / 1000} s each)\n`);
  console.log('| route | req/s | p50 ms | p99 ms | % of SELECT 1 req/s |');
  console.log('|---|---:|---:|---:|---:|');
  for (const [label, r] of finalRows) {
    console.log(`| ${label} | ${r.rps.toFixed(0)} | ${fmt(r.p50)} | ${fmt(r.p99)} | ${((100 * r.rps) / select1.rps).toFixed(0)}% |`);
  }
  console.log('\n## Feed latency by database size\n');
  console.log('| posts | home req/s | home p50 ms | home p99 ms | discover req/s | discover p50 ms | discover p99 ms |');
  console.log('|---:|---:|---:|---:|---:|---:|---:|');
  for (const { size, home, discover } of scaling) {
    console.log(`| ${size.toLocaleString('en')} | ${home.rps.toFixed(0)} | ${fmt(home.p50)} | ${fmt(home.p99)} | ${discover.rps.toFixed(0)} | ${fmt(discover.p50)} | ${fmt(discover.p99)} |`);
  }
  const first = scaling[0];
  const last = scaling.at(-1);
  const homeFinal = finalRows.find(([l]) => l === 'GET /feed/home')[1];
  console.log('\nTargets:');
  console.log(`- home p50 at ${last.size.toLocaleString('en')} posts vs ${first.size.toLocaleString('en')}: ${(last.home.p50 / first.home.p50).toFixed(2)}× (target ≤ 2×)`);
  console.log(`- home throughput vs bare SELECT 1: ${((100 * homeFinal.rps) / select1.rps).toFixed(0)}% (target ≥ 40%)`);
} finally {
  await mf.dispose();
}
