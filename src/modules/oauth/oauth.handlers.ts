import type { Context } from 'hono';
import { ApiError } from '../../lib/errors';
import type { AppEnv, AppRouteHandler } from '../../lib/types';
import { currentUser } from '../../middleware/auth';
import { findUserById } from '../users/users.service';
import { appCodeChallenge, type CallbackParams, checkRedirectUri, completeLink, finishCallback, listIdentities, redeemCode, startAuthorization, unlinkIdentity } from './oauth.service';
import { configuredProviders, providerFor } from './providers';
import { assertRecentSignIn } from '../auth/sessions.service';
import type * as routes from './oauth.routes';

/** Redirects carry one-time values: never cached, never sent on as a Referer. */
function redirectTo(c: Context<AppEnv>, location: string) {
  c.header('Cache-Control', 'no-store');
  c.header('Referrer-Policy', 'no-referrer');
  return c.redirect(location, 302);
}

export const listProviders: AppRouteHandler<typeof routes.listProviders> = async (c) =>
  c.json(configuredProviders(c.env).map(({ id, name }) => ({ id, name })), 200);

export const authorize: AppRouteHandler<typeof routes.authorize> = async (c) => {
  const provider = providerFor(c.env, c.req.valid('param').provider);
  const query = c.req.valid('query');
  const redirectUri = checkRedirectUri(c.env, query.redirect_uri);
  const appChallenge = appCodeChallenge(query);
  const auth = c.get('auth');
  if (auth) {
    await assertRecentSignIn(c.var.d1, auth.sessionId, 'link a sign-in provider');
    const user = await findUserById(c.get('db'), auth.userId);
    if (!user || user.emailVerifiedAt === null) throw new ApiError('forbidden', 'Verify your e-mail address before linking a sign-in provider.');
  }
  const url = await startAuthorization(c, provider, { redirectUri, linkUserId: auth?.userId ?? null, appChallenge });
  if (query.format === 'json') {
    c.header('Cache-Control', 'no-store');
    return c.json({ authorization_url: url.toString() }, 200);
  }
  return redirectTo(c, url.toString());
};

export const callback: AppRouteHandler<typeof routes.callback> = async (c) => {
  const provider = providerFor(c.env, c.req.valid('param').provider);
  return redirectTo(c, await finishCallback(c, provider, c.req.valid('query')));
};

export const callbackPost: AppRouteHandler<typeof routes.callbackPost> = async (c) => {
  const provider = providerFor(c.env, c.req.valid('param').provider);
  return redirectTo(c, await finishCallback(c, provider, c.req.valid('form') as CallbackParams));
};

export const exchange: AppRouteHandler<typeof routes.exchange> = async (c) => {
  const { code, code_verifier } = c.req.valid('json');
  return c.json(await redeemCode(c, code, code_verifier), 200);
};

export const identities: AppRouteHandler<typeof routes.listIdentities> = async (c) => c.json(await listIdentities(c.var.d1, currentUser(c).userId), 200);

export const link: AppRouteHandler<typeof routes.linkIdentity> = async (c) => {
  const { code, code_verifier } = c.req.valid('json');
  const { identity, created } = await completeLink(c, currentUser(c).userId, code, code_verifier);
  return created ? c.json(identity, 201) : c.json(identity, 200);
};

export const unlink: AppRouteHandler<typeof routes.unlinkIdentity> = async (c) => {
  await unlinkIdentity(c, currentUser(c).userId, c.req.valid('param').id);
  return c.body(null, 204);
};
