import { ApiError } from '../../lib/errors';
import type { AppRouteHandler } from '../../lib/types';
import { findUserById } from '../users/users.service';
import { mailAfterAnswer, mailDeps } from '../mail/mail-requests';
import { pendingEmail, sendEmailLink, verifyEmailToken } from './email.service';
import type * as routes from './email.routes';

export const verifyEmail: AppRouteHandler<typeof routes.verifyEmail> = async (c) => {
  await verifyEmailToken(c, c.req.valid('json').token);
  return c.body(null, 204);
};

export const resendEmail: AppRouteHandler<typeof routes.resendEmail> = async (c) => {
  const auth = c.get('auth');
  const { email } = c.req.valid('json');
  if (auth) {
    const user = await findUserById(c.get('db'), auth.userId);
    if (user) {
      const pending = await pendingEmail(c.var.d1, user.id, user.email);
      if (pending) await sendEmailLink(mailDeps(c), user.id, pending, 'change');
      else if (user.emailVerifiedAt === null) await sendEmailLink(mailDeps(c), user.id, user.email, 'verify');
    }
  } else if (email) {
    // Looked up and mailed after the answer, so its time says nothing of whether the address has an account.
    mailAfterAnswer(c, 'email_verification', email);
  } else {
    throw ApiError.field('email', 'is required without a bearer token');
  }
  return c.json({ status: 'accepted' as const, detail: 'If there is an address to verify, a link is on its way.' }, 202);
};
