import { createRouter } from '../../lib/create-app';
import { DOCS_CSP, DOCS_HTML } from './docs.page';
import { asyncApiDocument } from './asyncapi';
import { asyncApi, docsPage } from './docs.routes';

export const docsRouter = createRouter()
  .openapi(docsPage, (c) => {
    c.header('Content-Security-Policy', DOCS_CSP);
    return c.html(DOCS_HTML, 200);
  })
  .openapi(asyncApi, (c) => c.json(asyncApiDocument(new URL(c.req.url).origin) as { asyncapi: string }, 200));
