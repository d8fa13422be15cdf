import type { Context } from 'hono';
import { createRouter } from '../../lib/create-app';
import { ApiError } from '../../lib/errors';
import { errorPage, errorPages, renderErrorIndex, renderErrorPage } from './error-pages';
import { getErrorPage, listErrorPages } from './errors.routes';

/** The pages are plain HTML: no script, style or frame of any origin. */
const PAGE_CSP = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** JSON when the client asks for it (`Accept: application/json`), else HTML; caches keep the two apart. */
function wantsJson(c: Context): boolean {
  c.header('Vary', 'Accept');
  return /\bapplication\/json\b/.test(c.req.header('Accept') ?? '');
}

function page(c: Context, html: string) {
  c.header('Content-Security-Policy', PAGE_CSP);
  c.header('Cache-Control', 'public, max-age=3600');
  return c.html(html, 200);
}

export const errorsRouter = createRouter()
  .openapi(listErrorPages, (c) => {
    const pages = errorPages(new URL(c.req.url).origin);
    return wantsJson(c) ? c.json({ data: pages }, 200) : page(c, renderErrorIndex(pages));
  })
  .openapi(getErrorPage, (c) => {
    const { slug } = c.req.valid('param');
    const found = errorPage(slug, new URL(c.req.url).origin);
    if (!found) throw new ApiError('not_found', `No problem type is called "${slug}"; GET /errors lists them.`);
    return wantsJson(c) ? c.json(found, 200) : page(c, renderErrorPage(found));
  });
