#!/usr/bin/env node
// `npm run db:export [-- --remote] [-- --output backup.sql]`: an SQL dump of the D1 database (the local one
// by default, production with --remote), although `wrangler d1 export` refuses databases with virtual
// tables. The full-text indexes (FTS5, migrations/*_search.sql) are dropped with their triggers, the
// database is exported, and they are created again and rebuilt from their content tables, whatever
// happens; the dump ends with the same statements, so restoring it (`wrangler d1 execute DB --file`)
// brings the indexes back too. While the indexes are away (seconds), writes succeed and search misses
// nothing afterwards: the rebuild reads every row. For point-in-time recovery without a dump, D1 Time
// Travel needs none of this (`wrangler d1 time-travel restore`). See README, "Backups".
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';

const require = createRequire(import.meta.url);
const wranglerBin = join(dirname(require.resolve('wrangler/package.json')), 'bin', 'wrangler.js');
const { values } = parseArgs({
  options: { remote: { type: 'boolean', default: false }, output: { type: 'string' }, database: { type: 'string', default: 'DB' } },
});
const where = values.remote ? '--remote' : '--local';
const output = values.output ?? `kith-${values.remote ? 'remote' : 'local'}-${new Date().toISOString().replace(/[:.]/g, '-')}.sql`;

/** The FTS5 indexes of migrations/*_search.sql. */
const FTS_TABLES = ['users_fts', 'posts_fts', 'tags_fts', 'communities_fts'];

function wrangler(args, options = {}) {
  return execFileSync(process.execPath, [wranglerBin, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], ...options });
}

function query(sql) {
  const out = wrangler(['d1', 'execute', values.database, where, '--json', '--command', sql]);
  return JSON.parse(out)[0].results;
}

const tmp = mkdtempSync(join(tmpdir(), 'kith-db-export-'));
function runFile(name, statements) {
  const file = join(tmp, name);
  writeFileSync(file, statements.join('\n'));
  wrangler(['d1', 'execute', values.database, where, '--yes', '--file', file], { stdio: ['ignore', 'ignore', 'inherit'] });
}

const list = FTS_TABLES.map((t) => `'${t}'`).join(', ');
// Every trigger that writes one of the indexes names it in its body.
const schema = query(`SELECT type, name, sql FROM sqlite_schema
  WHERE (type = 'table' AND name IN (${list})) OR (type = 'trigger' AND (${FTS_TABLES.map((t) => `sql LIKE '%${t}%'`).join(' OR ')}))
  ORDER BY type = 'trigger', name`);
const tables = schema.filter((r) => r.type === 'table');
const triggers = schema.filter((r) => r.type === 'trigger');
if (tables.length === 0) {
  console.error('No full-text indexes found: has the database been migrated?');
  process.exit(1);
}
const recreate = [
  ...tables.map((t) => `${t.sql};`),
  ...triggers.map((t) => `${t.sql};`),
  ...tables.map((t) => `INSERT INTO ${t.name} (${t.name}) VALUES ('rebuild');`),
];

console.log(`Dropping ${tables.length} full-text indexes and ${triggers.length} triggers (${where.slice(2)})…`);
runFile('drop.sql', [...triggers.map((t) => `DROP TRIGGER IF EXISTS ${t.name};`), ...tables.map((t) => `DROP TABLE IF EXISTS ${t.name};`)]);
let failed = false;
try {
  wrangler(['d1', 'export', values.database, where, '--output', output], { stdio: 'inherit' });
} catch (error) {
  failed = true;
  console.error(`export failed: ${error.message}`);
} finally {
  console.log('Creating and rebuilding the full-text indexes…');
  runFile('recreate.sql', recreate);
  rmSync(tmp, { recursive: true, force: true });
}
if (failed) process.exit(1);
appendFileSync(output, `\n-- Full-text indexes (wrangler d1 export leaves virtual tables out), rebuilt from their tables.\n${recreate.join('\n')}\n`);
console.log(`Wrote ${output}`);
