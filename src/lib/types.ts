import type { OpenAPIHono, RouteConfig, RouteHandler } from '@hono/zod-openapi';
import type { Database } from '../db/client';
import type { SiteRole } from '../db/schema';
import type { Mailer } from './mailer';

/** Bindings from wrangler.toml plus the secrets that are not in it. */
export type Bindings = Env & {
  /** HMAC key for access tokens; a secret (`.dev.vars` locally, `wrangler secret put` in production). */
  JWT_SECRET?: string;
  /** "true" lets news sources live on loopback (tests, local development); never in production. */
  NEWS_ALLOW_PRIVATE?: string;
  /** DNS-over-HTTPS JSON endpoint that news source hosts are resolved with (default Cloudflare's). */
  NEWS_DNS_RESOLVER?: string;
  /** PBKDF2 work factor for new password hashes; leave unset in production (100,000). Test suites only. */
  PASSWORD_HASH_ITERATIONS?: string;
};

/** The authenticated caller, set by the auth middleware. */
export interface AuthContext {
  userId: string;
  sessionId: string;
  /** The account's site role (user, moderator or admin). */
  role: SiteRole;
}

export interface AppVariables {
  requestId: string;
  db: Database;
  mailer: Mailer;
  /** Origin used to build absolute URLs (avatar_url, media url). */
  baseUrl: string;
  auth?: AuthContext;
  /** The caller's site role as read from D1 by the staff guard for this request. */
  staffRole?: SiteRole;
  /** Access-token claims already verified by the API rate limiter, with the token they came from. */
  verifiedToken?: { token: string; claims: { userId: string; sessionId: string } };
}

export interface AppEnv {
  Bindings: Bindings;
  Variables: AppVariables;
}

export type AppOpenAPI = OpenAPIHono<AppEnv>;

/** Handler type for a `createRoute` definition, so handlers stay in their own file. */
export type AppRouteHandler<R extends RouteConfig> = RouteHandler<R, AppEnv>;
