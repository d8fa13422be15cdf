import { onAfterResponse } from '../../src/middleware/after-response';

/**
 * Runs `action` (requests to the worker) and waits for the work those requests left for after their
 * answer (src/middleware/after-response.ts), so a test reads its effects without polling; returns the
 * action's result and the kinds of work, in the order they started.
 */
export async function settleAfterResponse<T>(action: () => Promise<T>, timeoutMs = 5_000): Promise<{ result: T; work: string[] }> {
  const work: string[] = [];
  let finished = 0;
  const stop = onAfterResponse((kind, done) => {
    work.push(kind);
    // Only counted, never awaited here: a test that awaits a promise of the worker's request would go on
    // in that request's I/O context, and reading its own responses there throws ("Cannot perform I/O on
    // behalf of a different request"), or waits forever once that request is gone.
    void done.finally(() => {
      finished += 1;
    });
  });
  try {
    const result = await action();
    const deadline = Date.now() + timeoutMs;
    while (finished < work.length) {
      if (Date.now() > deadline) throw new Error(`the work left after the answer (${work.join(', ')}) did not finish within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    return { result, work };
  } finally {
    stop();
  }
}
