#!/usr/bin/env node
// `npm run dev`: make sure the local secrets exist, apply local D1 migrations, then run `wrangler dev`.
// Arguments after `--` go straight to wrangler (`npm run dev -- --port 9000 --ip 127.0.0.1`);
// port defaults live in wrangler.toml, not here.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { generateVapidKeys } from './lib/vapid.mjs';

const require = createRequire(import.meta.url);
const wrangler = join(dirname(require.resolve('wrangler/package.json')), 'bin', 'wrangler.js');
const passthrough = process.argv.slice(2);

/** Appends `lines` to .dev.vars unless `name` is already set there (or in the environment). */
function ensureDevVars(name, lines, file = '.dev.vars') {
  const current = existsSync(file) ? readFileSync(file, 'utf8') : '';
  if (new RegExp(`^${name}\\s*=`, 'm').test(current) || process.env[name]) return;
  const text = lines.map((l) => `${l}\n`).join('');
  writeFileSync(file, current && !current.endsWith('\n') ? `${current}\n${text}` : current + text, { mode: 0o600 });
  console.log(`Wrote ${lines.map((l) => l.split('=')[0]).join(', ')} to ${file} (git-ignored).`);
}

// The access-token key and the key TOTP secrets are encrypted under.
for (const name of ['JWT_SECRET', 'MFA_ENCRYPTION_KEY']) ensureDevVars(name, [`${name}="${randomBytes(32).toString('hex')}"`]);
// Web Push works from a fresh clone: a local VAPID pair, and plain-http endpoints for local receivers.
const vapid = generateVapidKeys();
ensureDevVars('VAPID_PRIVATE_KEY', [`VAPID_PUBLIC_KEY="${vapid.publicKey}"`, `VAPID_PRIVATE_KEY="${vapid.privateKey}"`]);
ensureDevVars('PUSH_ALLOW_HTTP', ['PUSH_ALLOW_HTTP="true"']);

// Migrations take --env/--config/--persist-to from the dev arguments so both act on the same database.
const shared = [];
for (const flag of ['--env', '-e', '--config', '-c', '--persist-to']) {
  const at = passthrough.indexOf(flag);
  if (at !== -1 && passthrough[at + 1]) shared.push(flag, passthrough[at + 1]);
}
const migrate = spawnSync(process.execPath, [wrangler, 'd1', 'migrations', 'apply', 'DB', '--local', ...shared], {
  stdio: 'inherit',
  env: { ...process.env, CI: 'true', WRANGLER_SEND_METRICS: 'false' },
});
if (migrate.status !== 0) process.exit(migrate.status ?? 1);

const dev = spawn(process.execPath, [wrangler, 'dev', ...passthrough], { stdio: 'inherit', env: { ...process.env, WRANGLER_SEND_METRICS: 'false' } });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => dev.kill(signal));
dev.on('exit', (code, signal) => process.exit(signal ? 1 : (code ?? 0)));
