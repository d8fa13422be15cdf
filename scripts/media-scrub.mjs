#!/usr/bin/env node
// `npm run media:scrub [-- --remote] [-- --batch N]`: strip EXIF, XMP and IPTC from image originals stored
// before Kith stripped them at upload. Runs src/maintenance/media-scrub.worker.ts with `wrangler dev` on
// 127.0.0.1, bound to the D1, R2 and Images of wrangler.toml: the local ones (.wrangler/state, what
// `npm run dev` serves) by default, the production ones with --remote (wrangler's remote bindings: log in
// first). Each original is re-encoded in place under its own key, so every URL already handed out keeps
// working; see README, "What Kith strips from images".
import { spawn } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const wrangler = join(dirname(require.resolve('wrangler/package.json')), 'bin', 'wrangler.js');
const args = process.argv.slice(2);
const remote = args.includes('--remote');
const batchAt = args.indexOf('--batch');
const batch = batchAt === -1 ? 100 : Number(args[batchAt + 1]);
if (!Number.isInteger(batch) || batch < 1 || batch > 1000) {
  console.error('--batch takes 1..1000');
  process.exit(2);
}

/** The value of `key = "..."` in the first `[[header]]`/`[header]` block of wrangler.toml. */
function tomlValue(toml, header, key) {
  const block = toml.split(/^\[/m).find((part) => part.startsWith(header));
  return block?.match(new RegExp(`^${key}\\s*=\\s*"([^"]*)"`, 'm'))?.[1];
}

const toml = readFileSync('wrangler.toml', 'utf8');
const flag = remote ? '\nremote = true' : '';
const config = `# Written by scripts/media-scrub.mjs for one run; deleted afterwards.
name = "kith-media-scrub"
main = "src/maintenance/media-scrub.worker.ts"
compatibility_date = "${toml.match(/^compatibility_date\s*=\s*"([^"]+)"/m)[1]}"
compatibility_flags = ["nodejs_compat"]

[[d1_databases]]
binding = "DB"
database_name = "${tomlValue(toml, '[d1_databases]]', 'database_name')}"
database_id = "${tomlValue(toml, '[d1_databases]]', 'database_id')}"${flag}

[[r2_buckets]]
binding = "MEDIA"
bucket_name = "${tomlValue(toml, '[r2_buckets]]', 'bucket_name')}"${flag}

[images]
binding = "IMAGES"${flag}
`;
const configPath = '.media-scrub.wrangler.toml';
writeFileSync(configPath, config);

const port = await new Promise((resolve) => {
  const server = createServer().listen(0, '127.0.0.1', () => {
    const { port: free } = server.address();
    server.close(() => resolve(free));
  });
});

const dev = spawn(process.execPath, [wrangler, 'dev', '-c', configPath, '--ip', '127.0.0.1', '--port', String(port), '--persist-to', '.wrangler/state'], {
  stdio: ['ignore', 'pipe', 'pipe'],
  env: { ...process.env, WRANGLER_SEND_METRICS: 'false' },
});
let log = '';
dev.stdout.on('data', (d) => (log += d));
dev.stderr.on('data', (d) => (log += d));
const stop = () => {
  dev.kill('SIGTERM');
  rmSync(configPath, { force: true });
};
process.on('SIGINT', () => {
  stop();
  process.exit(130);
});

async function post(query) {
  const res = await fetch(`http://127.0.0.1:${port}/scrub?${query}`, { method: 'POST' });
  if (!res.ok) throw new Error(`${res.status} ${await res.text()}`);
  return res.json();
}

try {
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (dev.exitCode !== null) throw new Error(`wrangler dev exited:\n${log}`);
    try {
      await fetch(`http://127.0.0.1:${port}/`);
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`wrangler dev did not start:\n${log}`);
      await new Promise((r) => setTimeout(r, 300));
    }
  }
  console.log(`Scrubbing ${remote ? 'PRODUCTION (remote)' : 'local'} media originals, ${batch} per batch…`);
  const total = { scanned: 0, scrubbed: 0, skipped: 0, failed: [] };
  let cursor = null;
  do {
    const report = await post(new URLSearchParams({ limit: String(batch), ...(cursor ? { cursor } : {}) }).toString());
    for (const k of ['scanned', 'scrubbed', 'skipped']) total[k] += report[k];
    total.failed.push(...report.failed);
    cursor = report.cursor;
    console.log(`  ${total.scanned} originals: ${total.scrubbed} scrubbed, ${total.skipped} already clean, ${total.failed.length} left as they are`);
  } while (cursor);
  for (const { key, reason } of total.failed) console.log(`  left: ${key}: ${reason}`);
  console.log('Done.');
} catch (err) {
  console.error(String(err.message ?? err));
  process.exitCode = 1;
} finally {
  stop();
}
