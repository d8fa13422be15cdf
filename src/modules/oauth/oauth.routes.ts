import { createRoute, z } from '@hono/zod-openapi';
import { optionalAuth, requireAuth } from '../../middleware/auth';
import { limitByIp } from '../../middleware/rate-limit';
import { accountSuspended, bearerSecurity, commonErrors, errors, EXAMPLE_ID, idParam, jsonBody, jsonContent, problem } from '../../lib/openapi';
import { credentialsOrMfa, TokenResponseSchema } from '../auth/auth.schemas';
import { meExample } from '../users/users.schemas';
import { PROVIDER_IDS } from './providers';

const tags = ['Sign-in with a provider'];

const providerParam = z.object({
  provider: z.string().max(32).openapi({ param: { name: 'provider', in: 'path' }, example: 'github', description: `One of ${PROVIDER_IDS.join(', ')}` }),
});

const redirect = (description: string, example: string) => ({
  description,
  headers: z.object({
    Location: z.string().openapi({ description: 'Where the browser goes next', example }),
    'Cache-Control': z.string().openapi({ example: 'no-store' }),
  }),
});

const notFound = { 404: problem('not_found', 'No such provider, or it is not configured on this server (the detail says which)') };

export const ProviderSchema = z.object({ id: z.enum(PROVIDER_IDS), name: z.string() }).openapi('OAuthProvider', { example: { id: 'github', name: 'GitHub' } });

export const listProviders = createRoute({
  method: 'get',
  path: '/auth/oauth/providers',
  tags,
  summary: 'The sign-in providers this server offers',
  description: 'Each configured provider: `google`, `apple`, `github`, and `oidc` (any OpenID Connect issuer, named by OIDC_NAME).',
  responses: {
    200: jsonContent(z.array(ProviderSchema).openapi({ example: [{ id: 'google', name: 'Google' }, { id: 'oidc', name: 'Acme SSO' }] }), 'The providers'),
    ...commonErrors,
  },
});

/** RFC 7636 appendix B's verifier and its S256 challenge. */
const VERIFIER_EXAMPLE = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
const CHALLENGE_EXAMPLE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';

export const authorize = createRoute({
  method: 'get',
  path: '/auth/oauth/{provider}/authorize',
  tags,
  summary: 'Start a sign-in (or link) with a provider',
  description:
    'Answers 302 to the provider with `state` and a PKCE S256 challenge (OIDC providers also get a `nonce`); state, verifier, nonce and `redirect_uri` stay on the server for 10 minutes, single use. `redirect_uri` (where the app wants the browser back) must be on an origin of APP_URL or CORS_ORIGINS, else 400. With a bearer token the flow links a provider to the caller\'s account instead of signing in: it ends in a link code (`?code=`), which the same account redeems at POST /me/identities (the account\'s address must be verified, 403 otherwise; and the session must have signed in within the last 15 minutes, 403 `/recent-sign-in-required` otherwise: refreshing does not count, so a stolen token cannot add a way in). `format=json` answers 200 `{ authorization_url }` instead of the redirect, for apps that start the flow with fetch (a browser cannot read a cross-origin redirect). `code_challenge` with `code_challenge_method=S256` (the app\'s own PKCE, recommended for every client) binds the one-time code to this app: POST /auth/oauth/exchange must then present the `code_verifier`. 400 naming `code_challenge` or `code_challenge_method` when either is malformed, or one comes without the other. 404 for an unknown or unconfigured provider; 503 when the provider cannot be reached. Limited per client address.',
  security: [{}, ...bearerSecurity],
  middleware: [limitByIp('RL_OAUTH'), optionalAuth],
  request: {
    params: providerParam,
    query: z.object({
      redirect_uri: z.string().min(1, 'is required').max(2000).openapi({ example: 'http://localhost:3000/auth/done' }),
      format: z.enum(['redirect', 'json']).optional().openapi({ example: 'redirect' }),
      code_challenge: z
        .string()
        .regex(/^[A-Za-z0-9_-]{43}$/, 'must be the base64url SHA-256 of your code_verifier, without padding (43 characters of A-Z a-z 0-9 - _)')
        .optional()
        .openapi({
          example: CHALLENGE_EXAMPLE,
          description:
            "The app's own PKCE challenge (RFC 7636) for Kith's one-time code: `BASE64URL(SHA-256(code_verifier))`. The code this flow ends with can then only be redeemed with that `code_verifier`, which never leaves the app: another person's code landed in this browser (login CSRF) cannot sign it in. Recommended for every client; requires `code_challenge_method=S256`.",
        }),
      code_challenge_method: z
        .enum(['S256'], { error: 'must be S256 (plain is not accepted)' })
        .optional()
        .openapi({ example: 'S256', description: 'Only `S256`; required with `code_challenge` (RFC 7636 would read its absence as `plain`).' }),
    }),
  },
  responses: {
    302: redirect('To the provider', 'https://github.com/login/oauth/authorize?response_type=code&client_id=…&state=…&code_challenge=…&code_challenge_method=S256'),
    200: jsonContent(
      z.object({ authorization_url: z.string() }).openapi('OAuthAuthorization', { example: { authorization_url: 'https://accounts.google.com/o/oauth2/v2/auth?response_type=code&…' } }),
      'The provider URL (format=json)',
    ),
    ...commonErrors,
    ...errors[401],
    ...errors[403],
    ...notFound,
    503: problem('service_unavailable', 'The provider cannot be reached, or authentication is not configured'),
  },
});

