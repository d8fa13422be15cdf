import { env } from 'cloudflare:workers';
import { expect } from 'vitest';

/** The lines of `EXPLAIN QUERY PLAN` for a statement with its parameters. */
export async function queryPlan(sql: string, params: unknown[]): Promise<string[]> {
  const { results } = await env.DB.prepare(`EXPLAIN QUERY PLAN ${sql}`)
    .bind(...params)
    .all<{ detail: string }>();
  expect(results.length).toBeGreaterThan(0);
  return results.map((r) => r.detail.trim());
}

/**
 * The plan lines that walk a whole real table (`SCAN posts`, `SCAN p` where p aliases posts), with or
 * without `USING [COVERING] INDEX` (walking a whole index is as unbounded as walking the table), except
 * the index walks listed in `bounded` (an ORDER BY … LIMIT read in index order stops after LIMIT rows).
 * Scans of CTEs, subqueries and FTS5 tables (`VIRTUAL TABLE INDEX`) are not table scans.
 */
export function tableScans(lines: string[], tables: string[], aliases: Record<string, string> = {}, bounded: string[] = []): string[] {
  return lines.filter((line) => {
    const m = /^SCAN (\S+)(?: (VIRTUAL TABLE INDEX|USING (?:COVERING )?INDEX (\S+)))?/.exec(line);
    if (!m || m[2] === 'VIRTUAL TABLE INDEX') return false;
    if (m[3] && bounded.includes(m[3])) return false;
    return tables.includes(aliases[m[1]!] ?? m[1]!);
  });
}
