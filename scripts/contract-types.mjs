#!/usr/bin/env node
// `npm run contract:types`: serves the worker locally (wrangler's startWorker), reads the document it
// serves at /openapi.json, and writes what the contract tests and the typed client are built on:
//   test/contract/openapi.snapshot.json  the document (without `servers`, which names the origin)
//   packages/client/src/kith-api.ts      TypeScript types generated from it by openapi-typescript
// test/contract/snapshot.test.ts fails when the snapshot is stale, and `npm run client:check` (in
// `npm test`) when the types are; run this script after changing a route.
import { writeFileSync } from 'node:fs';
import { unstable_startWorker } from 'wrangler';
import { documentHash, renderTypes, SNAPSHOT, TYPES } from './lib/client-types.mjs';

const worker = await unstable_startWorker({ config: 'wrangler.toml', dev: { server: { hostname: '127.0.0.1', port: 0 }, inspector: false, logLevel: 'warn' } });
let doc;
try {
  await worker.ready;
  const res = await worker.fetch('http://127.0.0.1/openapi.json');
  if (res.status !== 200) throw new Error(`GET /openapi.json answered ${res.status}: ${await res.text()}`);
  const { servers, ...served } = await res.json();
  doc = served;
} finally {
  await worker.dispose();
}

writeFileSync(SNAPSHOT, `${JSON.stringify(doc, null, 2)}\n`);
writeFileSync(TYPES, await renderTypes(doc));
console.log(`Wrote ${SNAPSHOT} and ${TYPES} (document sha256 ${documentHash(doc).slice(0, 12)}…, ${Object.keys(doc.paths).length} paths).`);
