import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-plugin';
import { defineConfig } from 'vitest/config';
import type { CoverageIstanbulOptions } from 'vitest/node';
import { generateVapidKeys } from './scripts/lib/vapid.mjs';

// Tests run inside workerd against real local D1, R2, Images and rate limiters (miniflare); nothing is mocked.
export default defineConfig(async () => {
  const migrations = await readD1Migrations('./migrations');
  // A fresh VAPID pair per run, as npm run dev makes one for local development.
  const vapid = generateVapidKeys();
  return {
    test: {
      reporters: ['default', './test/contract/reporter.ts'],
      // Instrumented (istanbul) coverage: v8 coverage does not work inside workerd. Off by default so a
      // single file runs fast (npm run vitest -- run test/x); npm test turns it on with --coverage, prints the
      // table and fails under the thresholds. Durable Objects run in the test isolate, so their code counts too.
      coverage: {
        provider: 'istanbul' as const,
        include: ['src/**/*.ts'],
        reporter: [['text', { skipFull: true, maxCols: 120 }], 'json-summary', 'json'],
        reportsDirectory: './coverage',
        thresholds: { lines: 90, branches: 85 },
      } satisfies CoverageIstanbulOptions & { provider: 'istanbul' },
      projects: [
        {
          plugins: [
            cloudflareTest({
              wrangler: { configPath: './wrangler.toml' },
              miniflare: {
                // Impressions wait up to a minute for a batch in production (wrangler.toml); tests count them in a second.
                queueConsumers: { 'kith-impressions': { maxBatchSize: 100, maxBatchTimeout: 1, maxRetries: 5, deadLetterQueue: 'kith-impressions-dlq' } },
                bindings: {
                  JWT_SECRET: 'test-secret-for-vitest-only-0123456789abcdef',
                  MFA_ENCRYPTION_KEY: 'test-mfa-key-for-vitest-only-0123456789abcdef',
                  TEST_MIGRATIONS: migrations,
                  // The fixture feed server listens on loopback (test/fixtures/feeds/server.ts).
                  NEWS_ALLOW_PRIVATE: 'true',
                  // Web Push to the local receiver (test/fixtures/push/receiver.ts, plain http on loopback),
                  // with short timeouts and retry delays so hanging and failing push services take seconds.
                  VAPID_PUBLIC_KEY: vapid.publicKey,
                  VAPID_PRIVATE_KEY: vapid.privateKey,
                  PUSH_ALLOW_HTTP: 'true',
                  PUSH_TIMEOUT_MS: '1000',
                  PUSH_RETRY_BASE_SECONDS: '1',
                  // Thousands of registrations: the suite hashes with 1,000 PBKDF2 rounds, production with 100,000.
                  PASSWORD_HASH_ITERATIONS: '1000',
                },
              },
            }),
          ],
          test: {
            name: 'workers',
            include: ['test/**/*.test.ts', 'packages/*/test/**/*.test.ts'],
            exclude: ['test/node/**'],
            setupFiles: ['./test/setup.ts'],
            globalSetup: ['./test/global-setup.ts'],
            testTimeout: 20_000,
            // One workerd per worker for the whole run instead of one per file: a fresh runtime, module graph and
            // migration pass per file was over half the suite's time. Files share D1, R2 and Durable Objects;
            // test/setup.ts empties D1 and R2 before each file, as a fresh runtime would.
            isolate: false,
          },
        },
        {
          // What needs Node rather than workerd: a real browser on /docs, and the OpenAPI lint. Both reach the
          // worker as `wrangler dev` serves it (static assets included), started once by the global setup.
          test: {
            name: 'node',
            include: ['test/node/**/*.test.ts'],
            environment: 'node',
            globalSetup: ['./test/node/serve-worker.ts'],
            testTimeout: 60_000,
            hookTimeout: 60_000,
          },
        },
      ],
    },
  };
});
