#!/usr/bin/env node
// `npm run client:check` (part of `npm test`): regenerates the typed client's types in memory from the
// committed document snapshot and fails when packages/client/src/kith-api.ts differs. (Whether the
// snapshot is the document the worker serves is test/contract/snapshot.test.ts's job, in the same run.)
import { readFileSync } from 'node:fs';
import { REGENERATE, renderTypes, SNAPSHOT, TYPES } from './lib/client-types.mjs';

const expected = await renderTypes(JSON.parse(readFileSync(SNAPSHOT, 'utf8')));
let committed = '';
try {
  committed = readFileSync(TYPES, 'utf8');
} catch {
  // missing: reported below like any other difference
}
if (committed !== expected) {
  const want = expected.split('\n');
  const have = committed.split('\n');
  let line = 0;
  while (line < want.length && want[line] === have[line]) line += 1;
  console.error(
    [
      `client:check: ${TYPES} is stale: it is not what openapi-typescript generates from ${SNAPSHOT}.`,
      `  first difference at line ${line + 1}:`,
      `    committed: ${JSON.stringify(have[line] ?? '<end of file>').slice(0, 160)}`,
      `    generated: ${JSON.stringify(want[line] ?? '<end of file>').slice(0, 160)}`,
      `  Fix: run \`${REGENERATE}\` and commit ${SNAPSHOT} and ${TYPES}.`,
    ].join('\n'),
  );
  process.exit(1);
}
console.log(`client:check: ${TYPES} matches ${SNAPSHOT}.`);