const callbackDescription =
  'The provider sends the browser here. The `state` must be live and unused (10 minutes, taken once), else 302 to the app with `error=invalid_state` (to the redirect_uri the state named, or APP_URL). A provider error (`error=access_denied`, …) is passed on as `error`. Otherwise the code is exchanged (with the PKCE verifier) and the identity verified (OIDC: the id_token\'s signature against the issuer\'s keys, issuer, audience, expiry and nonce; GitHub: /user and the primary verified address of /user/emails), and the browser goes to `redirect_uri?code=<one-time code>` (redeem it at POST /auth/oauth/exchange; for a flow started with a bearer token it is a link code, redeemed by that account at POST /me/identities: nothing is linked before, so a link flow someone else\'s browser finishes links nothing), or `?error=` one of `invalid_state`, `access_denied` (or another provider error), `token_exchange_failed`, `invalid_id_token`, `profile_unavailable`, `provider_unavailable`, `email_unverified` (the provider verified no address). Never a token in a URL.';

/** What providers send back (others they add, such as Google's `scope` or Keycloak's `session_state`, are ignored). */
const CallbackQuery = z.object({
  state: z.string().max(512).optional().openapi({ example: 'Xk2fTz9yq0S8bM3nR4vW7aC1dE6gH5jL' }),
  code: z.string().max(4096).optional().openapi({ example: '4/0AVMBsJh-provider-code' }),
  error: z.string().max(256).optional().openapi({ example: 'access_denied' }),
  error_description: z.string().max(2000).optional().openapi({ example: 'The user denied the request' }),
  iss: z.string().max(2000).optional().openapi({ example: 'https://accounts.google.com', description: 'RFC 9207 issuer identifier' }),
});

const callbackResponses = {
  302: redirect('Back to the app: `?code=` or `?error=`', 'http://localhost:3000/auth/done?code=pB4x2Yw9vS0QmK7tN1cJ8eR5uA3hL6zD0fG2iO4kM7q'),
  ...commonErrors,
  ...notFound,
};

export const callback = createRoute({
  method: 'get',
  path: '/auth/oauth/{provider}/callback',
  tags,
  summary: 'Where the provider sends the browser back',
  description: callbackDescription,
  middleware: [limitByIp('RL_OAUTH')],
  request: { params: providerParam, query: CallbackQuery },
  responses: callbackResponses,
});

export const callbackPost = createRoute({
  method: 'post',
  path: '/auth/oauth/{provider}/callback',
  tags,
  summary: 'Where the provider posts the browser back (form_post: Apple)',
  description: `${callbackDescription} Apple answers with a form POST (\`response_mode=form_post\`) whose \`user\` field carries the name, on the first consent only; it becomes the new account's display name.`,
  middleware: [limitByIp('RL_OAUTH')],
  request: {
    params: providerParam,
    body: {
      required: true,
      content: {
        'application/x-www-form-urlencoded': {
          schema: CallbackQuery.extend({ user: z.string().max(2000).optional() }).openapi('OAuthFormPost', {
            example: { state: 'n0nce-st4te', code: 'c0de', user: '{"name":{"firstName":"Ada","lastName":"Lovelace"},"email":"ada@privaterelay.appleid.com"}' },
          }),
        },
      },
    },
  },
  responses: { ...callbackResponses, ...errors[415] },
});

const CODE_EXAMPLE = 'pB4x2Yw9vS0QmK7tN1cJ8eR5uA3hL6zD0fG2iO4kM7q';

export const ExchangeResponseSchema = TokenResponseSchema.extend({
  created: z.boolean().openapi({ description: 'The account was created by this sign-in' }),
}).openapi('OAuthExchangeResponse', {
  example: {
    user: meExample,
    access_token: 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzaWQiOiIwMUpDNloiLCJ0eXAiOiJhY2Nlc3MifQ.sig',
    refresh_token: CODE_EXAMPLE,
    token_type: 'Bearer',
    expires_in: 900,
    created: false,
  },
});

