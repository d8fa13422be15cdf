import { scrubOriginals } from '../modules/media/media-scrub';
import type { Bindings } from '../lib/types';

/**
 * A maintenance worker that `npm run media:scrub` runs with `wrangler dev` on 127.0.0.1 (never deployed),
 * bound to the same D1, R2 and Images as Kith: local ones by default, production ones with `--remote`.
 * `POST /scrub?cursor=&limit=` scrubs one batch and answers its report.
 */
export default {
  async fetch(request: Request, env: Bindings): Promise<Response> {
    const url = new URL(request.url);
    if (request.method !== 'POST' || url.pathname !== '/scrub') return new Response('POST /scrub', { status: 404 });
    const limit = Math.min(1000, Math.max(1, Number(url.searchParams.get('limit') ?? 100) || 100));
    const report = await scrubOriginals(env, { cursor: url.searchParams.get('cursor') ?? undefined, limit });
    return Response.json(report);
  },
};
