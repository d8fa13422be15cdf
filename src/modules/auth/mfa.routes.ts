import { createRoute, z } from '@hono/zod-openapi';
import { requireAuth } from '../../middleware/auth';
import { limitByIp } from '../../middleware/rate-limit';
import { accountSuspended, bearerSecurity, commonErrors, errors, jsonBody, jsonContent, problem } from '../../lib/openapi';
import { isRecoveryCode, TOTP_PATTERN } from './mfa.service';
import { TokenResponseSchema } from './auth.schemas';

const authed = { security: bearerSecurity, middleware: [requireAuth] };
const SECRET_EXAMPLE = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';

const totpCode = z.string().trim().regex(TOTP_PATTERN, 'must be a 6-digit code').openapi({ example: '492039', pattern: '^\\s*\\d{6}\\s*$' });
const anyCode = z
  .string()
  .trim()
  .max(32)
  .refine((code) => TOTP_PATTERN.test(code) || isRecoveryCode(code), 'must be a 6-digit code or a recovery code')
  .openapi({ example: '492039', description: 'A 6-digit TOTP code, or an unused recovery code (`k7qm2-x4fzp`; case, spaces and hyphen ignored)' });

/** A wrong (or already used) code: 401, problem type ending `/invalid-code`, naming `code`. */
const invalidCode = { 401: problem('invalid_code', 'The code is wrong or already used (type …/invalid-code); counts towards the login limit') };

export const TotpEnrolmentSchema = z
  .object({
    secret: z.string().openapi({ description: 'The shared secret, base32 (for typing into an authenticator app)' }),
    otpauth_url: z.string().openapi({ description: 'The same as an `otpauth://totp/…` URL (for a QR code): SHA-1, 6 digits, 30 s' }),
  })
  .openapi('TotpEnrolment', {
    example: { secret: SECRET_EXAMPLE, otpauth_url: `otpauth://totp/Kith:ada_l?issuer=Kith&algorithm=SHA1&secret=${SECRET_EXAMPLE}&period=30&digits=6` },
  });

export const RecoveryCodesSchema = z
  .object({ recovery_codes: z.array(z.string()).length(10) })
  .openapi('RecoveryCodes', {
    example: { recovery_codes: ['k7qm2-x4fzp', 'a2b3c-d4e5f', 'g6h7i-j2k3l', 'm4n5o-p6q7r', 's2t3u-v4w5x', 'y6z7a-b2c3d', 'e4f5g-h6i7j', 'k2l3m-n4o5p', 'q6r7s-t2u3v', 'w4x5y-z6a7b'] },
  });

export const MfaStatusSchema = z
  .object({ totp_enabled: z.boolean(), recovery_codes_left: z.number().int() })
  .openapi('MfaStatus', { example: { totp_enabled: true, recovery_codes_left: 9 } });

export const MfaLoginSchema = z
  .object({ mfa_token: z.string().min(1).max(512).openapi({ example: 'bWZhLXN0ZXAtdG9rZW4tZXhhbXBsZS0wMTIzNDU2Nzg5' }), code: anyCode })
  .openapi('MfaLogin', { example: { mfa_token: 'bWZhLXN0ZXAtdG9rZW4tZXhhbXBsZS0wMTIzNDU2Nzg5', code: '492039' } });

export const getMfa = createRoute({
  method: 'get',
  path: '/me/mfa',
  tags: ['Me'],
  summary: 'Your two-factor sign-in status',
  ...authed,
  responses: { 200: jsonContent(MfaStatusSchema, 'Status'), ...commonErrors, ...errors[401] },
});

export const startTotp = createRoute({
  method: 'post',
  path: '/me/mfa/totp',
  tags: ['Me'],
  summary: 'Start TOTP enrolment',
  description:
    'Answers a fresh secret and its `otpauth://` URL; nothing changes at sign-in until POST /me/mfa/totp/confirm. Starting again replaces an unconfirmed secret. 409 when TOTP is already on; 403 while your e-mail address is unverified, or (`/recent-sign-in-required`) when this session signed in more than 15 minutes ago (refreshing does not count: sign in again). Secrets are stored encrypted (MFA_ENCRYPTION_KEY; 503 without it).',
  ...authed,
  responses: { 200: jsonContent(TotpEnrolmentSchema, 'The secret'), ...commonErrors, ...errors[401], ...errors[403], ...errors[409], ...errors[503] },
});

export const confirmTotp = createRoute({
  method: 'post',
  path: '/me/mfa/totp/confirm',
  tags: ['Me'],
  summary: 'Turn TOTP on with a first code',
  description:
    'A current code from the authenticator turns TOTP on and answers 10 single-use recovery codes (shown only now; stored hashed). Every other session of the account is signed out, as on a password change (their refresh tokens and access tokens stop working, their open sockets close with 4401); this one stays. A malformed code is 400 naming `code`, a wrong one 401 (counted towards the login limit). Recorded as `auth.mfa_enabled` (with the `session_id` kept).',
  ...authed,
  request: { body: jsonBody(z.object({ code: totpCode }).openapi('TotpConfirm', { example: { code: '492039' } })) },
  responses: { 200: jsonContent(RecoveryCodesSchema, 'TOTP is on'), ...commonErrors, ...invalidCode, ...errors[409], ...errors[503] },
});

export const disableTotp = createRoute({
  method: 'delete',
  path: '/me/mfa/totp',
  tags: ['Me'],
  summary: 'Turn TOTP off',
  description:
    'Needs the password (403 naming `password` when wrong, counted as a failed login) and a current code or a recovery code (400 malformed, 401 wrong, counted towards the login limit). Deletes the secret and the recovery codes. Recorded as `auth.mfa_disabled`.',
  ...authed,
  request: {
    body: jsonBody(
      z.object({ password: z.string().min(1, 'is required').max(256), code: anyCode }).openapi('TotpDisable', { example: { password: 'correct horse battery staple', code: '492039' } }),
    ),
  },
  responses: { 204: { description: 'TOTP is off' }, ...commonErrors, ...invalidCode, ...errors[403], ...errors[503] },
});

export const loginMfa = createRoute({
  method: 'post',
  path: '/auth/login/mfa',
  tags: ['Auth'],
  summary: 'Complete a sign-in with a second factor',
  description:
    'After POST /auth/login (or the OAuth exchange) answered 401 `/mfa-required` with an `mfa_token`: send it (valid 5 minutes, single use) with a TOTP code or an unused recovery code. 400 naming `code` when malformed, or `mfa_token` when it is unknown, expired or used; 401 `/invalid-code` when the code is wrong or was already used (retry with the same `mfa_token`; wrong codes count towards the account\'s 10 failed logins per 15 minutes, 429 past it). Limited per client address.',
  middleware: [limitByIp('RL_LOGIN')],
  request: { body: jsonBody(MfaLoginSchema) },
  responses: { 200: jsonContent(TokenResponseSchema, 'Signed in'), ...commonErrors, ...invalidCode, ...accountSuspended, ...errors[503] },
});
