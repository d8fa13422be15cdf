import type { D1Migration } from '@cloudflare/vitest-plugin';

declare module 'vitest' {
  interface TaskMeta {
    /** Exchanges the validating fetch checked (test/contract/validating-fetch.ts). */
    contract?: { responses: number; requests: number; frames?: number };
  }
}

declare global {
  namespace Cloudflare {
    interface Env {
      JWT_SECRET?: string;
      // Set for every test file by test/setup.ts (the provider stand-ins).
      OIDC_ISSUER?: string;
      OIDC_CLIENT_ID?: string;
      GOOGLE_ISSUER?: string;
      GOOGLE_CLIENT_ID?: string;
      GITHUB_CLIENT_ID?: string;
      APPLE_KEY_ID?: string;
      PASSWORD_HASH_ITERATIONS?: string;
      TEST_MIGRATIONS: D1Migration[];
    }
  }
}
