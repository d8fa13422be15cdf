import { applyD1Migrations } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { afterAll, afterEach } from 'vitest';
import { takeContractCounts } from './contract/validating-fetch';
import { emptyStorage } from './helpers/reset';

// The same migrations wrangler applies (migrations/), applied to the test database before each file
// (only the first file of a worker finds any to apply), then every row and stored object removed.
await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
await emptyStorage();

// Each test records how many exchanges the validating fetch checked; what hooks outside tests checked
// goes on the file. test/contract/reporter.ts adds them up for the run.
afterEach(({ task }) => {
  task.meta.contract = takeContractCounts();
});
afterAll(({}, suite) => {
  suite.meta.contract = takeContractCounts();
});
