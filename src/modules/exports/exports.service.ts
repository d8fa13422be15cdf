import type { Context } from 'hono';
import type { AccountExportRow } from '../../db/schema';
import { ApiError } from '../../lib/errors';
import { newId } from '../../lib/ids';
import type { AppEnv, AuthContext, Bindings } from '../../lib/types';
import { audit, requestIp } from '../audit/audit';
import { assertRecentSignIn } from '../auth/sessions.service';
import { deleteObjectsUnder } from '../media/media.service';
import type { Export } from './exports.schemas';

/** One archive a day: a new request within this long of the last built one is 429. */
export const EXPORT_INTERVAL_MS = 24 * 60 * 60 * 1000;
/** Archives (and failed exports) are deleted this long after they were finished. */
export const EXPORT_TTL_MS = 7 * 24 * 60 * 60 * 1000;

/** The queue message that builds one archive (src/queues/exports.ts). */
export interface ExportMessage {
  type: 'export.build';
  export_id: string;
  user_id: string;
  /** The API's origin as the request saw it (for the URLs inside the archive, e.g. avatars). */
  base_url: string;
}

/** Where an archive lives in R2 (never a media key: those have no slash). */
export const exportObjectKey = (userId: string, exportId: string) => `exports/${userId}/${exportId}.zip`;

/** The prefix of every archive of an account (deleted with the account). */
export const exportPrefix = (userId: string) => `exports/${userId}/`;

interface RawExport {
  id: string;
  user_id: string;
  status: AccountExportRow['status'];
  requested_at: number;
  ready_at: number | null;
  expires_at: number | null;
  size_bytes: number | null;
}

/** A millisecond time as ISO text, null for none. */
export const iso = (ms: number | null | undefined) => (ms == null ? null : new Date(ms).toISOString());

function present(row: RawExport, baseUrl: string): Export {
  return {
    id: row.id,
    status: row.status,
    requested_at: new Date(row.requested_at).toISOString(),
    ready_at: iso(row.ready_at),
    expires_at: iso(row.expires_at),
    size_bytes: row.size_bytes,
    download_url: row.status === 'ready' ? `${baseUrl}/api/v1/me/exports/${row.id}/archive` : null,
  };
}

/**
 * Asks for an archive: one statement decides, so two requests at once make one export (the partial
 * unique index allows one pending per account) and a request within a day of the last built archive
 * makes none. A new export is recorded in the audit log and queued; if the queue refuses it, it is
 * deleted again and the answer is 503.
 */
export async function requestExport(c: Context<AppEnv>, auth: AuthContext): Promise<Export> {
  const db = c.var.d1;
  const id = newId();
  const now = Date.now();
  const [inserted] = await audit(
    db,
    {
      action: 'account.export_requested',
      actorId: auth.userId,
      subjectType: 'user',
      subjectId: auth.userId,
      ip: requestIp(c),
      data: { export_id: id },
      when: { sql: 'EXISTS (SELECT 1 FROM account_exports WHERE id = ?1)', params: [id] },
    },
    [
      db
        .prepare(
          `INSERT OR IGNORE INTO account_exports (id, user_id, status, requested_at)
           SELECT ?1, ?2, 'pending', ?3 WHERE NOT EXISTS (
             SELECT 1 FROM account_exports WHERE user_id = ?2 AND status = 'ready' AND requested_at > ?3 - ?4)`,
        )
        .bind(id, auth.userId, now, EXPORT_INTERVAL_MS),
    ],
  );
  if (inserted?.meta.changes) {
    try {
      await c.env.EXPORTS_QUEUE.send({ type: 'export.build', export_id: id, user_id: auth.userId, base_url: c.get('baseUrl') } satisfies ExportMessage);
    } catch (err) {
      await db.prepare('DELETE FROM account_exports WHERE id = ?1').bind(id).run();
      throw new ApiError('service_unavailable', 'The export could not be queued; try again in a moment.', { cause: err, headers: { 'Retry-After': '5' } });
    }
  }
  const rows = await latestOf(c, auth.userId);
  const pending = rows.find((r) => r.status === 'pending');
  if (pending) return present(pending, c.get('baseUrl'));
  const last = rows.find((r) => r.status === 'ready');
  const wait = last ? Math.max(1, Math.ceil((last.requested_at + EXPORT_INTERVAL_MS - now) / 1000)) : 1;
  throw new ApiError('rate_limited', 'One archive a day: the last one is less than 24 hours old (see GET /me/exports).', { headers: { 'Retry-After': String(wait) } });
}

