#!/usr/bin/env node
// `npm run seed [-- --users 5000 --posts 200000]`: fills the local database that `npm run dev` serves
// (.wrangler/state) with a realistic graph. Seeded accounts log in as seed_<n> / password123.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { getPlatformProxy } from 'wrangler';
import { SEED_PASSWORD, seed } from './lib/seed.mjs';

const { values } = parseArgs({
  options: {
    users: { type: 'string', default: '5000' },
    posts: { type: 'string', default: '200000' },
    'follows-per-user': { type: 'string', default: '40' },
    'friends-per-user': { type: 'string', default: '10' },
  },
});

const require = createRequire(import.meta.url);
const wrangler = join(dirname(require.resolve('wrangler/package.json')), 'bin', 'wrangler.js');
const env = { ...process.env, CI: 'true', WRANGLER_SEND_METRICS: 'false' };
const migrate = spawnSync(process.execPath, [wrangler, 'd1', 'migrations', 'apply', 'DB', '--local'], { stdio: 'inherit', env });
if (migrate.status !== 0) process.exit(migrate.status ?? 1);

process.env.WRANGLER_SEND_METRICS = 'false';
const proxy = await getPlatformProxy({ persist: true });
try {
  console.log('Seeding the local D1 database…');
  const started = Date.now();
  const totals = await seed(proxy.env.DB, {
    users: Number(values.users),
    posts: Number(values.posts),
    followsPerUser: Number(values['follows-per-user']),
    friendsPerUser: Number(values['friends-per-user']),
  });
  console.log(`Done in ${((Date.now() - started) / 1000).toFixed(1)} s:`, totals);
  console.log(`Log in as seed_1 … seed_${values.users} with password "${SEED_PASSWORD}".`);
} finally {
  await proxy.dispose();
}
