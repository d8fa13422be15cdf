import { ERROR_STATUS, type ErrorCode, problemSlug, problemTitle, problemType } from '../../lib/errors';

/**
 * What each problem type means and how a client fixes it: the pages every problem's `type` URL
 * answers (`/errors/{slug}`). One entry per error code, so a new code cannot ship without its page.
 */
const PAGES: Record<ErrorCode, { meaning: string; fix: string }> = {
  bad_request: {
    meaning: 'The request could not be read: the body is not valid JSON, or the request is malformed in a way no single field explains.',
    fix: 'Send well-formed JSON with `Content-Type: application/json`, and check the request against the operation in /docs.',
  },
  validation_failed: {
    meaning: 'One or more fields (in the body, the query or the path) are missing or invalid. `errors` names each field with what is wrong.',
    fix: 'Correct each field listed in `errors` and send the request again. Unknown fields are refused too: send only the fields the operation documents.',
  },
  unauthorized: {
    meaning: 'The request needs a valid access token, and it had none, or its token is malformed, expired or revoked.',
    fix: 'Send `Authorization: Bearer <access_token>`. Access tokens last 15 minutes: get a new one with POST /api/v1/auth/refresh, or log in again.',
  },
  mfa_required: {
    meaning: 'The password (or sign-in provider) was right, but the account uses two-factor sign-in.',
    fix: 'Send the `mfa_token` from this problem with a code from the authenticator app (or a recovery code) to POST /api/v1/auth/login/mfa within 5 minutes.',
  },
  invalid_code: {
    meaning: 'The one-time code (an authenticator code or a recovery code) is wrong, expired, or was already used.',
    fix: 'Enter the current code from the authenticator app (codes change every 30 seconds), or an unused recovery code.',
  },
  forbidden: {
    meaning: 'You are signed in, but you may not do this to this object (it belongs to someone else, or needs a role you do not have).',
    fix: 'Act only on objects you own or moderate. Staff actions need a moderator or admin role.',
  },
  messages_not_accepted: {
    meaning: 'A recipient does not accept messages from you: their `message_policy` (following, friends or nobody) excludes you, or they declined this conversation.',
    fix: 'Nothing to retry: the recipient decides who may message them. `errors` names who refused; leave them out, or ask them to follow you.',
  },
  account_suspended: {
    meaning: 'The account is suspended by a moderator: it cannot log in and its tokens no longer work.',
    fix: 'Wait until the suspension is lifted (timed suspensions lift themselves), or contact the deployment\'s moderators.',
  },
  recent_sign_in_required: {
    meaning: 'Linking a sign-in provider or turning on two-factor sign-in adds a way into the account, so it needs a session that signed in (with the password, a provider, and the second factor if on) in the last 15 minutes. Refreshing a token does not count: a stolen token must not be enough.',
    fix: 'Sign in again (POST /api/v1/auth/login or a provider sign-in), then repeat the request with the new access token.',
  },
  not_found: {
    meaning: 'There is no such object, or it exists but is not visible to you (private, blocked, removed or suspended). Kith does not tell the two apart.',
    fix: 'Check the id or path. A path no operation has also answers this problem: see /docs for the operations.',
  },
  method_not_allowed: {
    meaning: 'The path exists, but not with this HTTP method.',
    fix: 'Use one of the methods the `Allow` header lists.',
  },
  conflict: {
    meaning: 'The request conflicts with existing data: a username or e-mail address already taken, a duplicate request, or an object in a state that does not allow this change.',
    fix: 'Read `detail` (and `errors`, when a field is named), then change the request: pick another value, or refresh the object and retry.',
  },
  upgrade_required: {
    meaning: 'This path is a WebSocket endpoint and the request was not a WebSocket upgrade.',
    fix: 'Connect with a WebSocket client (`Upgrade: websocket`). The frames are described in /asyncapi.json.',
  },
  payload_too_large: {
    meaning: 'The request body (or an uploaded file, or an image\'s pixel count) is over the limit.',
    fix: 'JSON bodies may be at most 64 KB; uploads have their own limits, named in `detail`. Send less, or a smaller file.',
  },
  unsupported_media_type: {
    meaning: 'The body is not of a media type this operation accepts.',
    fix: 'Send JSON bodies with `Content-Type: application/json`, uploads as `multipart/form-data` (or the image types the operation lists).',
  },
  content_rejected: {
    meaning: 'A keyword rule of this deployment refuses the text. `errors` names the field that holds it.',
    fix: 'Change the text in the named field and send it again.',
  },
  rate_limited: {
    meaning: 'Too many requests from this client address or account (or too many attempts at one account) in a short time.',
    fix: 'Wait the number of seconds in the `Retry-After` header before retrying, and slow down.',
  },
  internal: {
    meaning: 'An unexpected fault in Kith. Nothing about your request caused it, and no partial change was kept.',
    fix: 'Retry later. If it persists, report it to the deployment\'s operators quoting the `request_id`.',
  },
  service_unavailable: {
    meaning: 'The deployment is not fully configured (e.g. authentication has no JWT_SECRET), or a service it needs is unavailable.',
    fix: 'Operators: set the secret named in `detail` (`wrangler secret put JWT_SECRET`). Clients: retry later.',
  },
};

const CODES = Object.keys(ERROR_STATUS) as ErrorCode[];
const BY_SLUG = new Map(CODES.map((code) => [problemSlug(code), code]));

/** Every problem slug, in the order of the error codes. */
export const PROBLEM_SLUGS = CODES.map(problemSlug);

export interface ErrorPage {
  type: string;
  slug: string;
  title: string;
  status: number;
  meaning: string;
  fix: string;
}

/** The page of one problem slug on this origin, or undefined for a slug no problem has. */
export function errorPage(slug: string, origin: string): ErrorPage | undefined {
  const code = BY_SLUG.get(slug);
  if (!code) return undefined;
  return { type: problemType(code, origin), slug, title: problemTitle(code), status: ERROR_STATUS[code], ...PAGES[code] };
}

/** Every page, on this origin. */
export function errorPages(origin: string): ErrorPage[] {
  return PROBLEM_SLUGS.map((slug) => errorPage(slug, origin)!);
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
/** Escapes, then shows `code` spans as <code>. */
const prose = (text: string) => escapeHtml(text).replace(/`([^`]+)`/g, '<code>$1</code>');

function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>${escapeHtml(title)} · Kith API</title>
</head>
<body>
${body}
<p><a href="/errors">All problem types</a> · <a href="/docs">API reference</a></p>
</body>
</html>
`;
}

export function renderErrorPage(page: ErrorPage): string {
  return layout(
    page.title,
    `<h1>${escapeHtml(page.title)} <small>(HTTP ${page.status})</small></h1>
<p>Problem type <code>${escapeHtml(page.type)}</code></p>
<h2>What it means</h2>
<p>${prose(page.meaning)}</p>
<h2>How to fix it</h2>
<p>${prose(page.fix)}</p>`,
  );
}

export function renderErrorIndex(pages: ErrorPage[]): string {
  const items = pages.map((p) => `<li><a href="/errors/${p.slug}">${escapeHtml(p.title)}</a> (HTTP ${p.status}): ${prose(p.meaning)}</li>`).join('\n');
  return layout(
    'Problem types',
    `<h1>Problem types</h1>
<p>Every error answers <code>application/problem+json</code> (RFC 9457) whose <code>type</code> is one of these pages.</p>
<ul>
${items}
</ul>`,
  );
}
