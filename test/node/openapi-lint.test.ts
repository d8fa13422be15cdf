import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, inject, it } from 'vitest';

/**
 * `@redocly/cli lint` (the recommended ruleset, redocly.yaml) on the document the worker serves at
 * /openapi.json: no errors allowed. Warnings are printed with the totals.
 */

const REDOCLY = join('node_modules', '@redocly', 'cli', 'bin', 'cli.js');

interface LintReport {
  totals: { errors: number; warnings: number; ignored: number };
  problems: { ruleId: string; severity: 'error' | 'warn'; message: string; location: { pointer?: string }[] }[];
}

describe('OpenAPI lint', () => {
  it('should report no errors with the recommended ruleset', async () => {
    const res = await fetch(`${inject('workerUrl')}/openapi.json`);
    expect(res.status).toBe(200);
    const dir = mkdtempSync(join(tmpdir(), 'kith-openapi-'));
    try {
      const file = join(dir, 'openapi.json');
      writeFileSync(file, await res.text());
      // The CLI exits 1 when it finds errors; the report on stdout says which.
      const run = promisify(execFile)(process.execPath, [REDOCLY, 'lint', file, '--config', 'redocly.yaml', '--format=json'], { maxBuffer: 64 * 1024 * 1024, env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' } });
      const { stdout } = await run.catch((err: { stdout?: string }) => ({ stdout: err.stdout ?? '' }));
      const report = JSON.parse(stdout.slice(stdout.indexOf('{'))) as LintReport;
      const byRule = new Map<string, number>();
      for (const p of report.problems) byRule.set(`${p.severity} ${p.ruleId}`, (byRule.get(`${p.severity} ${p.ruleId}`) ?? 0) + 1);
      console.log(`redocly lint: ${report.totals.errors} errors, ${report.totals.warnings} warnings${[...byRule].map(([rule, n]) => `\n  ${rule}: ${n}`).join('')}`);
      const errors = report.problems.filter((p) => p.severity === 'error').map((p) => `${p.ruleId} at ${p.location[0]?.pointer}: ${p.message}`);
      expect(errors).toEqual([]);
      expect(report.totals.errors).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
