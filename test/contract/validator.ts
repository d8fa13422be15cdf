import Ajv2020, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';

/**
 * Checks requests and responses against an OpenAPI 3.1 document: the operation (method + path
 * template), the status, the media type, required headers, and JSON bodies and parameters against
 * their schemas. Undeclared object keys are errors: the schemas are validated as if every object
 * were closed (`unevaluatedProperties: false`, unless it says otherwise), without changing what the
 * document tells clients.
 *
 * ajv compiles schemas to JavaScript with `new Function`. Production workerd forbids that, but the
 * vitest pool's workerd allows it (its module runner evaluates code the same way), and this code only
 * ever runs in tests; each schema is compiled on first use and cached.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
/** The closed copy (responses: undeclared keys are errors) and the document as written (requests). */
const CLOSED_ID = 'kith:openapi:closed';
const AS_WRITTEN_ID = 'kith:openapi';
export type SchemaMode = 'closed' | 'as-written';
const OPEN_SUFFIX = '__open';

const isObject = (value: Json | undefined): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value);

const SCHEMA_MAPS = ['properties', 'patternProperties', 'dependentSchemas', '$defs'];
const SCHEMA_LISTS = ['allOf', 'anyOf', 'oneOf', 'prefixItems'];
const SCHEMA_VALUES = ['items', 'additionalProperties', 'unevaluatedProperties', 'unevaluatedItems', 'contains', 'propertyNames', 'not', 'if', 'then', 'else'];

/**
 * A copy of a schema in which every object schema that leaves extra keys unsaid forbids them. The
 * members of an `allOf` stay open at their top (their parent closes them together), and a `$ref`
 * there points at the open variant of its component.
 */
export function closeSchema(schema: Json, inAllOf = false): Json {
  if (!isObject(schema)) return schema;
  const out: JsonObject = { ...schema };
  for (const key of SCHEMA_MAPS) {
    const map = schema[key];
    if (isObject(map)) out[key] = Object.fromEntries(Object.entries(map).map(([k, v]) => [k, closeSchema(v)]));
  }
  for (const key of SCHEMA_LISTS) {
    const list = schema[key];
    if (Array.isArray(list)) out[key] = list.map((member) => closeSchema(member, key === 'allOf'));
  }
  for (const key of SCHEMA_VALUES) if (key in schema) out[key] = closeSchema(schema[key]!);
  if (inAllOf && typeof out.$ref === 'string' && out.$ref.startsWith('#/components/schemas/')) out.$ref += OPEN_SUFFIX;
  const objectLike = 'properties' in schema || 'allOf' in schema;
  if (objectLike && !inAllOf && !('additionalProperties' in schema) && !('unevaluatedProperties' in schema)) out.unevaluatedProperties = false;
  return out;
}

/** Escapes one JSON-pointer segment for use in a `$ref` URI fragment. */
const segment = (part: string) => encodeURIComponent(part.replaceAll('~', '~0').replaceAll('/', '~1'));
/** A URI fragment pointing into the document (`#/paths/...`). */
export const pointer = (...parts: string[]) => `#/${parts.map(segment).join('/')}`;

/** The validation copy of the document: the same, with closed schemas everywhere a schema sits. */
function closedDocument(doc: JsonObject): JsonObject {
  const copy = JSON.parse(JSON.stringify(doc)) as JsonObject;
  const components = isObject(copy.components) ? copy.components : {};
  const schemas = isObject(components.schemas) ? components.schemas : {};
  for (const [name, schema] of Object.entries(schemas)) {
    schemas[name] = closeSchema(schema);
    schemas[name + OPEN_SUFFIX] = closeSchema(schema, true);
  }
  const closeIn = (holder: Json | undefined) => {
    if (isObject(holder) && 'schema' in holder) holder.schema = closeSchema(holder.schema!);
  };
  const closeContent = (holder: Json | undefined) => {
    if (isObject(holder) && isObject(holder.content)) Object.values(holder.content).forEach(closeIn);
    if (isObject(holder) && isObject(holder.headers)) Object.values(holder.headers).forEach(closeIn);
  };
  for (const kind of ['headers', 'parameters']) if (isObject(components[kind])) Object.values(components[kind]).forEach(closeIn);
  if (isObject(components.responses)) Object.values(components.responses).forEach(closeContent);
  for (const item of Object.values(isObject(copy.paths) ? copy.paths : {})) {
    if (!isObject(item)) continue;
    if (Array.isArray(item.parameters)) item.parameters.forEach(closeIn);
    for (const method of METHODS) {
      const op = item[method];
      if (!isObject(op)) continue;
      if (Array.isArray(op.parameters)) op.parameters.forEach(closeIn);
      closeContent(op.requestBody);
      if (isObject(op.responses)) Object.values(op.responses).forEach(closeContent);
    }
  }
  return copy;
}

