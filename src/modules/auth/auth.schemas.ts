import { z } from '@hono/zod-openapi';
import { problemType } from '../../lib/errors';
import { EXAMPLE_ORIGIN, problem, ProblemSchema } from '../../lib/openapi';
import { DisplayNameSchema, EmailSchema, MeSchema, meExample, PasswordSchema, UsernameSchema } from '../users/users.schemas';

const token = (example: string) => z.string().min(1).max(512).openapi({ example });
const REFRESH_EXAMPLE = 'pB4x2Yw9vS0QmK7tN1cJ8eR5uA3hL6zD0fG2iO4kM7q';

export const RegisterSchema = z
  .object({
    email: EmailSchema,
    username: UsernameSchema,
    password: PasswordSchema,
    display_name: DisplayNameSchema.optional(),
  })
  .openapi('Register', {
    example: { email: 'ada@example.com', username: 'ada_l', password: 'correct horse battery staple', display_name: 'Ada Lovelace' },
  });

export const LoginSchema = z
  .object({
    login: z.string().trim().min(1, 'is required').max(254).openapi({ example: 'ada_l' }),
    password: z.string().min(1, 'is required').max(256),
  })
  .openapi('Login', { example: { login: 'ada@example.com', password: 'correct horse battery staple' } });

export const RefreshSchema = z.object({ refresh_token: token(REFRESH_EXAMPLE) }).openapi('RefreshRequest', {
  example: { refresh_token: REFRESH_EXAMPLE },
});

export const ForgotPasswordSchema = z.object({ email: EmailSchema }).openapi('ForgotPassword', { example: { email: 'ada@example.com' } });

export const ResetPasswordSchema = z
  .object({ token: token('Qm9vdHN0cmFwLXJlc2V0LXRva2VuLWV4YW1wbGUtMTIzNA'), password: PasswordSchema })
  .openapi('ResetPassword', { example: { token: 'Qm9vdHN0cmFwLXJlc2V0LXRva2VuLWV4YW1wbGUtMTIzNA', password: 'a new long passphrase' } });

export const ChangePasswordSchema = z
  .object({ current_password: z.string().min(1, 'is required').max(256), new_password: PasswordSchema })
  .openapi('ChangePassword', { example: { current_password: 'correct horse battery staple', new_password: 'a new long passphrase' } });

export const TokenResponseSchema = z
  .object({
    user: MeSchema,
    access_token: z.string(),
    refresh_token: z.string(),
    token_type: z.literal('Bearer'),
    expires_in: z.number().int(),
  })
  .openapi('TokenResponse', {
    example: {
      user: meExample,
      access_token: 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzaWQiOiIwMUpDNloiLCJ0eXAiOiJhY2Nlc3MifQ.sig',
      refresh_token: REFRESH_EXAMPLE,
      token_type: 'Bearer',
      expires_in: 900,
    },
  });

export const AcceptedSchema = z
  .object({ status: z.literal('accepted'), detail: z.string() })
  .openapi('Accepted', {
    example: { status: 'accepted', detail: 'If an account uses this address, a reset link is on its way.' },
  });

export type TokenResponse = z.infer<typeof TokenResponseSchema>;

/** 401 at login for an account with a second factor: a problem with type ending `/mfa-required` and the step token. */
const mfaRequiredExample = {
  type: problemType('mfa_required', EXAMPLE_ORIGIN),
  title: 'Second factor required',
  status: 401,
  detail: 'This account uses two-factor sign-in: send a code with the mfa_token to POST /api/v1/auth/login/mfa within 5 minutes.',
  request_id: '3f1c2a9e-5b7d-4e8f-9a0b-1c2d3e4f5a6b',
  mfa_token: 'bWZhLXN0ZXAtdG9rZW4tZXhhbXBsZS0wMTIzNDU2Nzg5',
};

export const MfaRequiredProblemSchema = ProblemSchema.extend({
  mfa_token: z.string().openapi({ description: 'Send it with a code to POST /auth/login/mfa within 5 minutes (single use)' }),
}).openapi('MfaRequiredProblem', { example: mfaRequiredExample });

/** A 401 that is either a plain problem (bad credentials) or `/mfa-required` with its `mfa_token`. */
export const credentialsOrMfa = (description: string) => ({
  401: {
    description,
    content: {
      'application/problem+json': {
        schema: z.union([ProblemSchema, MfaRequiredProblemSchema]),
        examples: {
          mfa_required: { summary: 'A second factor is needed', value: mfaRequiredExample },
          unauthorized: { summary: 'Bad credentials', value: problem('unauthorized', description).content['application/problem+json'].example },
        },
      },
    },
  },
});
