import { applyD1Migrations } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { afterAll, afterEach, inject } from 'vitest';
import { OAUTH_CLIENTS } from './fixtures/oauth/clients';
import { takeContractCounts } from './contract/validating-fetch';
import { frameError, takeFrameResults } from './contract/validating-socket';
import { emptyStorage } from './helpers/reset';

// The same migrations wrangler applies (migrations/), applied to the test database before each file
// (only the first file of a worker finds any to apply), then every row and stored object removed.
await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
await emptyStorage();

// Every sign-in provider is configured, each pointed at its local stand-in (test/fixtures/oauth/providers.ts,
// started by global-setup.ts): the worker reads these from its env on every request.
const oauth = inject('oauthStandIns');
Object.assign(env, {
  OAUTH_ALLOW_HTTP: 'true',
  OIDC_ISSUER: oauth.urls.oidc,
  OIDC_CLIENT_ID: OAUTH_CLIENTS.oidc.id,
  OIDC_CLIENT_SECRET: OAUTH_CLIENTS.oidc.secret,
  OIDC_NAME: OAUTH_CLIENTS.oidc.name,
  GOOGLE_ISSUER: oauth.urls.google,
  GOOGLE_CLIENT_ID: OAUTH_CLIENTS.google.id,
  GOOGLE_CLIENT_SECRET: OAUTH_CLIENTS.google.secret,
  APPLE_ISSUER: oauth.urls.apple,
  APPLE_CLIENT_ID: OAUTH_CLIENTS.apple.id,
  APPLE_TEAM_ID: OAUTH_CLIENTS.apple.team,
  APPLE_KEY_ID: OAUTH_CLIENTS.apple.key,
  APPLE_PRIVATE_KEY: oauth.applePrivateKey,
  GITHUB_URL: oauth.urls.github,
  GITHUB_API_URL: oauth.urls.github,
  GITHUB_CLIENT_ID: OAUTH_CLIENTS.github.id,
  GITHUB_CLIENT_SECRET: OAUTH_CLIENTS.github.secret,
});
// Hosts Kith is told to contact (news sources, push endpoints) are resolved at the fixture feed server's
// DNS-over-HTTPS stand-in (test/fixtures/feeds/server.ts), never at an outside resolver.
Object.assign(env, { NEWS_DNS_RESOLVER: `${inject('feedServerUrl')}/dns-query` });

// Each test records how many exchanges the validating fetch checked; what hooks outside tests checked
// goes on the file. test/contract/reporter.ts adds them up for the run.
// Socket frames that broke /asyncapi.json fail the test whose sockets carried them.
afterEach(async ({ task }) => {
  const { frames, problems } = await takeFrameResults();
  task.meta.contract = { ...takeContractCounts(), frames };
  if (problems.length > 0) throw frameError(problems);
});
afterAll(async ({}, suite) => {
  const { frames } = await takeFrameResults();
  suite.meta.contract = { ...takeContractCounts(), frames };
});
