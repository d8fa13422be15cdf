import { env } from 'cloudflare:workers';
import { ALL_EDGE_GROUPS, purgeEdgeGroups } from '../../src/lib/edge-cache';
import { invalidateRuleSet } from '../../src/policy/content-rules';

/**
 * Empties D1 and R2 so that each test file starts from a clean slate although files share one workerd
 * per vitest worker (`isolate: false` in vitest.config.ts). The schema stays; every row goes except
 * the counters that triggers keep in step with the rows deleted here. The append-only audit log is
 * emptied with its no-delete trigger lifted for that one transaction (the audit tests forge entries on
 * purpose, and a chain carried over would fail the next file's verification). FTS5 virtual tables and
 * their shadow tables are left to the triggers of the tables they index.
 */
const KEEP = new Set(['d1_migrations', 'site_counters']);
const AUDIT_GUARD = 'audit_log_no_delete';

let tables: Promise<string[]> | undefined;
let auditGuard: Promise<string | null> | undefined;

async function tableNames(): Promise<string[]> {
  const { results } = await env.DB.prepare(
    "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\'",
  ).all<{ name: string; sql: string }>();
  const virtual = results.filter((t) => /^CREATE VIRTUAL TABLE/i.test(t.sql)).map((t) => t.name);
  return results
    .map((t) => t.name)
    .filter((name) => !KEEP.has(name) && !virtual.some((v) => name === v || name.startsWith(`${v}_`)));
}

export async function emptyStorage(): Promise<void> {
  tables ??= tableNames();
  auditGuard ??= env.DB.prepare("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?1")
    .bind(AUDIT_GUARD)
    .first<{ sql: string }>()
    .then((row) => row?.sql ?? null);
  const guard = await auditGuard;
  // One transaction; foreign keys are checked at its end, when every referencing row is gone too.
  await env.DB.batch([
    env.DB.prepare('PRAGMA defer_foreign_keys = on'),
    ...(guard ? [env.DB.prepare(`DROP TRIGGER ${AUDIT_GUARD}`)] : []),
    ...(await tables).map((name) => env.DB.prepare(`DELETE FROM "${name}"`)),
    ...(guard ? [env.DB.prepare(guard)] : []),
    // The keyword rules are gone: move their version so no isolate keeps matching the previous file's rules.
    env.DB.prepare("UPDATE site_counters SET value = value + 1 WHERE key = 'keyword_rules_version'"),
  ]);
  invalidateRuleSet();
  // The edge cache outlives a file too (same workerd): a username or URL reused by the next file must miss.
  await purgeEdgeGroups(...ALL_EDGE_GROUPS);
  for (let cursor: string | undefined; ; ) {
    const page = await env.MEDIA.list({ cursor, limit: 1000 });
    if (page.objects.length > 0) await env.MEDIA.delete(page.objects.map((o) => o.key));
    if (!page.truncated) break;
    cursor = page.cursor;
  }
}
