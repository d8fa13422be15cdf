import { eq, inArray, or } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { users, type UserRow } from '../../db/schema';
import type { Context } from 'hono';
import { ApiError, type FieldError } from '../../lib/errors';
import type { AppEnv } from '../../lib/types';
import { isBlockedEither } from '../graph/relations';
import { isAccountVisible } from '../../policy/visibility';
import { ID_PATTERN } from '../../lib/ids';

export async function findUserById(db: Database, id: string): Promise<UserRow | undefined> {
  return db.select().from(users).where(eq(users.id, id)).get();
}

/** Looks a user up by id or (case-insensitively) by username. */
export async function findUserByRef(db: Database, ref: string): Promise<UserRow | undefined> {
  if (ID_PATTERN.test(ref)) return findUserById(db, ref);
  return db.select().from(users).where(eq(users.username, ref.toLowerCase())).get();
}

/**
 * A user the viewer may see, by id or username: 404 when there is none, when it is suspended, or when
 * a block stands between them (a blocked or suspended profile looks exactly like a missing one).
 */
export async function findVisibleUser(c: Context<AppEnv>, ref: string): Promise<UserRow> {
  const user = await findUserByRef(c.get('db'), ref);
  const viewer = c.get('auth')?.userId;
  if (!user || (viewer !== user.id && !isAccountVisible(user)) || (viewer && viewer !== user.id && (await isBlockedEither(c.var.d1, viewer, user.id)))) {
    throw new ApiError('not_found', 'No such user.');
  }
  return user;
}

/** `login` is an email when it contains "@", otherwise a username. */
export async function findUserByLogin(db: Database, login: string): Promise<UserRow | undefined> {
  const value = login.trim().toLowerCase();
  const column = value.includes('@') ? users.email : users.username;
  return db.select().from(users).where(eq(column, value)).get();
}

/** The current user, or 401 if the account is gone (its token outlived it). */
export async function requireUserRow(db: Database, id: string): Promise<UserRow> {
  const row = await findUserById(db, id);
  if (!row) throw new ApiError('unauthorized', 'The account no longer exists.');
  return row;
}

/** 409 naming each taken field, checked before writing; the unique indexes still catch races. */
export async function assertAvailable(db: Database, wanted: { email?: string; username?: string }, exceptUserId?: string): Promise<void> {
  const conditions = [
    wanted.email ? eq(users.email, wanted.email) : undefined,
    wanted.username ? eq(users.username, wanted.username) : undefined,
  ].filter((x) => x !== undefined);
  if (conditions.length === 0) return;
  const rows = await db
    .select({ id: users.id, email: users.email, username: users.username })
    .from(users)
    .where(or(...conditions))
    .all();
  const errors: FieldError[] = [];
  for (const row of rows) {
    if (row.id === exceptUserId) continue;
    if (wanted.email && row.email === wanted.email) errors.push({ field: 'email', message: 'is already registered' });
    if (wanted.username && row.username === wanted.username) errors.push({ field: 'username', message: 'is already taken' });
  }
  if (errors.length > 0) throw conflict(errors);
}

export function conflict(errors: FieldError[]): ApiError {
  return new ApiError('conflict', errors.map((e) => `${e.field} ${e.message}`).join('; '), { errors });
}

/** Loads users by id in chunks (D1 binds at most 100 parameters), keyed by id. */
export async function loadUsersByIds(db: Database, ids: Iterable<string>): Promise<Map<string, UserRow>> {
  const unique = [...new Set(ids)];
  const found = new Map<string, UserRow>();
  for (let i = 0; i < unique.length; i += 90) {
    const rows = await db.select().from(users).where(inArray(users.id, unique.slice(i, i + 90))).all();
    for (const row of rows) found.set(row.id, row);
  }
  return found;
}
