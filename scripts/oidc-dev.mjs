#!/usr/bin/env node
// `npm run oidc:dev`: a local OpenID Connect provider for development (oauth2-mock-server), so that
// "Sign in with OIDC" works on a laptop with no account anywhere. It signs everyone in at once (no
// login page) as the person named by the options, or by `login_hint=<email>` on the authorize URL.
//
//   npm run oidc:dev -- [--port 8780] [--email dev@example.com] [--name "Dev User"] [--username dev]
//
// Then put the variables it prints into .dev.vars and (re)start `npm run dev`.
import { parseArgs } from 'node:util';
import { Events, OAuth2Server } from 'oauth2-mock-server';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '8780' },
    email: { type: 'string', default: 'dev@example.com' },
    name: { type: 'string', default: 'Dev User' },
    username: { type: 'string', default: 'dev' },
  },
});

const server = new OAuth2Server();
await server.issuer.keys.generate('RS256');

// Who signs in with each authorization code: the login_hint of that authorization, or the defaults.
const hints = new Map();
server.service.on(Events.BeforeAuthorizeRedirect, (redirect, req) => {
  const code = redirect.url.searchParams.get('code');
  if (code && typeof req.query.login_hint === 'string' && req.query.login_hint.includes('@')) hints.set(code, req.query.login_hint.toLowerCase());
});
server.service.on(Events.BeforeTokenSigning, (token, req) => {
  const email = hints.get(req.body?.code) ?? values.email;
  Object.assign(token.payload, {
    sub: `dev:${email}`,
    email,
    email_verified: true,
    name: email === values.email ? values.name : email.split('@')[0],
    preferred_username: email === values.email ? values.username : email.split('@')[0],
  });
});

await server.start(Number(values.port), '127.0.0.1');
const issuer = server.issuer.url;
console.log(`Local OIDC provider: ${issuer} (discovery: ${issuer}/.well-known/openid-configuration)

Add to .dev.vars, then restart npm run dev:

OIDC_ISSUER="${issuer}"
OIDC_CLIENT_ID="kith-dev"
OIDC_CLIENT_SECRET="kith-dev-secret"
OIDC_NAME="Local OIDC"
OAUTH_ALLOW_HTTP="true"

Signs in as ${values.email} (or as the login_hint=<email> of the authorize URL). Ctrl-C stops it.`);

for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => server.stop().then(() => process.exit(0)));
