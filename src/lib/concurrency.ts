/**
 * Runs `task` over `items` with at most `limit` in flight at once (a fan-out to thousands of Durable
 * Objects must not open thousands of calls at the same moment). Every item is tried; the ones whose
 * task threw come back with their error, in input order.
 */
export async function forEachLimit<T>(items: readonly T[], limit: number, task: (item: T) => Promise<void>): Promise<{ item: T; error: unknown }[]> {
  const failed: { index: number; item: T; error: unknown }[] = [];
  let next = 0;
  const worker = async () => {
    for (let index = next++; index < items.length; index = next++) {
      const item = items[index]!;
      try {
        await task(item);
      } catch (error) {
        failed.push({ index, item, error });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return failed.sort((a, b) => a.index - b.index).map(({ item, error }) => ({ item, error }));
}

/** `items` cut into consecutive runs of at most `size`. */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * Runs `work` in a Durable Object with no other event delivered until it is done (blockConcurrencyWhile),
 * so what it read before an await cannot be overtaken by another call. A failure is rethrown to the
 * caller rather than inside the gate, where it would reset the object (and drop its sockets).
 */
export async function exclusively(ctx: DurableObjectState, work: () => Promise<void>): Promise<void> {
  const failure = await ctx.blockConcurrencyWhile(async () => {
    try {
      await work();
      return null;
    } catch (error) {
      return { error };
    }
  });
  if (failure) throw failure.error;
}
