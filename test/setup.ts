import { applyD1Migrations } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { afterAll, afterEach } from 'vitest';
import { takeContractCounts } from './contract/validating-fetch';

// The same migrations wrangler applies (migrations/), applied to the test database before each file.
await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);

// Each test records how many exchanges the validating fetch checked; what hooks outside tests checked
// goes on the file. test/contract/reporter.ts adds them up for the run.
afterEach(({ task }) => {
  task.meta.contract = takeContractCounts();
});
afterAll(({}, suite) => {
  suite.meta.contract = takeContractCounts();
});
