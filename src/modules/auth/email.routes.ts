import { createRoute, z } from '@hono/zod-openapi';
import { optionalAuth } from '../../middleware/auth';
import { limitByIp } from '../../middleware/rate-limit';
import { bearerSecurity, commonErrors, errors, jsonBody, jsonContent } from '../../lib/openapi';
import { EmailSchema } from '../users/users.schemas';
import { AcceptedSchema } from './auth.schemas';

const tags = ['Auth'];
const TOKEN_EXAMPLE = 'c2lnbi11cC12ZXJpZmljYXRpb24tdG9rZW4tZXhhbXBsZQ';

export const VerifyEmailSchema = z
  .object({ token: z.string().min(1).max(512).openapi({ example: TOKEN_EXAMPLE }) })
  .openapi('VerifyEmail', { example: { token: TOKEN_EXAMPLE } });

export const ResendEmailSchema = z
  .object({ email: EmailSchema.optional().openapi({ description: 'Without a bearer token: the unverified address of an account.' }) })
  .openapi('ResendEmail', { example: { email: 'ada@example.com' } });

export const verifyEmail = createRoute({
  method: 'post',
  path: '/auth/email/verify',
  tags,
  summary: 'Confirm an e-mail address with the token from its link',
  description:
    'The token comes from a mail (`token=` in its link, valid 24 hours, single use): registration and POST /auth/email/resend mail `email_verification` links, which make `email_verified` true; PATCH /me with `email` mails an `email_change` link to the new address, which makes it the account\'s (verified) address and tells the old one. 400 naming `token` when it is unknown, expired or used; 409 when the new address was taken meanwhile. Recorded as `auth.email_verified`. Limited per client address.',
  middleware: [limitByIp('RL_EMAIL')],
  request: { body: jsonBody(VerifyEmailSchema) },
  responses: { 204: { description: 'Verified' }, ...commonErrors, ...errors[409] },
});

export const resendEmail = createRoute({
  method: 'post',
  path: '/auth/email/resend',
  tags,
  summary: 'Send the verification link again',
  description:
    'Always 202. With a bearer token: mails the caller\'s pending new address its `email_change` link again, or else (when `email_verified` is false) the account\'s address its `email_verification` link. Without one: `email` names the address; an account whose address it is and is unverified is mailed a link (the answer never tells whether one exists, in content or in time: the address is looked up and the mail made after the answer is sent). At most 3 mails per account an hour, and 3 of a kind to one address an hour whichever accounts ask; limited per client address too.',
  security: [{}, ...bearerSecurity],
  middleware: [limitByIp('RL_EMAIL'), optionalAuth],
  request: { body: jsonBody(ResendEmailSchema) },
  responses: { 202: jsonContent(AcceptedSchema, 'Accepted'), ...commonErrors, ...errors[401] },
});
