import type { Reporter, TestModule } from 'vitest/node';

/**
 * Prints how many HTTP exchanges the validating fetch (and socket frames the socket watcher) checked in the run (test/setup.ts puts each
 * test's and each file's count in its meta): the closing number of `npm test`.
 */
export default class ContractReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    let responses = 0;
    let requests = 0;
    let frames = 0;
    const add = (meta: { contract?: { responses: number; requests: number; frames?: number } }) => {
      responses += meta.contract?.responses ?? 0;
      requests += meta.contract?.requests ?? 0;
      frames += meta.contract?.frames ?? 0;
    };
    for (const testModule of testModules) {
      add(testModule.meta());
      for (const test of testModule.children.allTests()) add(test.meta());
    }
    console.log(`\n Contract  ${responses} responses and ${requests} successful requests validated against /openapi.json, ${frames} socket frames against /asyncapi.json\n`);
  }
}
