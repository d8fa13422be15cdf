#!/usr/bin/env node
// `npm run client:check` (part of `npm test`, before vitest): builds the OpenAPI document from the source
// and the client's types from it, in memory, and fails when the committed snapshot
// (test/contract/openapi.snapshot.json) or the committed types (packages/client/src/kith-api.ts) differ,
// naming the first difference and the command that fixes it. It also loads the client in Node as it
// ships (TypeScript source, run without a build), so syntax Node cannot strip fails here too.
import { readFileSync } from 'node:fs';
import { REGENERATE, renderTypes, SNAPSHOT, snapshotText, TYPES } from './lib/client-types.mjs';
import { documentFromSource } from './lib/openapi-source.mjs';

const read = (file) => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
};

/** The first line where `committed` and `expected` differ, as a short report; null when they are equal. */
function difference(file, committed, expected) {
  if (committed === expected) return null;
  const want = expected.split('\n');
  const have = committed.split('\n');
  let line = 0;
  while (line < want.length && want[line] === have[line]) line += 1;
  return [
    `  ${file}, line ${line + 1}:`,
    `    committed: ${JSON.stringify(have[line] ?? '<end of file>').slice(0, 160)}`,
    `    generated: ${JSON.stringify(want[line] ?? '<end of file>').slice(0, 160)}`,
  ].join('\n');
}

const doc = await documentFromSource();
const stale = [difference(SNAPSHOT, read(SNAPSHOT), snapshotText(doc)), difference(TYPES, read(TYPES), await renderTypes(doc))].filter(Boolean);
if (stale.length > 0) {
  console.error(
    [
      'client:check: the committed OpenAPI snapshot or the typed client (@kith/client) is stale: the routes changed since they were generated.',
      ...stale,
      `  Fix: run \`${REGENERATE}\` and commit ${SNAPSHOT} and ${TYPES}.`,
    ].join('\n'),
  );
  process.exit(1);
}
const client = await import('@kith/client');
if (typeof client.createKithClient !== 'function') throw new Error('client:check: @kith/client does not export createKithClient');
console.log(`client:check: ${SNAPSHOT} and ${TYPES} match the routes (${Object.keys(doc.paths).length} paths); @kith/client loads in Node.`);