/** A one-time code from the callback, with the verifier of the app's own challenge (exchange and link). */
const codeFields = {
  code: z.string().min(1, 'is required').max(512).openapi({ example: CODE_EXAMPLE }),
  code_verifier: z
    .string()
    .regex(/^[A-Za-z0-9._~-]{43,128}$/, 'must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~ (RFC 7636)')
    .optional()
    .openapi({
      example: VERIFIER_EXAMPLE,
      description: 'The PKCE verifier whose S256 challenge the app sent to authorize as `code_challenge`. Required when it sent one; refused when it did not.',
    }),
};

export const exchange = createRoute({
  method: 'post',
  path: '/auth/oauth/exchange',
  tags,
  summary: 'Redeem the one-time code for tokens',
  description:
    'The `code` from the callback redirect works once, for 60 seconds (400 naming `code` otherwise, and for a link code: see POST /me/identities). When the flow was started with a `code_challenge`, `code_verifier` must be the verifier it was made from, else 400 naming `code_verifier`; a `code_verifier` for a code issued without a challenge is refused the same way (an app that always sends one cannot be handed a code from someone else\'s challenge-less flow). Either refusal uses the code up. 200: the login token body plus `created` (a sign-in that linked the provider to the account with that verified address tells the address: mail kind `oauth_linked`). 409 naming `email` when the provider\'s verified address belongs to an account whose address is not verified (never linked: sign in with the password and verify the address, then link). 403 `/account-suspended`; 401 `/mfa-required` with an `mfa_token` when the account has two-factor sign-in. Recorded as `auth.login` with `method: "oauth:<provider>"`. Limited per client address.',
  middleware: [limitByIp('RL_OAUTH')],
  request: {
    body: jsonBody(z.object(codeFields).openapi('OAuthExchange', { example: { code: CODE_EXAMPLE, code_verifier: VERIFIER_EXAMPLE } })),
  },
  responses: {
    200: jsonContent(ExchangeResponseSchema, 'Signed in'),
    ...commonErrors,
    ...credentialsOrMfa('A second factor is needed (type …/mfa-required, with `mfa_token`)'),
    ...accountSuspended,
    ...errors[409],
    ...errors[503],
  },
});

const authed = { security: bearerSecurity, middleware: [requireAuth] };

export const IdentitySchema = z
  .object({ id: z.string(), provider: z.enum(PROVIDER_IDS), email: z.string().nullable(), created_at: z.string() })
  .openapi('OAuthIdentity', { example: { id: EXAMPLE_ID, provider: 'github', email: 'ada@example.com', created_at: '2026-11-21T10:00:00.000Z' } });

export const listIdentities = createRoute({
  method: 'get',
  path: '/me/identities',
  tags: ['Me'],
  summary: 'Your linked sign-in providers',
  description: '`email` is the address the provider verified when it was linked (null when it gave none).',
  ...authed,
  responses: {
    200: jsonContent(z.array(IdentitySchema).openapi({ example: [{ id: EXAMPLE_ID, provider: 'github', email: 'ada@example.com', created_at: '2026-11-21T10:00:00.000Z' }] }), 'The identities'),
    ...commonErrors,
    ...errors[401],
  },
});

export const linkIdentity = createRoute({
  method: 'post',
  path: '/me/identities',
  tags: ['Me'],
  summary: 'Finish linking a sign-in provider',
  description:
    'Redeems the link code a link flow ended with (GET /auth/oauth/{provider}/authorize with your bearer token, then `redirect_uri?code=`): 60 seconds, once, only by the account that started the flow, with the `code_verifier` when the flow had a `code_challenge` (400 naming `code` or `code_verifier` otherwise; either refusal uses the code up). Linking happens only here, so a link flow whose provider step someone else\'s browser went through (a link sent to them) links nothing to your account. 201 with the new identity, 200 when it was already yours; 403 while your address is unverified; 409 naming `code` when another account has this identity. Recorded as `oauth.linked`, and the account\'s address is told (mail kind `oauth_linked`). Limited per client address.',
  ...authed,
  middleware: [limitByIp('RL_OAUTH'), requireAuth],
  request: { body: jsonBody(z.object(codeFields).openapi('OAuthLink', { example: { code: CODE_EXAMPLE, code_verifier: VERIFIER_EXAMPLE } })) },
  responses: {
    201: jsonContent(IdentitySchema, 'Linked'),
    200: jsonContent(IdentitySchema, 'Already linked to your account'),
    ...commonErrors,
    ...errors[401],
    ...errors[403],
    ...errors[409],
  },
});

export const unlinkIdentity = createRoute({
  method: 'delete',
  path: '/me/identities/{id}',
  tags: ['Me'],
  summary: 'Unlink a sign-in provider',
  description: '409 when it is the last way to sign in (no password and no other identity; a password reset sets a password). Recorded as `oauth.unlinked`.',
  ...authed,
  request: { params: idParam('id', 'identity') },
  responses: { 204: { description: 'Unlinked' }, ...commonErrors, ...errors[401], ...errors[404], ...errors[409] },
});
