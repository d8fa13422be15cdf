// The home page statement as the worker runs it for a returning reader (a page from their timeline, with
// its floor), built from the source in Node by esbuild, for the bench's "page statement alone" ceiling:
// the same SQL through the same D1 binding with no app code around it.
import { build } from 'esbuild';

const ENTRY = `
import { pageQuery, skeletonOfQuery } from './src/modules/posts/post-pipeline';
import { HOME_TIMELINE_FLOOR_SQL, HOME_TIMELINE_SQL } from './src/modules/feeds/home-timeline';
export const statement = (limit) =>
  pageQuery('?VIEWER?', skeletonOfQuery(HOME_TIMELINE_SQL, ['?VIEWER?', Number.MAX_SAFE_INTEGER, '', limit + 1], HOME_TIMELINE_FLOOR_SQL));
`;

/** `{ sql, params }` of a first home page of `limit` posts; the viewer's id is the string `?VIEWER?` in params. */
export async function homePageStatement(limit = 20) {
  const bundle = await build({
    stdin: { contents: ENTRY, resolveDir: process.cwd(), loader: 'ts' },
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'node',
    target: 'es2022',
    logLevel: 'error',
    plugins: [{ name: 'no-cloudflare', setup: (b) => b.onResolve({ filter: /^cloudflare:/ }, (args) => ({ path: args.path, external: true })) }],
  });
  const { statement } = await import(`data:text/javascript;base64,${Buffer.from(bundle.outputFiles[0].text).toString('base64')}`);
  return statement(limit);
}
