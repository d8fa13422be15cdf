import { importPKCS8, SignJWT } from 'jose';
import { ApiError } from '../../lib/errors';
import type { Bindings } from '../../lib/types';

/** The providers Kith knows; each is offered once its variables are set. */
export const PROVIDER_IDS = ['google', 'apple', 'github', 'oidc'] as const;
export type ProviderId = (typeof PROVIDER_IDS)[number];

/** Every call to a provider (discovery, keys, tokens, profile) gives up after this long. */
export const PROVIDER_TIMEOUT_MS = 10_000;

interface BaseProvider {
  id: ProviderId;
  name: string;
  clientId: string;
  /** How the client authenticates at the token endpoint: HTTP Basic, in the form body, or not at all (public client). */
  clientAuth: 'basic' | 'post' | 'none';
  /** The client secret (Apple's is a short-lived ES256 JWT made on demand). */
  clientSecret(): Promise<string | null>;
  scopes: string[];
  /** Apple answers with a form POST (and the user's name in it, on first consent only). */
  responseMode?: 'form_post';
}

/** An OpenID Connect provider: endpoints from discovery, identity from a verified id_token. */
export interface OidcProvider extends BaseProvider {
  kind: 'oidc';
  issuer: string;
  /** Issuer values the id_token may carry besides `issuer` (Google also uses the bare host). */
  issuerAliases: string[];
}

/** GitHub: plain OAuth 2.0 (no id_token); identity from the REST API. */
export interface GitHubProvider extends BaseProvider {
  kind: 'github';
  authorizationEndpoint: string;
  tokenEndpoint: string;
  apiUrl: string;
}

export type Provider = OidcProvider | GitHubProvider;

const trimSlash = (url: string) => url.replace(/\/+$/, '');

/**
 * Apple's client secret: an ES256 JWT signed with the team's Sign in with Apple key (.p8), issued by the
 * team for the client id, for Apple, valid 5 minutes. (A secret put with literal `\n`s is accepted too.)
 */
async function appleClientSecret(opts: { clientId: string; teamId: string; keyId: string; pem: string; audience: string }): Promise<string> {
  const key = await importPKCS8(opts.pem.replace(/\\n/g, '\n'), 'ES256');
  return new SignJWT({})
    .setProtectedHeader({ alg: 'ES256', kid: opts.keyId })
    .setIssuer(opts.teamId)
    .setSubject(opts.clientId)
    .setAudience(opts.audience)
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(key);
}

/** Each provider as configured by this deployment's variables, or null when a variable it needs is missing. */
function build(env: Bindings, id: ProviderId): Provider | null {
  switch (id) {
    case 'google': {
      if (!env.GOOGLE_CLIENT_ID || !env.GOOGLE_CLIENT_SECRET) return null;
      const secret = env.GOOGLE_CLIENT_SECRET;
      return {
        id,
        kind: 'oidc',
        name: 'Google',
        issuer: trimSlash(env.GOOGLE_ISSUER || 'https://accounts.google.com'),
        issuerAliases: env.GOOGLE_ISSUER ? [] : ['accounts.google.com'],
        clientId: env.GOOGLE_CLIENT_ID,
        clientAuth: 'basic',
        clientSecret: async () => secret,
        scopes: ['openid', 'email', 'profile'],
      };
    }
    case 'apple': {
      const { APPLE_CLIENT_ID: clientId, APPLE_TEAM_ID: teamId, APPLE_KEY_ID: keyId, APPLE_PRIVATE_KEY: key } = env;
      if (!clientId || !teamId || !keyId || !key) return null;
      const issuer = trimSlash(env.APPLE_ISSUER || 'https://appleid.apple.com');
      return {
        id,
        kind: 'oidc',
        name: 'Apple',
        issuer,
        issuerAliases: [],
        clientId,
        // Apple takes client_secret_post only, and the secret is a JWT signed with the team's key.
        clientAuth: 'post',
        clientSecret: () => appleClientSecret({ clientId, teamId, keyId, pem: key, audience: issuer }),
        scopes: ['openid', 'name', 'email'],
        responseMode: 'form_post',
      };
    }
    case 'github': {
      if (!env.GITHUB_CLIENT_ID || !env.GITHUB_CLIENT_SECRET) return null;
      const secret = env.GITHUB_CLIENT_SECRET;
      const web = trimSlash(env.GITHUB_URL || 'https://github.com');
      return {
        id,
        kind: 'github',
        name: 'GitHub',
        clientId: env.GITHUB_CLIENT_ID,
        clientAuth: 'basic',
        clientSecret: async () => secret,
        authorizationEndpoint: `${web}/login/oauth/authorize`,
        tokenEndpoint: `${web}/login/oauth/access_token`,
        apiUrl: trimSlash(env.GITHUB_API_URL || 'https://api.github.com'),
        scopes: ['read:user', 'user:email'],
      };
    }
    case 'oidc': {
      if (!env.OIDC_ISSUER || !env.OIDC_CLIENT_ID) return null;
      const secret = env.OIDC_CLIENT_SECRET || null;
      return {
        id,
        kind: 'oidc',
        name: env.OIDC_NAME || 'OpenID Connect',
        issuer: trimSlash(env.OIDC_ISSUER),
        issuerAliases: [],
        clientId: env.OIDC_CLIENT_ID,
        clientAuth: secret ? 'basic' : 'none',
        clientSecret: async () => secret,
        scopes: ['openid', 'email', 'profile'],
      };
    }
  }
}

/** The providers this deployment offers, in a fixed order. */
export function configuredProviders(env: Bindings): Provider[] {
  return PROVIDER_IDS.map((id) => build(env, id)).filter((p): p is Provider => p !== null);
}

/** The named provider: 404 when Kith has no such provider, or 404 saying so when it is not configured here. */
export function providerFor(env: Bindings, id: string): Provider {
  if (!(PROVIDER_IDS as readonly string[]).includes(id)) throw new ApiError('not_found', `There is no sign-in provider "${id}".`);
  const provider = build(env, id as ProviderId);
  if (!provider) throw new ApiError('not_found', `Sign-in with ${id} is not configured on this server.`);
  return provider;
}

/**
 * Provider endpoints must be https; plain http only on loopback when OAUTH_ALLOW_HTTP is "true" (tests
 * and a local development provider).
 */
export function assertSafeEndpoint(env: Bindings, url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`provider endpoint is not a URL: ${url}`);
  }
  const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(parsed.hostname);
  if (parsed.protocol === 'https:' || (parsed.protocol === 'http:' && loopback && env.OAUTH_ALLOW_HTTP === 'true')) return url;
  throw new Error(`provider endpoint must be https: ${url}`);
}
