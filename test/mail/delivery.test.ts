import { createExecutionContext, createMessageBatch, getQueueResult } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import worker from '../../src/index';
import { KEEP_DELIVERED_MAIL_MS } from '../../src/modules/mail/mail-delivery';
import { runSignInJobs } from '../../src/scheduled';
import { retryDelaySeconds } from '../../src/queues/mail';
import { type Delivery, MAIL_API_TOKEN } from '../fixtures/mail/server';
import { call, createUser, expectStatus, uniqueName } from '../helpers/client';

const MAIL_SERVER = inject('mailServerUrl');
const mutableEnv = env as unknown as Record<string, unknown>;
const saved: Record<string, unknown> = {};

/** Switches this test's worker to the HTTP mailer pointed at the local capture server. */
beforeEach(() => {
  for (const key of ['MAILER', 'MAIL_HTTP_URL', 'MAIL_HTTP_TOKEN']) saved[key] = mutableEnv[key];
  Object.assign(mutableEnv, { MAILER: 'http', MAIL_HTTP_URL: `${MAIL_SERVER}/emails`, MAIL_HTTP_TOKEN: MAIL_API_TOKEN });
});
afterEach(() => {
  Object.assign(mutableEnv, saved);
});

const deliveriesTo = async (to: string): Promise<Delivery[]> => (await fetch(`${MAIL_SERVER}/deliveries?to=${encodeURIComponent(to)}`)).json();
const outboxRows = (to: string) =>
  env.DB.prepare('SELECT id, kind, sent_at, failed_at, queued_at, attempts, last_error FROM mail_outbox WHERE to_address = ?1 ORDER BY created_at, id')
    .bind(to)
    .all<{ id: string; kind: string; sent_at: number | null; failed_at: number | null; queued_at: number | null; attempts: number; last_error: string | null }>();

async function consume(queue: 'kith-mail' | 'kith-mail-dlq', ids: string[], attempts = 1) {
  const batch = createMessageBatch(
    queue,
    ids.map((id, i) => ({ id: `m${i}`, timestamp: new Date(), attempts, body: { type: 'mail.send', id } })),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch, env, ctx);
  return getQueueResult(batch, ctx);
}

