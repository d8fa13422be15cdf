import { createRequire } from 'node:module';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { describe, expect, inject, it } from 'vitest';

/**
 * /asyncapi.json against the official AsyncAPI 3.0.0 JSON Schema (`@asyncapi/specs`, the schema the
 * AsyncAPI parser and Studio validate with), so tools that read the document accept it. The socket tests
 * already hold every frame to the document (test/contract/validating-socket.ts); this holds the
 * document to the specification.
 */

const require = createRequire(import.meta.url);
const specs = require('@asyncapi/specs') as { schemas: Record<string, object> };

// The bundled schema carries its own copy of the draft-07 meta-schema (same $id as Ajv's built-in one),
// so Ajv's is left out, as the AsyncAPI parser does.
const ajv = new Ajv({ allErrors: true, strict: false, meta: false, validateSchema: false });
addFormats(ajv);
const validate = ajv.compile(specs.schemas['3.0.0']!);

type Doc = Record<string, any>;

function problems(doc: Doc): string[] {
  return validate(doc) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '(root)'} ${e.message}`);
}

describe('AsyncAPI document against the AsyncAPI 3.0.0 schema', () => {
  it('should be a valid AsyncAPI 3.0.0 document', async () => {
    const res = await fetch(`${inject('workerUrl')}/asyncapi.json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as Doc;
    expect(doc.asyncapi).toBe('3.0.0');
    expect(problems(doc)).toEqual([]);

    // The check can fail: the same document with an operation of an unknown action, or without its info.
    const operation = Object.keys(doc.operations)[0]!;
    const broken = structuredClone(doc);
    broken.operations[operation].action = 'publish';
    expect(problems(broken).join('\n')).toContain(`/operations/${operation}/action`);
    const { info: _info, ...noInfo } = doc;
    expect(problems(noInfo)).toContain("(root) must have required property 'info'");
  });
});
