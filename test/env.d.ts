import type { D1Migration } from '@cloudflare/vitest-plugin';

declare module 'vitest' {
  interface TaskMeta {
    /** Exchanges the validating fetch checked (test/contract/validating-fetch.ts). */
    contract?: { responses: number; requests: number };
  }
}

declare global {
  namespace Cloudflare {
    interface Env {
      JWT_SECRET?: string;
      PASSWORD_HASH_ITERATIONS?: string;
      TEST_MIGRATIONS: D1Migration[];
    }
  }
}
