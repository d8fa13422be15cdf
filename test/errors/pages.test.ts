import { describe, expect, it } from 'vitest';
import { ERROR_STATUS } from '../../src/lib/errors';
import { BASE, call, expectProblem, expectStatus } from '../helpers/client';

/** Every problem `type` is a page on the deployment's own origin: `/errors/{slug}`. */

const JSON_ACCEPT = { headers: { Accept: 'application/json' } };

describe('Problem types and their pages', () => {
  it('should give problems an absolute type on the request origin that answers a page about them', async () => {
    const problem = await expectProblem(await call('/users/01JC6Z7TQ2W3E4R5T6Y7V8H9K0'), 404);
    expect(problem.type).toBe(`${BASE}/errors/not-found`);

    const page = await call(problem.type);
    expect(page.status).toBe(200);
    expect(page.headers.get('Content-Type')).toContain('text/html');
    expect(page.headers.get('Content-Security-Policy')).toContain("default-src 'none'");
    const html = await page.text();
    expect(html).toContain('<h1>Not found <small>(HTTP 404)</small></h1>');
    expect(html).toContain('How to fix it');

    const json = await expectStatus(await call(problem.type, JSON_ACCEPT), 200);
    expect(json).toMatchObject({ type: problem.type, slug: 'not-found', title: problem.title, status: 404 });
  });

  it('should list one page for every error code, each answering at its own type', async () => {
    const { data } = await expectStatus<{ data: { type: string; slug: string; status: number; meaning: string; fix: string }[] }>(await call('/errors', JSON_ACCEPT), 200);
    expect(data.map((p) => p.slug).sort()).toEqual(Object.keys(ERROR_STATUS).map((code) => code.replaceAll('_', '-')).sort());
    for (const page of data) {
      expect(page.type).toBe(`${BASE}/errors/${page.slug}`);
      expect(page.meaning.length).toBeGreaterThan(20);
      expect(page.fix.length).toBeGreaterThan(20);
      const html = await call(page.type);
      expect(html.status, page.slug).toBe(200);
      expect(await html.text()).toContain(`(HTTP ${page.status})`);
    }
    const index = await call('/errors');
    expect(await index.text()).toContain('<a href="/errors/validation-failed">Validation failed</a>');
  });

  it('should answer a slug no problem has with a 404 problem', async () => {
    const problem = await expectProblem(await call('/errors/no-such-problem'), 404);
    expect(problem.detail).toContain('no-such-problem');
    await expectProblem(await call('/errors/<script>', JSON_ACCEPT), 404);
  });
});
