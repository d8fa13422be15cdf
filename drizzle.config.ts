import { defineConfig } from 'drizzle-kit';

// Generates SQL migrations from the TypeScript schema; wrangler applies them
// (`npm run db:migrate:local`) and the test setup reads the same folder.
export default defineConfig({
  dialect: 'sqlite',
  schema: './src/db/schema/index.ts',
  out: './migrations',
});
