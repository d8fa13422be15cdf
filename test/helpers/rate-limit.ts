import { expect } from 'vitest';

export interface Burst {
  /** Every status, in the order the requests were sent. */
  statuses: number[];
  /** How many requests were let through before the refusal. */
  accepted: number;
  /** The first 429. */
  limited: Response;
}

/**
 * Sends requests until the limiter answers 429, then checks the limiter's contract.
 *
 * The rate-limiting binding counts in fixed windows aligned to the wall clock, so a burst that happens
 * to straddle a window boundary legitimately gets more than `limit` requests through. Each request is
 * therefore tagged with the window(s) it may have been counted in, and the checks are: no window
 * surely holds more than `limit` accepted requests, and the window of the refusal (when it is certain)
 * had at least `limit` accepted requests in it. A limiter that lets too much through or refuses too
 * early fails either check. A limiter counting in blocks may let `slack` more through in a window.
 *
 * @example const { limited } = await burstUntilLimited({ limit: 30, periodSeconds: 10, max: 100, send: (i) => post(i) });
 */
export async function burstUntilLimited(opts: {
  limit: number;
  periodSeconds: number;
  max: number;
  /** How many requests to send at once (default 1: one after another). */
  chunk?: number;
  /** Requests a window may let through beyond `limit` (a limiter counting in blocks; default 0). */
  slack?: number;
  send: (i: number) => Promise<Response>;
}): Promise<Burst> {
  const windowOf = () => Math.floor(Date.now() / (opts.periodSeconds * 1000));
  const statuses: number[] = [];
  const windows: Array<[number, number]> = [];
  let limited: Response | undefined;
  let limitedWindow: number | undefined;
  for (let i = 0; i < opts.max && !limited; ) {
    const size = Math.min(opts.chunk ?? 1, opts.max - i);
    const from = windowOf();
    const batch = await Promise.all(Array.from({ length: size }, (_, k) => opts.send(i + k)));
    const to = windowOf();
    for (const res of batch) {
      statuses.push(res.status);
      if (res.status === 429) {
        if (!limited) {
          limited = res;
          if (from === to) limitedWindow = from;
          continue;
        }
      } else {
        windows.push([from, to]);
      }
      await res.body?.cancel();
    }
    i += size;
  }
  expect(limited, `no 429 after ${statuses.length} requests`).toBeDefined();
  const surely = new Map<number, number>();
  for (const [from, to] of windows) if (from === to) surely.set(from, (surely.get(from) ?? 0) + 1);
  for (const n of surely.values()) expect(n).toBeLessThanOrEqual(opts.limit + (opts.slack ?? 0));
  if (limitedWindow !== undefined) {
    const w = limitedWindow;
    expect(windows.filter(([from, to]) => from <= w && w <= to).length).toBeGreaterThanOrEqual(opts.limit);
  }
  return { statuses, accepted: windows.length, limited: limited! };
}
