import { onAfterResponse } from '../../src/middleware/after-response';

/**
 * Runs `action` (requests to the worker) and waits for the work those requests left for after their
 * answer (src/middleware/after-response.ts), so a test reads its effects without polling; returns the
 * action's result and the kinds of work, in the order they started.
 */
export async function settleAfterResponse<T>(action: () => Promise<T>): Promise<{ result: T; work: string[] }> {
  const work: string[] = [];
  const pending: Promise<void>[] = [];
  const stop = onAfterResponse((kind, done) => {
    work.push(kind);
    pending.push(done);
  });
  try {
    const result = await action();
    await Promise.all(pending);
    return { result, work };
  } finally {
    stop();
  }
}
