import { createExecutionContext, createMessageBatch, getQueueResult } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { expect } from 'vitest';
import worker from '../../src/index';
import { eventually } from '../notifications/helpers';

/** Runs the worker's queue handler on one batch of `queue`, as Queues would; returns what it acked and retried. */
export async function consume(queue: string, bodies: unknown[], attempts = 1) {
  const batch = createMessageBatch(
    queue,
    bodies.map((body, i) => ({ id: `m${i}-${Math.random().toString(36).slice(2)}`, timestamp: new Date(), attempts, body })),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch, env, ctx);
  return { batch, result: await getQueueResult(batch, ctx) };
}

/** Waits until the dead-letter consumer kept `count` messages whose body holds `marker`; returns them by reason. */
export async function deadLetters(marker: string, count: number) {
  return eventually(async () => {
    const { results } = await env.DB.prepare('SELECT queue, reason, body, attempts FROM queue_dead_letters WHERE body LIKE ?1 ORDER BY reason')
      .bind(`%${marker}%`)
      .all<{ queue: string; reason: string; body: string; attempts: number }>();
    expect(results).toHaveLength(count);
    return results;
  }, 5_000);
}