/** The account's exports, newest first (expired ones are deleted by the Cron Trigger). */
async function latestOf(c: Context<AppEnv>, userId: string): Promise<RawExport[]> {
  const { results } = await c.var.d1.prepare('SELECT * FROM account_exports WHERE user_id = ?1 ORDER BY requested_at DESC, id DESC LIMIT 50').bind(userId).all<RawExport>();
  return results;
}

export async function listExports(c: Context<AppEnv>, auth: AuthContext): Promise<Export[]> {
  return (await latestOf(c, auth.userId)).map((row) => present(row, c.get('baseUrl')));
}

async function ownExport(c: Context<AppEnv>, auth: AuthContext, id: string): Promise<RawExport> {
  const row = await c.var.d1.prepare('SELECT * FROM account_exports WHERE id = ?1 AND user_id = ?2').bind(id, auth.userId).first<RawExport>();
  if (!row || (row.expires_at !== null && row.expires_at <= Date.now())) throw new ApiError('not_found', 'No such export.');
  return row;
}

export async function getExport(c: Context<AppEnv>, auth: AuthContext, id: string): Promise<Export> {
  return present(await ownExport(c, auth, id), c.get('baseUrl'));
}

/** The archive's bytes and its file name, for a session that signed in within 15 minutes; each download is recorded. */
export async function openArchive(c: Context<AppEnv>, auth: AuthContext, id: string): Promise<{ body: ReadableStream; size: number; filename: string }> {
  const row = await ownExport(c, auth, id);
  if (row.status !== 'ready') throw new ApiError('not_found', 'The archive is not ready.');
  await assertRecentSignIn(c.var.d1, auth.sessionId, 'download your data');
  const object = await c.env.MEDIA.get(exportObjectKey(auth.userId, id));
  if (!object) throw new ApiError('not_found', 'No such export.');
  await audit(c.var.d1, { action: 'account.export_downloaded', actorId: auth.userId, subjectType: 'user', subjectId: auth.userId, ip: requestIp(c), data: { export_id: id } });
  const user = await c.var.d1.prepare('SELECT username FROM users WHERE id = ?1').bind(auth.userId).first<{ username: string }>();
  const day = new Date(row.ready_at ?? row.requested_at).toISOString().slice(0, 10);
  return { body: object.body, size: object.size, filename: `kith-${user?.username ?? 'export'}-${day}.zip` };
}

/** The Cron Trigger's sweep: archives (and failed exports) past their time go, object and row. */
export async function pruneExports(env: Pick<Bindings, 'DB' | 'MEDIA'>, now: number): Promise<number> {
  const { results } = await env.DB.prepare('SELECT id, user_id FROM account_exports WHERE expires_at <= ?1 ORDER BY expires_at LIMIT 100').bind(now).all<{ id: string; user_id: string }>();
  if (results.length === 0) return 0;
  await env.MEDIA.delete(results.map((r) => exportObjectKey(r.user_id, r.id)));
  await env.DB.prepare('DELETE FROM account_exports WHERE id IN (SELECT value FROM json_each(?1))').bind(JSON.stringify(results.map((r) => r.id))).run();
  return results.length;
}

/** Deletes every archive of an account (its deletion; the rows go with the account's). */
export async function deleteExportObjects(env: Pick<Bindings, 'MEDIA'>, userId: string): Promise<void> {
  await deleteObjectsUnder(env.MEDIA, exportPrefix(userId));
}
