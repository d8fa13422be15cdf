#!/usr/bin/env node
// `npm run contract:types`: builds the OpenAPI document from the source (no server, see
// lib/openapi-source.mjs) and writes what the contract tests and the typed client are built on:
//   test/contract/openapi.snapshot.json  the document (without `servers`, which names the origin)
//   packages/client/src/kith-api.ts      TypeScript types generated from it by openapi-typescript
// `npm test` fails while either is stale (`npm run client:check`, then test/contract/snapshot.test.ts
// against the document the worker serves); run this script after changing a route.
import { writeFileSync } from 'node:fs';
import { documentHash, renderTypes, SNAPSHOT, snapshotText, TYPES } from './lib/client-types.mjs';
import { documentFromSource } from './lib/openapi-source.mjs';

const doc = await documentFromSource();
writeFileSync(SNAPSHOT, snapshotText(doc));
writeFileSync(TYPES, await renderTypes(doc));
console.log(`Wrote ${SNAPSHOT} and ${TYPES} (document sha256 ${documentHash(doc).slice(0, 12)}…, ${Object.keys(doc.paths).length} paths).`);
