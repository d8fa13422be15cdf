import type { D1Migration } from '@cloudflare/vitest-plugin';

declare global {
  namespace Cloudflare {
    interface Env {
      JWT_SECRET?: string;
      TEST_MIGRATIONS: D1Migration[];
    }
  }
}
