import { z } from '@hono/zod-openapi';
import { type D1Client, uniqueViolationOf } from '../db/client';
import { sha256Hex } from './crypto';
import { ApiError } from './errors';

/**
 * `Idempotency-Key` on create requests (POST /posts, POST /posts/{id}/comments, POST /conversations), as the IETF draft
 * (draft-ietf-httpapi-idempotency-key-header) and Mastodon's statuses have it: a client that did not
 * get the answer to a create (a dropped connection, a timeout) sends it again with the same key and
 * gets what the first one created, with 200 instead of 201, never a second copy. Keys are per account
 * and route (`scope`), kept {@link IDEMPOTENCY_TTL_MS}; the same key with a different request is 409.
 */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

/** The request header, for a route's `request.headers` (named in lower case: Hono validates headers by their lower-case names). */
export const IdempotencyHeaderSchema = z.object({
  'idempotency-key': z
    .string()
    .min(1)
    .max(255)
    .regex(/^[\x21-\x7e]+$/, 'must be 1 to 255 visible ASCII characters')
    .optional()
    .openapi({
      description:
        'Makes a retry safe: sending the same request again with the same key (1 to 255 visible ASCII characters, e.g. a UUID) within 24 hours returns what the first one created, with 200, instead of creating it twice. The same key with a different request is 409.',
      example: '5f0c2a7e-3b7d-4d0c-9a41-2f6a8e0b1c3d',
    }),
});

/** A create request made with an `Idempotency-Key`: its route's scope, the key, and what it asks (a hash). */
export interface IdempotentCreate {
  scope: string;
  key: string;
  fingerprint: string;
}

/** The create request `request` (its validated input) under `key`, or null without a key. */
export async function idempotentCreate(key: string | undefined, scope: string, request: unknown): Promise<IdempotentCreate | null> {
  if (key === undefined) return null;
  return { scope, key, fingerprint: await sha256Hex(JSON.stringify(request)) };
}

const reused = (detail: string) => new ApiError('conflict', detail, { errors: [{ field: 'Idempotency-Key', message: detail }] });

/**
 * The id of what an earlier request with the same key created (within the last 24 hours), or null when
 * there was none; 409 naming the header when that request asked for something else.
 */
export async function createdBefore(db: D1Client, userId: string, request: IdempotentCreate, now = Date.now()): Promise<string | null> {
  const row = await db
    .prepare('SELECT fingerprint, resource_id FROM idempotency_keys WHERE user_id = ?1 AND scope = ?2 AND key = ?3 AND created_at > ?4')
    .bind(userId, request.scope, request.key, now - IDEMPOTENCY_TTL_MS)
    .first<{ fingerprint: string; resource_id: string }>();
  if (!row) return null;
  if (row.fingerprint !== request.fingerprint) throw reused('This Idempotency-Key was used for a different request: use a new key for a new request.');
  return row.resource_id;
}

/** 409 for a retry whose first request's creation is gone since (deleted). */
export const createdAndGone = (what: string): ApiError => reused(`The request with this Idempotency-Key created a ${what} that has since been deleted.`);

/** What an earlier request created, read for its retry: a 404 reading it (it is gone, or the caller left it) becomes the 409 of {@link createdAndGone}. */
export async function madeBefore<T>(read: Promise<T>, what: string): Promise<T> {
  try {
    return await read;
  } catch (err) {
    if (err instanceof ApiError && err.code === 'not_found') throw createdAndGone(what);
    throw err;
  }
}

/**
 * Records the key with what the request creates, first in the batch that creates it (an expired row of
 * the same key is replaced): a concurrent request with the same key then fails whole on the key's
 * primary key ({@link keyTaken}), and answers what the other one made.
 */
export function recordCreate(db: D1Client, userId: string, request: IdempotentCreate, resourceId: string, now = Date.now()): D1PreparedStatement[] {
  return [
    db.prepare('DELETE FROM idempotency_keys WHERE user_id = ?1 AND scope = ?2 AND key = ?3 AND created_at <= ?4').bind(userId, request.scope, request.key, now - IDEMPOTENCY_TTL_MS),
    db
      .prepare('INSERT INTO idempotency_keys (user_id, scope, key, fingerprint, resource_id, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)')
      .bind(userId, request.scope, request.key, request.fingerprint, resourceId, now),
  ];
}

/** Whether a batch failed because a concurrent request recorded the same key first (see {@link recordCreate}). */
const keyTaken = (err: unknown): boolean => uniqueViolationOf(err)?.table === 'idempotency_keys';

/**
 * Runs `create`, the batch that makes what `retry` asks for (its key recorded first: see recordCreate),
 * and answers `{ done }` with its result; or, when a concurrent request with the same key recorded it
 * first (so this batch created nothing), `{ takenBy }`, the id that request created (409 naming the
 * header should it have asked something else, or its row not be readable yet).
 */
export async function createOrTaken<T>(db: D1Client, userId: string, retry: IdempotentCreate | null, create: () => Promise<T>): Promise<{ done: T } | { takenBy: string }> {
  try {
    return { done: await create() };
  } catch (err) {
    if (!retry || !keyTaken(err)) throw err;
    const id = await createdBefore(db, userId, retry);
    if (id === null) throw reused('A request with this Idempotency-Key is being processed: retry in a moment.');
    return { takenBy: id };
  }
}

/** Deletes the keys older than a day (the minute's Cron Trigger). */
export async function pruneIdempotencyKeys(db: D1Client, now: number): Promise<void> {
  await db.prepare('DELETE FROM idempotency_keys WHERE created_at <= ?1').bind(now - IDEMPOTENCY_TTL_MS).run();
}