export interface MatchedOperation {
  method: string;
  template: string;
  operation: JsonObject;
  /** Raw (still percent-encoded) path parameter values. */
  pathParams: Record<string, string>;
  label: string;
}

interface Template {
  template: string;
  regex: RegExp;
  names: string[];
  /** Literal segments sort before templated ones, as OpenAPI asks (`/communities/eligible` before `/communities/{id}`). */
  rank: string;
}

/** One failure: where in the document, and what the validator said. */
export class ContractError extends Error {
  constructor(where: string, problems: string[]) {
    super(`contract violation: ${where}\n  - ${problems.join('\n  - ')}`);
    this.name = 'ContractError';
  }
}

function describeErrors(errors: ErrorObject[] | null | undefined): string[] {
  return (errors ?? []).map((e) => {
    const extra = e.keyword === 'unevaluatedProperties' ? ` "${String((e.params as { unevaluatedProperty?: string }).unevaluatedProperty)}" (not declared)` : '';
    const allowed = e.keyword === 'enum' ? ` ${JSON.stringify((e.params as { allowedValues?: unknown }).allowedValues)}` : '';
    return `${e.instancePath || '(root)'} ${e.message ?? e.keyword}${extra}${allowed} [${e.schemaPath}]`;
  });
}

/** Turns a query, path or header string into the type its schema asks for, as a server would. */
function coerce(value: string, schema: JsonObject | undefined): Json {
  const type = schema?.type;
  const types = Array.isArray(type) ? type : [type];
  if ((types.includes('integer') || types.includes('number')) && value.trim() !== '' && !Number.isNaN(Number(value))) return Number(value);
  if (types.includes('boolean') && (value === 'true' || value === 'false')) return value === 'true';
  return value;
}

