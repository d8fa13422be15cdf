import type { OpenAPIHono, RouteConfig, RouteHandler } from '@hono/zod-openapi';
import type { D1Client, Database } from '../db/client';
import type { SiteRole } from '../db/schema';
import type { Mailer } from './mailer';

/** Bindings from wrangler.toml plus the secrets that are not in it. */
export type Bindings = Env & {
  /** HMAC key for access tokens; a secret (`.dev.vars` locally, `wrangler secret put` in production). */
  JWT_SECRET?: string;
  /** "true" lets news sources live on loopback (tests, local development); never in production. */
  NEWS_ALLOW_PRIVATE?: string;
  /** DNS-over-HTTPS JSON endpoint that news source hosts and push endpoint hosts are resolved with (default Cloudflare's). */
  NEWS_DNS_RESOLVER?: string;
  /** Cloudflare Realtime TURN key id and its API token (secrets): with both, GET /calls/ice_servers hands out TURN credentials. */
  TURN_KEY_ID?: string;
  TURN_KEY_API_TOKEN?: string;
  /** Base URL of Cloudflare's Realtime API (default https://rtc.live.cloudflare.com/v1; tests use a local stand-in). */
  TURN_API_BASE?: string;
  /** Web Push (VAPID) key pair, base64url (secrets; `npm run vapid` makes one): the 65-byte P-256 point and the 32-byte scalar. */
  VAPID_PUBLIC_KEY?: string;
  VAPID_PRIVATE_KEY?: string;
  /** Who push services may contact about our pushes (RFC 8292 `sub`): a `mailto:` or `https:` URI. */
  VAPID_SUBJECT?: string;
  /** "true" accepts plain-http, loopback and other-port push endpoints (local development and tests only). */
  PUSH_ALLOW_HTTP?: string;
  /** Milliseconds a push service gets per delivery (default 5000). */
  PUSH_TIMEOUT_MS?: string;
  /** First retry delay of a failed push, in seconds (default 30; each retry waits four times longer). */
  PUSH_RETRY_BASE_SECONDS?: string;
  /** Client frames a second each member may send a conversation's sockets (default 10, bursts of six seconds' worth). */
  ROOM_FRAME_RATE?: string;
  /** Seconds after its invite a call ends at the latest (default 14400: 4 hours). */
  ROOM_CALL_MAX_SECONDS?: string;
  /** Bearer token of the HTTP mail API (`MAILER=http`); a secret. */
  MAIL_HTTP_TOKEN?: string;
  /** Cloudflare's `send_email` binding (`MAILER=send_email`; add `[[send_email]] name = "EMAIL"`). */
  EMAIL?: SendEmail;
  /** Key (at least 32 characters) that TOTP secrets are encrypted under; a secret. */
  MFA_ENCRYPTION_KEY?: string;
  /** OAuth / OpenID Connect providers (src/modules/oauth/providers.ts): client ids are vars, secrets secrets. */
  GOOGLE_CLIENT_ID?: string;
  GOOGLE_CLIENT_SECRET?: string;
  /** Google's issuer (default https://accounts.google.com); only tests and local stand-ins change it. */
  GOOGLE_ISSUER?: string;
  APPLE_CLIENT_ID?: string;
  APPLE_TEAM_ID?: string;
  APPLE_KEY_ID?: string;
  /** The Sign in with Apple private key (.p8, PEM); a secret. */
  APPLE_PRIVATE_KEY?: string;
  /** Apple's issuer (default https://appleid.apple.com); only tests and local stand-ins change it. */
  APPLE_ISSUER?: string;
  GITHUB_CLIENT_ID?: string;
  GITHUB_CLIENT_SECRET?: string;
  /** GitHub's web and API origins (default github.com and api.github.com; GitHub Enterprise Server: your host and `<host>/api/v3`). */
  GITHUB_URL?: string;
  GITHUB_API_URL?: string;
  OIDC_ISSUER?: string;
  OIDC_CLIENT_ID?: string;
  OIDC_CLIENT_SECRET?: string;
  OIDC_NAME?: string;
  /** "true" lets provider endpoints be plain http on loopback (tests and local development only). */
  OAUTH_ALLOW_HTTP?: string;
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
  /**
   * The request's D1 session (Sessions API, src/db/session.ts): every query of the request goes through
   * it, never through `env.DB`, so reads may use a replica and the response's bookmark covers its writes.
   */
  d1: D1Client;
  /** Drizzle over {@link d1}. */
  db: Database;
  mailer: Mailer;
  /** Origin used to build absolute URLs (avatar_url, media url). */
  baseUrl: string;
  auth?: AuthContext;
  /** The caller's site role as read from D1 by the staff guard for this request. */
  staffRole?: SiteRole;
  /** Access-token claims already verified by the API rate limiter, with the token they came from. */
  verifiedToken?: { token: string; claims: { userId: string; sessionId: string } };
  /** Ids of the posts this GET served (feeds and reads): one impressions message when it answers. */
  impressions?: Set<string>;
  /** Jobs to start once the request has answered (src/middleware/after-response.ts). */
  afterResponse?: { kind: string; run: () => Promise<void>; evenOnError: boolean }[];
}

export interface AppEnv {
  Bindings: Bindings;
  Variables: AppVariables;
}

export type AppOpenAPI = OpenAPIHono<AppEnv>;

/** Handler type for a `createRoute` definition, so handlers stay in their own file. */
export type AppRouteHandler<R extends RouteConfig> = RouteHandler<R, AppEnv>;
