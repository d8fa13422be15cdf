import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

/**
 * /docs in a real headless Chromium (Debian's `chromium`) with every non-local request refused: the
 * reference must load from this origin alone, under its CSP, and list the operations of /openapi.json.
 */

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

describe('/docs in a browser, offline', () => {
  const origin = inject('workerUrl');
  let browser: Browser;

  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('should list the operations, fetch nothing from another origin, and break no CSP rule', async () => {
    const context = await browser.newContext({ serviceWorkers: 'block' });
    const offsite: string[] = [];
    await context.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith(`${origin}/`) || url.startsWith('data:') || url.startsWith('blob:')) return route.continue();
      offsite.push(url);
      return route.abort('internetdisconnected');
    });
    const page = await context.newPage();
    const violations: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
    });
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(String(error)));

    const response = await page.goto(`${origin}/docs`);
    expect(response?.status()).toBe(200);
    const csp = response?.headers()['content-security-policy'] ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|https?:/);

    // The document's own operations, by summary, as Scalar lists them.
    const document = (await (await fetch(`${origin}/openapi.json`)).json()) as { paths: Record<string, Record<string, { summary: string }>> };
    const summaries = Object.values(document.paths).flatMap((item) => Object.values(item).map((op) => op.summary));
    await page.getByText('Liveness of the worker and its D1 and R2 bindings', { exact: true }).first().waitFor({ timeout: 30_000 });
    // The sidebar lists every operation by its summary (reference.js opens every tag).
    const sidebar = page.getByRole('complementary', { name: /Sidebar/ });
    await expect.poll(async () => ((await sidebar.textContent()) ?? '').length, { timeout: 30_000 }).toBeGreaterThan(5_000);
    const text = (await sidebar.textContent()) ?? '';
    expect(summaries.filter((summary) => !text.includes(summary))).toEqual([]);

    expect(offsite).toEqual([]);
    // The bundle also injects its styles inline, which style-src 'self' refuses: scalar.css carries the
    // same styles from this origin. Nothing else may be refused (no script, no connection).
    expect(violations.filter((v) => !/violates the following Content Security Policy directive 'style-src 'self''/.test(v))).toEqual([]);
    expect(pageErrors).toEqual([]);
    await context.close();
  });
});
