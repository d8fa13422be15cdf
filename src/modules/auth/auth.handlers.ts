import { toStatement, uniqueViolation } from '../../db/client';
import { users } from '../../db/schema';
import { ApiError } from '../../lib/errors';
import { burnPasswordCheck, hashPassword, verifyPassword } from '../../lib/crypto';
import { newId } from '../../lib/ids';
import type { AppRouteHandler } from '../../lib/types';
import { mailAfterAnswer, mailDeps } from '../mail/mail-requests';
import { currentUser } from '../../middleware/auth';
import { assertAvailable, conflict, findUserById, findUserByLogin, requireUserRow } from '../users/users.service';
import { eq } from 'drizzle-orm';
import * as service from './auth.service';
import { sendEmailLink } from './email.service';
import { hasMfa, mfaRequired } from './mfa.service';
import { audit, requestIp } from '../audit/audit';
import { screenText } from '../../policy/content-rules';
import { accountLoginKey, clearLoginFailures, recordLoginFailure, returnLoginAttempt, takeLoginAttempt, unknownLoginKey } from './login-throttle';
import type * as routes from './auth.routes';

export const register: AppRouteHandler<typeof routes.register> = async (c) => {
  const body = c.req.valid('json');
  const db = c.get('db');
  await assertAvailable(db, { email: body.email, username: body.username });
  await screenText(c, [{ field: 'display_name', text: body.display_name }], 'profile');

  const id = newId();
  const now = new Date();
  const insertUser = db.insert(users).values({
    id,
    email: body.email,
    username: body.username,
    displayName: body.display_name ?? body.username,
    passwordHash: await hashPassword(body.password),
    createdAt: now,
    updatedAt: now,
  });
  const session = await service.newSessionStatements(c, id);
  try {
    await audit(c.var.d1, { action: 'auth.register', actorId: id, subjectType: 'user', subjectId: id, ip: requestIp(c), data: { session_id: session.sessionId } }, [
      toStatement(c.var.d1, insertUser),
      ...session.statements,
    ]);
  } catch (err) {
    const column = uniqueViolation(err);
    if (column === 'email') throw conflict([{ field: 'email', message: 'is already registered' }]);
    if (column === 'username') throw conflict([{ field: 'username', message: 'is already taken' }]);
    throw err;
  }
  // The account exists whatever happens to the mail; a failed one can be asked for again (POST /auth/email/resend).
  await sendEmailLink(mailDeps(c), id, body.email, 'verify').catch((err: unknown) =>
    console.error(JSON.stringify({ level: 'error', message: 'verification mail failed', user_id: id, error: String((err as Error)?.message ?? err) })),
  );
  const user = await requireUserRow(db, id);
  return c.json(await service.tokenResponse(c, user, session.sessionId, session.refreshToken), 201);
};

const BAD_CREDENTIALS = 'The login or password is incorrect.';

export const login: AppRouteHandler<typeof routes.login> = async (c) => {
  const { login: identifier, password } = c.req.valid('json');
  const db = c.get('db');
  const user = await findUserByLogin(db, identifier);
  const throttleKey = user ? accountLoginKey(user.id) : await unknownLoginKey(c.env, identifier);
  const attempt = await takeLoginAttempt(c.var.d1, throttleKey);

  // The attempt is already counted; the identifier tried is not kept (it may be a mistyped password).
  const failed = async (reason: 'unknown_account' | 'wrong_password') => {
    await recordLoginFailure(c, user?.id ?? null, reason);
    return new ApiError('unauthorized', BAD_CREDENTIALS);
  };
  if (!user) {
    await burnPasswordCheck(password);
    throw await failed('unknown_account');
  }
  const check = await verifyPassword(password, user.passwordHash);
  if (!check.ok) throw await failed('wrong_password');
  // With a second factor, the failure count stays until the code is right too: a known password must
  // not reset the limit on guessing codes (its own attempt is given back).
  const mfa = await hasMfa(c.var.d1, user.id);
  if (mfa || user.suspendedAt !== null) await returnLoginAttempt(c.var.d1, throttleKey, attempt);
  // Only a caller who knows the password learns that the account is suspended.
  service.assertNotSuspended(user);
  if (check.needsRehash) {
    await db.update(users).set({ passwordHash: await hashPassword(password) }).where(eq(users.id, user.id));
  }
  if (mfa) throw await mfaRequired(c.var.d1, user.id, 'password');
  await clearLoginFailures(c.var.d1, throttleKey);
  return c.json(await service.startSession(c, user, { method: 'password' }), 200);
};

export const refresh: AppRouteHandler<typeof routes.refresh> = async (c) => {
  const { refresh_token } = c.req.valid('json');
  const rotated = await service.rotateRefreshToken(c, refresh_token);
  const user = await findUserById(c.get('db'), rotated.userId);
  if (!user) throw new ApiError('unauthorized', 'The account no longer exists.');
  service.assertNotSuspended(user);
  return c.json(await service.tokenResponse(c, user, rotated.sessionId, rotated.refreshToken), 200);
};

export const logout: AppRouteHandler<typeof routes.logout> = async (c) => {
  await service.revokeByRefreshToken(c, c.req.valid('json').refresh_token);
  return c.body(null, 204);
};

export const forgotPassword: AppRouteHandler<typeof routes.forgotPassword> = async (c) => {
  const { email } = c.req.valid('json');
  // Looked up and mailed after the answer, so its time says nothing of whether the address has an account.
  mailAfterAnswer(c, 'password_reset', email);
  return c.json({ status: 'accepted' as const, detail: 'If an account uses this address, a reset link is on its way.' }, 202);
};

export const resetPassword: AppRouteHandler<typeof routes.resetPassword> = async (c) => {
  const { token, password } = c.req.valid('json');
  await service.resetPassword(c, token, password);
  return c.body(null, 204);
};

export const changePassword: AppRouteHandler<typeof routes.changePassword> = async (c) => {
  const { current_password, new_password } = c.req.valid('json');
  const auth = currentUser(c);
  const user = await requireUserRow(c.get('db'), auth.userId);
  await service.confirmPassword(c, user, current_password, 'current_password');
  await service.changePassword(c, user.id, auth.sessionId, new_password);
  return c.body(null, 204);
};
