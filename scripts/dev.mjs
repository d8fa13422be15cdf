#!/usr/bin/env node
// `npm run dev`: make sure the local secrets exist, apply local D1 migrations, then run `wrangler dev`.
// Arguments after `--` go straight to wrangler (`npm run dev -- --port 9000 --ip 127.0.0.1`);
// port defaults live in wrangler.toml, not here.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const wrangler = join(dirname(require.resolve('wrangler/package.json')), 'bin', 'wrangler.js');
const passthrough = process.argv.slice(2);

function ensureDevSecret(name, file = '.dev.vars') {
  const current = existsSync(file) ? readFileSync(file, 'utf8') : '';
  if (new RegExp(`^${name}\\s*=`, 'm').test(current)) return;
  const line = `${name}="${randomBytes(32).toString('hex')}"\n`;
  writeFileSync(file, current && !current.endsWith('\n') ? `${current}\n${line}` : current + line, { mode: 0o600 });
  console.log(`Wrote a random ${name} to ${file} (git-ignored).`);
}

// The access-token key and the key TOTP secrets are encrypted under.
ensureDevSecret('JWT_SECRET');
ensureDevSecret('MFA_ENCRYPTION_KEY');

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
