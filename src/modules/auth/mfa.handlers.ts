import { ApiError } from '../../lib/errors';
import type { AppRouteHandler } from '../../lib/types';
import { currentUser } from '../../middleware/auth';
import { findUserById, requireUserRow } from '../users/users.service';
import { assertNotSuspended, confirmPassword, startSession } from './auth.service';
import { completeMfa, confirmEnrolment, disableTotp, mfaStatus, startEnrolment } from './mfa.service';
import { assertRecentSignIn } from './sessions.service';
import type * as routes from './mfa.routes';

export const getMfa: AppRouteHandler<typeof routes.getMfa> = async (c) => c.json(await mfaStatus(c.var.d1, currentUser(c).userId), 200);

export const startTotp: AppRouteHandler<typeof routes.startTotp> = async (c) => {
  const auth = currentUser(c);
  await assertRecentSignIn(c.var.d1, auth.sessionId, 'turn on two-factor sign-in');
  const user = await requireUserRow(c.get('db'), auth.userId);
  return c.json(await startEnrolment(c, user), 200);
};

export const confirmTotp: AppRouteHandler<typeof routes.confirmTotp> = async (c) => {
  const auth = currentUser(c);
  const codes = await confirmEnrolment(c, auth.userId, auth.sessionId, c.req.valid('json').code);
  return c.json({ recovery_codes: codes }, 200);
};

export const disableTotpHandler: AppRouteHandler<typeof routes.disableTotp> = async (c) => {
  const { password, code } = c.req.valid('json');
  const user = await requireUserRow(c.get('db'), currentUser(c).userId);
  await confirmPassword(c, user, password, 'password');
  await disableTotp(c, user.id, code);
  return c.body(null, 204);
};

export const loginMfa: AppRouteHandler<typeof routes.loginMfa> = async (c) => {
  const { mfa_token, code } = c.req.valid('json');
  const done = await completeMfa(c, mfa_token, code);
  const user = await findUserById(c.get('db'), done.userId);
  if (!user) throw ApiError.field('mfa_token', 'is invalid, expired or already used; sign in again');
  assertNotSuspended(user);
  return c.json(await startSession(c, user, { method: done.method, mfa: done.mfa }), 200);
};
