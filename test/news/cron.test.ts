import { createExecutionContext, createMessageBatch, createScheduledController, getQueueResult, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import worker from '../../src/index';
import { NEWS_LEASE_MS } from '../../src/modules/news/news.service';
import { NEWS_CRON, queueDueNewsSources } from '../../src/scheduled';
import { addSource, createStaff, uniqueFeed } from './helpers';

const sourceRow = (id: string) =>
  env.DB.prepare('SELECT last_fetched_at, last_status, next_fetch_at, item_count FROM news_sources WHERE id = ?1').bind(id).first<{ last_fetched_at: number | null; last_status: string | null; next_fetch_at: number; item_count: number }>();

describe('News: Cron Trigger and Queue', () => {
  it('should queue every due source on the 15-minute cron, and the consumer should fetch each (one broken source stops none)', async () => {
    const staff = await createStaff();
    const due = [
      await addSource(staff, { url: uniqueFeed('/rss.xml'), topic: 'career' }),
      await addSource(staff, { url: uniqueFeed('/error'), topic: 'news' }),
      await addSource(staff, { url: uniqueFeed('/malformed.xml'), topic: 'news' }),
      await addSource(staff, { url: uniqueFeed('/atom.xml'), topic: 'education' }),
    ];
    const later = await addSource(staff, { url: uniqueFeed('/feed.json'), topic: 'faith' });
    const future = Date.now() + 3_600_000;
    await env.DB.prepare('UPDATE news_sources SET next_fetch_at = ?2 WHERE id = ?1').bind(later.id, future).run();

    const tick = Date.now();
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ cron: NEWS_CRON, scheduledTime: tick }), env, ctx);
    await waitOnExecutionContext(ctx);
    // Claimed at once: held back a lease, so the next tick does not queue them again while they wait.
    for (const source of due) expect((await sourceRow(source.id))!.next_fetch_at).toBeGreaterThanOrEqual(tick + NEWS_LEASE_MS - 1);
    expect(await queueDueNewsSources(env, tick + 1000)).toBe(0);
    expect((await sourceRow(later.id))!.next_fetch_at).toBe(future);

    // The real queue delivers the messages to the worker's queue handler (batches of 3, 1 s timeout).
    const deadline = Date.now() + 15_000;
    let rows = await Promise.all(due.map((s) => sourceRow(s.id)));
    while (rows.some((r) => r!.last_fetched_at === null) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      rows = await Promise.all(due.map((s) => sourceRow(s.id)));
    }
    expect(rows.map((r) => r!.last_status)).toEqual(['ok', 'error', 'error', 'ok']);
    expect(rows.map((r) => r!.item_count)).toEqual([2, 0, 0, 1]);
    expect((await sourceRow(later.id))!.last_fetched_at).toBeNull();
  });

  it('should acknowledge each message it handled, a source that is gone included', async () => {
    const staff = await createStaff();
    const source = await addSource(staff, { url: uniqueFeed('/rss.xml'), topic: 'career' });
    const batch = createMessageBatch('kith-news', [
      { id: 'm1', timestamp: new Date(), attempts: 1, body: { type: 'news.fetch', source_id: source.id } },
      { id: 'm2', timestamp: new Date(), attempts: 1, body: { type: 'news.fetch', source_id: '01JC6ZC1B2C3D4E5F6G7H8J9K0' } },
    ]);
    const ctx = createExecutionContext();
    await worker.queue(batch, env, ctx);
    const result = await getQueueResult(batch, ctx);
    expect(result.explicitAcks.sort()).toEqual(['m1', 'm2']);
    expect(result.retryMessages).toEqual([]);
    expect((await sourceRow(source.id))!.last_status).toBe('ok');
  });

  it('should retry a batch from a queue it has no consumer for, and run no job on an unknown cron', async () => {
    const staff = await createStaff();
    const waiting = await addSource(staff, { url: uniqueFeed('/rss.xml'), topic: 'career' });
    const batch = createMessageBatch('nobody-consumes-this', [{ id: 'x', timestamp: new Date(), attempts: 1, body: {} }]);
    const ctx = createExecutionContext();
    await worker.queue(batch, env, ctx);
    expect((await getQueueResult(batch, ctx)).retryBatch.retry).toBe(true);
    const other = createExecutionContext();
    await worker.scheduled(createScheduledController({ cron: '0 0 * * *', scheduledTime: Date.now() }), env, other);
    await waitOnExecutionContext(other);
    expect((await sourceRow(waiting.id))!.next_fetch_at).toBe(0);
  });
});
