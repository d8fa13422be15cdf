import { createRouter } from '../../lib/create-app';
import { DOCS_CSP, DOCS_HTML } from './docs.page';
import { docsPage } from './docs.routes';

export const docsRouter = createRouter().openapi(docsPage, (c) => {
  c.header('Content-Security-Policy', DOCS_CSP);
  return c.html(DOCS_HTML, 200);
});