async function until<T>(read: () => Promise<T>, ok: (value: T) => boolean, what: string): Promise<T> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('Mail delivery (MAILER=http through the kith-mail queue)', () => {
  it('should deliver a mail through the real queue to the HTTP mail API, with both parts, once', async () => {
    const user = await createUser();
    await expectStatus(await call('/auth/password/forgot', { body: { email: user.email } }), 202);
    const [delivery] = await until(() => deliveriesTo(user.email), (list) => list.some((d) => d.subject.includes('password')), 'the reset mail');
    const reset = (await deliveriesTo(user.email)).filter((d) => d.subject.includes('password'));
    expect(reset).toHaveLength(1);
    expect(delivery).toMatchObject({ to: [user.email], from: env.MAIL_FROM, status: 200 });
    const row = (await outboxRows(user.email)).results.find((r) => r.kind === 'password_reset')!;
    expect(reset[0]!.idempotency_key).toBe(row.id);
    expect(reset[0]!.text).toMatch(/token=\S+/);
    expect(reset[0]!.html).toMatch(/^<!doctype html>/);
    expect(reset[0]!.html).toContain('<a href="http://localhost:3000/reset-password?token=');
    const sent = await until(() => outboxRows(user.email), (rows) => rows.results.find((r) => r.id === row.id)!.sent_at !== null, 'sent_at');
    expect(sent.results.find((r) => r.id === row.id)).toMatchObject({ attempts: 1, failed_at: null, last_error: null });
  });

  it('should send a row once however often its message is delivered', async () => {
    const user = await createUser({ email: `${uniqueName('twice')}@example.com` });
    await until(() => outboxRows(user.email), (rows) => rows.results[0]?.sent_at !== null, 'the verification mail sent');
    const id = (await outboxRows(user.email)).results[0]!.id;
    const result = await consume('kith-mail', [id, id]);
    expect(result.explicitAcks.sort()).toEqual(['m0', 'm1']);
    expect((await deliveriesTo(user.email)).filter((d) => d.idempotency_key === id)).toHaveLength(1);
  });

  it('should retry a failed send with backoff, then send it; and give up on a refused address at once', async () => {
    const flaky = await createUser({ email: `fail-once-${uniqueName('f')}@example.com` });
    const rows = await until(() => outboxRows(flaky.email), (r) => r.results.length === 1 && r.results[0]!.attempts >= 1, 'a first attempt');
    const id = rows.results[0]!.id;
    // Whatever the real queue did meanwhile, drive the row to its end by hand: at most one more try is needed.
    await until(
      async () => {
        const row = (await outboxRows(flaky.email)).results[0]!;
        if (row.sent_at === null) await consume('kith-mail', [id], row.attempts + 1);
        return (await outboxRows(flaky.email)).results[0]!;
      },
      (row) => row.sent_at !== null,
      'the retry to succeed',
    );
    const statuses = (await deliveriesTo(flaky.email)).map((d) => d.status);
    expect(statuses).toEqual([503, 200]);

    const refused = await createUser({ email: `reject-${uniqueName('r')}@example.com` });
    const failed = await until(() => outboxRows(refused.email), (r) => r.results[0]?.failed_at != null, 'the refusal recorded');
    expect(failed.results[0]).toMatchObject({ sent_at: null, attempts: 1 });
    expect(failed.results[0]!.last_error).toContain('422');
    // A later redelivery sends nothing.
    const again = await consume('kith-mail', [failed.results[0]!.id]);
    expect(again.explicitAcks).toEqual(['m0']);
    expect(await deliveriesTo(refused.email)).toHaveLength(1);
  });

  it('should ask for a growing delay on failure', async () => {
    expect([1, 2, 3, 4, 5].map(retryDelaySeconds)).toEqual([30, 60, 120, 240, 480]);
    const flaky = await createUser({ email: `fail-once-${uniqueName('d')}@example.com` });
    const id = (await outboxRows(flaky.email)).results[0]!.id;
    // Take the row out of the real queue's hands, as if its first message was lost.
    await env.DB.prepare('UPDATE mail_outbox SET locked_until = NULL WHERE id = ?1').bind(id).run();
    const result = await consume('kith-mail', [id], 3);
    // (getQueueResult does not report the delay asked for; retryDelaySeconds above is what the consumer passes.)
    if ((await deliveriesTo(flaky.email)).length === 1) expect(result.retryMessages.map((m) => m.msgId)).toEqual(['m0']);
    else expect(result.explicitAcks).toEqual(['m0']);
  });

  it('should keep mail for a later try, naming the missing setting, when the mailer is configured only in part', async () => {
    const to = `${uniqueName('cfg')}@example.com`;
    const id = `01JC7M${crypto.randomUUID().replace(/-/g, '').slice(0, 20).toUpperCase()}`;
    await env.DB.prepare("INSERT INTO mail_outbox (id, to_address, subject, body_text, kind, created_at) VALUES (?1, ?2, 'Hello', 'Hello there', 'test', ?3)").bind(id, to, Date.now()).run();
    Object.assign(mutableEnv, { MAIL_HTTP_TOKEN: '' });
    expect((await consume('kith-mail', [id])).retryMessages.map((m) => m.msgId)).toEqual(['m0']);
    expect((await outboxRows(to)).results[0]).toMatchObject({ sent_at: null, failed_at: null, attempts: 1, last_error: expect.stringContaining('MAIL_HTTP_TOKEN') });
    // send_email without its binding: this deployment has no [[send_email]] EMAIL.
    Object.assign(mutableEnv, { MAILER: 'send_email' });
    expect((await consume('kith-mail', [id])).retryMessages.map((m) => m.msgId)).toEqual(['m0']);
    expect((await outboxRows(to)).results[0]).toMatchObject({ sent_at: null, attempts: 2, last_error: expect.stringContaining('binding named EMAIL') });
    expect(await deliveriesTo(to)).toEqual([]);
    // A message that names no row is acknowledged and dropped.
    const batch = createMessageBatch('kith-mail', [{ id: 'bad', timestamp: new Date(), attempts: 1, body: { type: 'mail.send' } }]);
    const ctx = createExecutionContext();
    await worker.queue(batch, env, ctx);
    expect((await getQueueResult(batch, ctx)).explicitAcks).toEqual(['bad']);
  });

  it('should mark a row failed when its retries ran out (dead-letter queue), and never send it later', async () => {
    const user = await createUser({ email: `reject-${uniqueName('dlq')}@example.com` });
    const id = (await outboxRows(user.email)).results[0]!.id;
    await env.DB.prepare('UPDATE mail_outbox SET failed_at = NULL, sent_at = NULL, locked_until = ?2 WHERE id = ?1').bind(id, Date.now() + 60_000).run();
    const result = await consume('kith-mail-dlq', [id]);
    expect(result.explicitAcks).toEqual(['m0']);
    expect((await outboxRows(user.email)).results[0]!.failed_at).not.toBeNull();
  });

  it('should re-queue a row whose queue message was never sent (the Cron sweeper)', async () => {
    const user = await createUser();
    await until(() => outboxRows(user.email), (rows) => rows.results[0]?.sent_at !== null, 'the verification mail sent');
    const to = `${uniqueName('swept')}@example.com`;
    const id = `01JC6Z7TQ2W3E4R5T6${Math.floor(Math.random() * 1e8).toString().padStart(8, '0').replace(/[ILOU]/g, 'X')}`;
    await env.DB.prepare("INSERT INTO mail_outbox (id, to_address, subject, body_text, body_html, kind, created_at) VALUES (?1, ?2, 'Swept', 'text', '<p>html</p>', 'test', ?3)")
      .bind(id, to, Date.now() - 120_000)
      .run();
    await runSignInJobs(env, Date.now());
    expect((await outboxRows(to)).results[0]!.queued_at).not.toBeNull();
    await until(() => deliveriesTo(to), (list) => list.length === 1, 'the swept mail delivered');
  });
});

