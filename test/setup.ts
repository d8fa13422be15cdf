import { applyD1Migrations } from 'cloudflare:test';
import { env } from 'cloudflare:workers';

// The same migrations wrangler applies (migrations/), applied to the test database before each file.
await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
