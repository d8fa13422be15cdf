import { it } from 'vitest';
import { call } from '../helpers/client';
it('dump', async () => { const r = await call('/openapi.json'); const t = await r.text(); console.log('DUMPSTART' + t); });
