// Global setup of the node project: serves the worker as `wrangler dev` would (its static assets, the
// Scalar bundle under /docs/, included) on a free loopback port, once for the project's test files.
import type { TestProject } from 'vitest/node';
import { unstable_startWorker } from 'wrangler';

export default async function setup(project: TestProject) {
  const worker = await unstable_startWorker({
    config: 'wrangler.toml',
    dev: { server: { hostname: '127.0.0.1', port: 0 }, inspector: false, logLevel: 'warn', persist: false },
  });
  await worker.ready;
  project.provide('workerUrl', (await worker.url).origin);
  return () => worker.dispose();
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** The worker served by `wrangler dev` (unstable_startWorker) for the node project. */
    workerUrl: string;
  }
}
