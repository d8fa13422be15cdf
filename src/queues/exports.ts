import { z } from 'zod';
import { createDb } from '../db/client';
import { composeMail, createMailer } from '../lib/mailer';
import { writeAccountArchive } from '../modules/exports/account-archive';
import { ArchiveWriter } from '../modules/exports/archive-writer';
import { EXPORT_TTL_MS, type ExportMessage, exportObjectKey } from '../modules/exports/exports.service';
import type { Bindings } from '../lib/types';
import { issuesReason, queueLog } from './queue-log';

/** Attempts at building one archive; after the last failed one the export is marked failed. */
export const EXPORT_ATTEMPTS = 3;

const ExportMessageSchema = z.object({ type: z.literal('export.build'), export_id: z.string().min(1).max(64), user_id: z.string().min(1).max(64), base_url: z.url() });

const log = queueLog('kith-exports');

/**
 * Builds one account archive (src/modules/exports/account-archive.ts) into R2 through a multipart
 * upload, then marks the export ready (7 days) and tells the account's address. Idempotent: an export
 * that is no longer pending (built already, or gone with its account) is skipped; an archive finished
 * for an export deleted meanwhile is deleted again.
 */
export async function buildExport(env: Bindings, message: ExportMessage): Promise<void> {
  const row = await env.DB.prepare("SELECT status FROM account_exports WHERE id = ?1 AND user_id = ?2").bind(message.export_id, message.user_id).first<{ status: string }>();
  if (row?.status !== 'pending') return;
  const key = exportObjectKey(message.user_id, message.export_id);
  const upload = await env.MEDIA.createMultipartUpload(key, { httpMetadata: { contentType: 'application/zip' } });
  let size: number;
  try {
    const archive = new ArchiveWriter(upload);
    await writeAccountArchive(env, message.user_id, message.base_url, archive);
    size = await archive.finish();
  } catch (err) {
    await upload.abort().catch(() => undefined);
    throw err;
  }
  const now = Date.now();
  const done = await env.DB.prepare("UPDATE account_exports SET status = 'ready', ready_at = ?2, expires_at = ?3, size_bytes = ?4 WHERE id = ?1 AND status = 'pending' RETURNING user_id")
    .bind(message.export_id, now, now + EXPORT_TTL_MS, size)
    .first<{ user_id: string }>();
  if (!done) {
    await env.MEDIA.delete(key);
    return;
  }
  const user = await env.DB.prepare('SELECT email FROM users WHERE id = ?1').bind(message.user_id).first<{ email: string }>();
  if (!user) return;
  await createMailer(env, createDb(env.DB)).send(
    composeMail({
      to: user.email,
      kind: 'export_ready',
      subject: 'Your Kith data is ready to download',
      intro: [
        'The archive of your Kith data that was asked for is ready. Download it from your account settings (GET /api/v1/me/exports) within 7 days; then it is deleted.',
      ],
      outro: ['If you did not ask for it, change your password and sign out your other devices at once: someone may be in your account.'],
    }),
  );
}

/** The kith-exports consumer: one archive per message; invalid messages are dropped with their reason logged. */
export async function consumeExportBatch(batch: MessageBatch<unknown>, env: Bindings): Promise<void> {
  for (const message of batch.messages) {
    const parsed = ExportMessageSchema.safeParse(message.body);
    if (!parsed.success) {
      log('error', { message: 'invalid export message dropped', id: message.id, reason: issuesReason(parsed.error) });
      message.ack();
      continue;
    }
    try {
      await buildExport(env, parsed.data);
      message.ack();
    } catch (err) {
      log('error', { message: 'export failed', id: message.id, export_id: parsed.data.export_id, attempts: message.attempts, error: String((err as Error)?.message ?? err) });
      if (message.attempts < EXPORT_ATTEMPTS) {
        message.retry({ delaySeconds: 30 * message.attempts });
        continue;
      }
      await env.DB.prepare("UPDATE account_exports SET status = 'failed', expires_at = ?2 WHERE id = ?1 AND status = 'pending'").bind(parsed.data.export_id, Date.now() + EXPORT_TTL_MS).run();
      message.ack();
    }
  }
}
