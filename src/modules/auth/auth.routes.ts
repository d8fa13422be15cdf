import { createRoute } from '@hono/zod-openapi';
import { requireAuth } from '../../middleware/auth';
import { limitByIp } from '../../middleware/rate-limit';
import { accountSuspended, bearerSecurity, commonErrors, errors, jsonBody, jsonContent } from '../../lib/openapi';
import {
  AcceptedSchema,
  ChangePasswordSchema,
  ForgotPasswordSchema,
  LoginSchema,
  RefreshSchema,
  RegisterSchema,
  ResetPasswordSchema,
  TokenResponseSchema,
  credentialsOrMfa,
} from './auth.schemas';

const tags = ['Auth'];

export const register = createRoute({
  method: 'post',
  path: '/auth/register',
  tags,
  summary: 'Create an account',
  description: 'Creates an account and signs it in. Email and username are case-insensitively unique (409 names the taken field). `display_name` passes the keyword rules (422). Limited per client address. Recorded in the audit log (`auth.register`).',
  middleware: [limitByIp('RL_REGISTER')],
  request: { body: jsonBody(RegisterSchema) },
  responses: {
    201: jsonContent(TokenResponseSchema, 'The new account (me shape) and its first token pair'),
    ...commonErrors,
    ...errors[409],
    ...errors[422],
    ...errors[503],
  },
});

export const login = createRoute({
  method: 'post',
  path: '/auth/login',
  tags,
  summary: 'Log in by email or username',
  description:
    'Answers the same 401 whether the account exists or the password is wrong. Failed logins are limited to 10 per account per 15 minutes, and all logins per client address. A suspended account (right password) gets 403 with a problem `type` ending `/account-suspended`. An account with two-factor sign-in gets 401 with `type` ending `/mfa-required` and an `mfa_token` for POST /auth/login/mfa. Logins and failed logins are recorded (`auth.login`, `auth.login_failed`; see GET /me/security_events).',
  middleware: [limitByIp('RL_LOGIN')],
  request: { body: jsonBody(LoginSchema) },
  responses: {
    200: jsonContent(TokenResponseSchema, 'A new token pair'),
    ...commonErrors,
    ...credentialsOrMfa('Bad credentials, or (type …/mfa-required, with `mfa_token`) a second factor is needed'),
    ...accountSuspended,
    ...errors[503],
  },
});

export const refresh = createRoute({
  method: 'post',
  path: '/auth/refresh',
  tags,
  summary: 'Rotate a refresh token',
  description:
    'Refresh tokens are single use: each refresh returns a new pair. Presenting a token that was already rotated revokes its whole family (every token of that login; its open sockets close with 4401) and answers 401 (recorded as `auth.refresh_reuse`). A suspended account gets 403 (`/account-suspended`).',
  middleware: [limitByIp('RL_LOGIN')],
  request: { body: jsonBody(RefreshSchema) },
  responses: {
    200: jsonContent(TokenResponseSchema, 'A new token pair'),
    ...commonErrors,
    ...errors[401],
    ...accountSuspended,
    ...errors[503],
  },
});

export const logout = createRoute({
  method: 'post',
  path: '/auth/logout',
  tags,
  summary: 'Log out',
  description: 'Revokes the session the refresh token belongs to; its access tokens stop working at once and its open sockets close with 4401. Idempotent.',
  request: { body: jsonBody(RefreshSchema) },
  responses: { 204: { description: 'Logged out' }, ...commonErrors },
});

export const forgotPassword = createRoute({
  method: 'post',
  path: '/auth/password/forgot',
  tags,
  summary: 'Ask for a password-reset mail',
  description: 'Always 202, whether or not the address has an account, with the same answer in content and in time: the address is looked up and the mail made after the answer is sent. A reset link (valid 1 hour, single use) is mailed; at most 3 per account, and 3 to one address, per hour.',
  middleware: [limitByIp('RL_PASSWORD')],
  request: { body: jsonBody(ForgotPasswordSchema) },
  responses: { 202: jsonContent(AcceptedSchema, 'Accepted'), ...commonErrors },
});

export const resetPassword = createRoute({
  method: 'post',
  path: '/auth/password/reset',
  tags,
  summary: 'Set a new password with a reset token',
  description: 'Consumes the token and revokes every session (all refresh tokens) of the account; their open sockets close with 4401. Other reset links, a pending e-mail change (PATCH /me `email`) and second sign-in steps under way (`mfa_token`s) are cancelled too. The account\'s address is told (mail kind `password_changed`).',
  middleware: [limitByIp('RL_PASSWORD')],
  request: { body: jsonBody(ResetPasswordSchema) },
  responses: { 204: { description: 'Password changed' }, ...commonErrors, ...errors[503] },
});

export const changePassword = createRoute({
  method: 'post',
  path: '/auth/password/change',
  tags,
  summary: 'Change the password',
  description: 'Needs the current password (403 otherwise; a wrong one counts as a failed login of the account, so past 10 in 15 minutes the answer is 429 even for the right one). Other sessions are revoked (their open sockets close with 4401); this one stays. Reset links, a pending e-mail change (PATCH /me `email`) and second sign-in steps under way (`mfa_token`s) are cancelled. The account\'s address is told (mail kind `password_changed`).',
  security: bearerSecurity,
  middleware: [requireAuth],
  request: { body: jsonBody(ChangePasswordSchema) },
  responses: { 204: { description: 'Password changed' }, ...commonErrors, ...errors[401], ...errors[403], ...errors[503] },
});
