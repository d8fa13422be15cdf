// The OpenAPI document built from the source, in Node, with no server: esbuild bundles src/app.ts (the
// `cloudflare:*` modules replaced by stand-ins: only the Durable Object classes' base is needed to load
// it), and the app answers GET /openapi.json in-process. test/contract/snapshot.test.ts checks, inside
// workerd, that the worker serves the same document.
import { build } from 'esbuild';

const CLOUDFLARE_STUB = `
export class DurableObject { constructor(ctx, env) { this.ctx = ctx; this.env = env; } }
export class WorkerEntrypoint { constructor(ctx, env) { this.ctx = ctx; this.env = env; } }
export const env = {};
export const exports = {};
`;

/** The document the worker serves at /openapi.json, without `servers` (which names the origin). */
export async function documentFromSource() {
  const bundle = await build({
    entryPoints: ['src/app.ts'],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'node',
    target: 'es2022',
    conditions: ['workerd', 'worker', 'browser'],
    logLevel: 'error',
    plugins: [
      {
        name: 'cloudflare-modules',
        setup(b) {
          b.onResolve({ filter: /^cloudflare:/ }, (args) => ({ path: args.path, namespace: 'cloudflare' }));
          b.onLoad({ filter: /.*/, namespace: 'cloudflare' }, () => ({ contents: CLOUDFLARE_STUB, loader: 'js' }));
        },
      },
    ],
  });
  const { default: app } = await import(`data:text/javascript;base64,${Buffer.from(bundle.outputFiles[0].text).toString('base64')}`);
  // No binding is used to answer /openapi.json. Every request opens a D1 session (services middleware), so
  // the stand-in database hands out one that is never queried and has no bookmark to report.
  const session = { prepare: () => ({ first: async () => null }), batch: async () => [], getBookmark: () => null };
  const res = await app.request('http://127.0.0.1/openapi.json', {}, { DB: { withSession: () => session } });
  if (res.status !== 200) throw new Error(`GET /openapi.json answered ${res.status}: ${await res.text()}`);
  const { servers, ...doc } = await res.json();
  return doc;
}