describe('Mail housekeeping (MAILER=http)', () => {
  it('should delete mail sent or given up more than 7 days ago, and keep the rest', async () => {
    const now = Date.now();
    const to = `${uniqueName('pruned')}@example.com`;
    const rows = [
      ['old-sent', now - KEEP_DELIVERED_MAIL_MS - 1, null],
      ['old-failed', null, now - KEEP_DELIVERED_MAIL_MS - 1],
      ['recent-sent', now - KEEP_DELIVERED_MAIL_MS + 60_000, null],
    ] as const;
    await env.DB.batch(
      rows.map(([subject, sentAt, failedAt]) =>
        env.DB.prepare("INSERT INTO mail_outbox (id, to_address, subject, body_text, kind, created_at, sent_at, failed_at, queued_at) VALUES (?1, ?2, ?3, 'text', 'test', ?4, ?5, ?6, ?4)")
          .bind(`${subject}-${uniqueName('m')}`, to, subject, now - KEEP_DELIVERED_MAIL_MS - 60_000, sentAt, failedAt),
      ),
    );
    await runSignInJobs(env, now);
    const left = await env.DB.prepare('SELECT subject FROM mail_outbox WHERE to_address = ?1').bind(to).all<{ subject: string }>();
    expect(left.results.map((r) => r.subject)).toEqual(['recent-sent']);
  });
});

describe('Mail with MAILER=outbox', () => {
  it('should only record the row: nothing is queued', async () => {
    mutableEnv.MAILER = 'outbox';
    const user = await createUser();
    const rows = await outboxRows(user.email);
    expect(rows.results).toHaveLength(1);
    expect(rows.results[0]).toMatchObject({ queued_at: null, sent_at: null, attempts: 0 });
  });
});
