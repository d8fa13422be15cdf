import { it } from 'vitest';
import { env } from 'cloudflare:workers';
import { call } from '../helpers/client';
it('dump', async () => { const r = await call('/openapi.json'); const t = await r.text(); await env.DB.exec("CREATE TABLE IF NOT EXISTS zz_dump (t TEXT)"); console.log('LEN', t.length); console.log('DUMPSTART' + t.slice(0, 200)); });
