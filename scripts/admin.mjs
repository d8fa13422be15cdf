#!/usr/bin/env node
// `npm run admin -- grant <username> <role> [--remote]`: sets an account's site role (user, moderator
// or admin) on the local D1 (default, the database `npm run dev` serves) or, with --remote, on the
// production database through `wrangler d1 execute`. The change and its `role.changed` audit entry go
// in one batch, hash-chained like every entry (src/modules/moderation/grant-role.ts).
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { canonicalJson, entryHash, GENESIS_HASH } from '../src/modules/audit/audit-hash.ts';
import { newId } from '../src/lib/ids.ts';
import { grantRoleSql } from '../src/modules/moderation/grant-role.ts';

const require = createRequire(import.meta.url);
const wrangler = join(dirname(require.resolve('wrangler/package.json')), 'bin', 'wrangler.js');
const ROLES = ['user', 'moderator', 'admin'];
const USAGE = 'usage: npm run admin -- grant <username> <user|moderator|admin> [--remote] [--persist-to <dir>] [--env <name>]';

const args = process.argv.slice(2);
const flags = [];
const positional = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--remote' || args[i] === '--local') flags.push(args[i]);
  else if (['--persist-to', '--env', '-e', '--config', '-c'].includes(args[i])) flags.push(args[i], args[++i]);
  else positional.push(args[i]);
}
const [command, rawUsername, role] = positional;
if (command !== 'grant' || !rawUsername || !ROLES.includes(role)) {
  console.error(USAGE);
  process.exit(2);
}
const username = rawUsername.toLowerCase();
if (!/^[a-z0-9_]{3,30}$/.test(username)) {
  console.error(`"${rawUsername}" is not a username (3 to 30 of a-z, 0-9 and _).`);
  process.exit(2);
}
const target = flags.includes('--remote') ? [] : ['--local'];

function d1(sql) {
  const run = spawnSync(process.execPath, [wrangler, 'd1', 'execute', 'DB', ...target, ...flags, '--json', '--command', sql], {
    encoding: 'utf8',
    env: { ...process.env, CI: 'true', WRANGLER_SEND_METRICS: 'false' },
  });
  if (run.status !== 0) return { error: (run.stderr || run.stdout).trim() };
  const out = JSON.parse(run.stdout);
  return { rows: out.flatMap((r) => r.results ?? []) };
}

const found = d1(`SELECT id, role FROM users WHERE username = '${username}'`);
if (found.error) {
  console.error(found.error);
  process.exit(1);
}
const user = found.rows[0];
if (!user) {
  console.error(`No account is called ${username}.`);
  process.exit(1);
}
if (user.role === role) {
  console.log(`${username} is already ${role}.`);
  process.exit(0);
}
for (let attempt = 1; attempt <= 5; attempt++) {
  const head = d1('SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1');
  if (head.error) {
    console.error(head.error);
    process.exit(1);
  }
  const now = Date.now();
  const sql = await grantRoleSql({ user, role, head: head.rows[0]?.hash ?? GENESIS_HASH, entryId: newId(now), now, hash: entryHash }, canonicalJson);
  const done = d1(sql);
  if (!done.error) {
    console.log(`${username} is now ${role} (was ${user.role}); recorded in the audit log.`);
    process.exit(0);
  }
  if (!/audit chain conflict/.test(done.error)) {
    console.error(done.error);
    process.exit(1);
  }
}
console.error('The audit log kept moving; try again.');
process.exit(1);