export class ContractValidator {
  private readonly ajv: Ajv2020;
  private readonly templates: Template[];
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor(readonly doc: JsonObject) {
    this.ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false, allowUnionTypes: true });
    addFormats(this.ajv);
    this.ajv.addSchema(closedDocument(doc), CLOSED_ID);
    this.ajv.addSchema(doc, AS_WRITTEN_ID);
    this.templates = Object.keys(isObject(doc.paths) ? doc.paths : {})
      .map((template) => {
        const parts = template.split('/');
        const names: string[] = [];
        const source = parts
          .map((part) => {
            const m = /^\{([^}]+)\}$/.exec(part);
            if (!m) return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
            names.push(m[1]!);
            return '([^/]+)';
          })
          .join('/');
        return { template, regex: new RegExp(`^${source}/?$`), names, rank: parts.map((p) => (p.startsWith('{') ? '1' : '0')).join('') };
      })
      .sort((a, b) => a.rank.localeCompare(b.rank));
  }

  /** Follows `$ref`s to `#/...` until a concrete object. */
  deref(value: Json | undefined): JsonObject | undefined {
    let current = value;
    for (let i = 0; isObject(current) && typeof current.$ref === 'string' && i < 20; i++) {
      current = current.$ref
        .slice(2)
        .split('/')
        .map((p) => p.replaceAll('~1', '/').replaceAll('~0', '~'))
        .reduce<Json | undefined>((node, key) => (isObject(node) ? node[key] : undefined), this.doc);
    }
    return isObject(current) ? current : undefined;
  }

  /** The path templates a concrete path matches, most specific first. */
  templatesFor(pathname: string): Template[] {
    return this.templates.filter((t) => t.regex.test(pathname));
  }

  /** The operation for a method and concrete path; HEAD falls back to GET as servers do. */
  findOperation(method: string, pathname: string): MatchedOperation | undefined {
    const lower = method.toLowerCase();
    for (const t of this.templatesFor(pathname)) {
      const item = (this.doc.paths as JsonObject)[t.template] as JsonObject;
      const key = isObject(item[lower]) ? lower : lower === 'head' && isObject(item.get) ? 'get' : undefined;
      if (!key) continue;
      const values = t.regex.exec(pathname)!.slice(1);
      const pathParams = Object.fromEntries(t.names.map((n, i) => [n, values[i]!]));
      return { method: key, template: t.template, operation: item[key] as JsonObject, pathParams, label: `${key.toUpperCase()} ${t.template}` };
    }
    return undefined;
  }

  /** A compiled validator for the schema at `ref` (a `#/...` pointer), made once per mode. */
  validatorFor(ref: string, mode: SchemaMode): ValidateFunction {
    const uri = `${mode === 'closed' ? CLOSED_ID : AS_WRITTEN_ID}${ref}`;
    let fn = this.compiled.get(uri);
    if (!fn) {
      fn = this.ajv.compile({ $ref: uri });
      this.compiled.set(uri, fn);
    }
    return fn;
  }

  /**
   * Validates a value against the schema at `ref`; returns the problems (empty when valid). Responses
   * are checked `closed`; requests `as-written`, as the document tells clients what they may send.
   */
  validate(ref: string, value: unknown, mode: SchemaMode): string[] {
    const fn = this.validatorFor(ref, mode);
    return fn(value) ? [] : describeErrors(fn.errors);
  }

  /** The parameters of an operation (path-item ones first, the operation's own win), dereferenced. */
  parameters(match: MatchedOperation): { param: JsonObject; ref: string }[] {
    const item = (this.doc.paths as JsonObject)[match.template] as JsonObject;
    const found = new Map<string, { param: JsonObject; ref: string }>();
    const collect = (list: Json | undefined, ...at: string[]) => {
      if (!Array.isArray(list)) return;
      list.forEach((raw, i) => {
        const param = this.deref(raw);
        if (!param) return;
        const ref = isObject(raw) && typeof raw.$ref === 'string' ? `${raw.$ref}/schema` : pointer('paths', match.template, ...at, String(i), 'schema');
        found.set(`${String(param.in)}:${String(param.name)}`, { param, ref });
      });
    };
    collect(item.parameters, 'parameters');
    collect(match.operation.parameters, match.method, 'parameters');
    return [...found.values()];
  }

  /**
   * Checks the parameters sent in one location against the operation's. Undeclared query parameters
   * are not errors: the document does not close the query, and the worker ignores them.
   */
  checkParameters(match: MatchedOperation, location: 'path' | 'query', values: Map<string, string[]>): string[] {
    const problems: string[] = [];
    const declared = this.parameters(match).filter(({ param }) => param.in === location);
    for (const { param, ref } of declared) {
      const name = String(param.name);
      const raw = values.get(name);
      if (!raw) {
        if (param.required === true) problems.push(`required ${location} parameter "${name}" is missing`);
        continue;
      }
      const schema = this.deref(param.schema);
      const isArray = schema?.type === 'array';
      const value = isArray ? raw.map((v) => coerce(v, this.deref(schema?.items))) : coerce(raw[raw.length - 1]!, schema);
      if (!isArray && raw.length > 1) problems.push(`${location} parameter "${name}" is sent ${raw.length} times`);
      problems.push(...this.validate(ref, value, 'as-written').map((p) => `${location} parameter "${name}": ${p}`));
    }
    return problems;
  }
}

/**
 * The media-type key of a content map that a concrete type matches (`image/*` matches `image/png`).
 * For requests, a `+json` type matches `application/json` (RFC 6839), as the worker's JSON reader accepts it.
 */
export function matchMediaType(content: JsonObject | undefined, contentType: string | null, suffixes = false): string | undefined {
  if (!content || !contentType) return undefined;
  const essence = contentType.split(';')[0]!.trim().toLowerCase();
  const keys = Object.keys(content);
  return (
    keys.find((k) => k.toLowerCase() === essence) ??
    keys.find((k) => k.endsWith('/*') && essence.startsWith(k.slice(0, -1).toLowerCase())) ??
    keys.find((k) => k === '*/*') ??
    (suffixes && /^application\/[\w.-]+\+json$/.test(essence) ? keys.find((k) => k === 'application/json') : undefined)
  );
}

export const isJsonMediaType = (type: string) => /^application\/(?:[\w.+-]+\+)?json$/i.test(type.split(';')[0]!.trim());

export { coerce, isObject, type Json, type JsonObject };
