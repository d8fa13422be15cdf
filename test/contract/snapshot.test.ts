import { describe, expect, it } from 'vitest';
import { call, expectStatus } from '../helpers/client';
import { documentSha256 } from '../../packages/client/src/kith-api';
import snapshotText from './openapi.snapshot.json?raw';

const REGENERATE = 'the committed contract is stale: run `npm run contract:types` and commit test/contract/ and packages/client/src/kith-api.ts';

async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** The top-level entries (paths, components.*) in which two documents differ, for a readable failure. */
function differences(served: Record<string, any>, committed: Record<string, any>): string[] {
  const out: string[] = [];
  const compare = (a: Record<string, unknown> = {}, b: Record<string, unknown> = {}, prefix: string) => {
    for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
      if (JSON.stringify(a[key]) !== JSON.stringify(b[key])) out.push(`${prefix}${key}${key in a ? (key in b ? ' changed' : ' added') : ' removed'}`);
    }
  };
  const { paths: p1, components: c1, ...rest1 } = served;
  const { paths: p2, components: c2, ...rest2 } = committed;
  compare(rest1, rest2, '');
  compare(p1, p2, 'paths ');
  for (const kind of new Set([...Object.keys(c1 ?? {}), ...Object.keys(c2 ?? {})])) compare(c1?.[kind], c2?.[kind], `components.${kind} `);
  return out;
}

describe('Committed contract (test/contract/openapi.snapshot.json, packages/client/src/kith-api.ts)', () => {
  it('should be the document the worker serves (minus servers)', async () => {
    const { servers, ...served } = await expectStatus(await call('/openapi.json'), 200);
    expect(servers).toHaveLength(1);
    const committed = JSON.parse(snapshotText);
    if (JSON.stringify(served) !== JSON.stringify(committed)) expect(differences(served, committed), REGENERATE).toEqual([]);
    expect(JSON.stringify(served), REGENERATE).toBe(JSON.stringify(committed));
  });

  it('should have types generated from that snapshot', async () => {
    expect(await sha256(JSON.stringify(JSON.parse(snapshotText))), REGENERATE).toBe(documentSha256);
  });
});
