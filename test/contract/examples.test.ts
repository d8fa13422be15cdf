import { describe, expect, it } from 'vitest';
import { contractValidator } from './validating-fetch';
import { isObject, pointer, type Json } from './validator';

/** Values that are data, not schemas or document structure: never walked into. */
const DATA_KEYS = new Set(['example', 'examples', 'enum', 'const', 'default']);

interface Example {
  /** Where the example sits, for the failure message. */
  at: string;
  /** The schema it illustrates (a pointer into the document). */
  schema: string;
  value: Json;
}

/** Every example in the document, with the schema it must satisfy. */
function collectExamples(node: Json, at: string[], found: Example[]): Example[] {
  if (Array.isArray(node)) {
    node.forEach((child, i) => collectExamples(child, [...at, String(i)], found));
    return found;
  }
  if (!isObject(node)) return found;
  // A media type, parameter or header illustrates its `schema`; anything else with an example is a schema.
  const schemaAt = 'schema' in node ? [...at, 'schema'] : at;
  const where = `/${at.join('/')}`;
  if ('example' in node) found.push({ at: `${where}/example`, schema: pointer(...schemaAt), value: node.example! });
  const examples = node.examples;
  if (Array.isArray(examples)) examples.forEach((value, i) => found.push({ at: `${where}/examples/${i}`, schema: pointer(...schemaAt), value }));
  else if (isObject(examples)) {
    for (const [name, example] of Object.entries(examples)) {
      if (isObject(example) && 'value' in example) found.push({ at: `${where}/examples/${name}`, schema: pointer(...schemaAt), value: example.value! });
    }
  }
  for (const [key, child] of Object.entries(node)) if (!DATA_KEYS.has(key)) collectExamples(child, [...at, key], found);
  return found;
}

describe('OpenAPI examples', () => {
  it('should each validate against the schema they illustrate (with undeclared keys refused)', async () => {
    const validator = await contractValidator();
    const examples = collectExamples(validator.doc, [], []);
    expect(examples.length).toBeGreaterThan(100);
    const problems = examples.flatMap(({ at, schema, value }) => validator.validate(schema, value, 'closed').map((p) => `${at}: ${p}`));
    expect(problems).toEqual([]);
  });
});
