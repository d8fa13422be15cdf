import { validatingFetch } from '../contract/validating-fetch';
import { describe, expect, it } from 'vitest';

describe('health', () => {
  it('should answer ok', async () => {
    const res = await validatingFetch('http://kith.test/health');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok', checks: { d1: 'ok', r2: 'ok' } });
  });
});
