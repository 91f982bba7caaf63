/**
 * A small validator for the JSON Schema subset the server's event schemas use (TypeBox output:
 * type, properties, required, additionalProperties, patternProperties, const, anyOf, items and
 * the numeric, length and count bounds). The generator refuses a schema that uses any other
 * keyword, so what the server validates against is exactly what is checked here.
 *
 * Why not Ajv: it is 120 kB of runtime plus ajv-formats, and its standalone output still
 * imports runtime helpers; this subset is a page of code with no dependency.
 */
export interface JsonSchema {
  type?: string;
  properties?: Record<string, JsonSchema>;
  required?: readonly string[];
  additionalProperties?: boolean | JsonSchema;
  patternProperties?: Record<string, JsonSchema>;
  const?: unknown;
  anyOf?: readonly JsonSchema[];
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  uniqueItems?: boolean;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  minLength?: number;
  maxLength?: number;
  maxProperties?: number;
  pattern?: string;
  format?: string;
  [annotation: string]: unknown;
}

export interface SchemaIssue {
  /** JSON path of the offending value, e.g. `message.call.status`. */
  path: string;
  message: string;
}

const patterns = new Map<string, RegExp>();
function regex(source: string): RegExp {
  let re = patterns.get(source);
  if (!re) {
    re = new RegExp(source, 'u');
    patterns.set(source, re);
  }
  return re;
}

const DATE_TIME = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function join(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path ? `${path}.${key}` : key;
}

function checkType(type: string, value: unknown): boolean {
  switch (type) {
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value);
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'object':
      return typeof value === 'object' && value !== null && !Array.isArray(value);
    default:
      return typeOf(value) === type;
  }
}

export interface ValidateOptions {
  /** Most issues reported; default 20. */
  limit?: number;
  /** Accept properties that `additionalProperties: false` refuses (forward compatibility). */
  allowUnknownProperties?: boolean;
}

/** Validates `value`; returns the issues found, empty when it conforms. */
export function validate(schema: JsonSchema, value: unknown, options: ValidateOptions = {}): SchemaIssue[] {
  const issues: SchemaIssue[] = [];
  walk(schema, value, '', issues, options.limit ?? 20, options.allowUnknownProperties ?? false);
  return issues;
}

function walk(
  schema: JsonSchema,
  value: unknown,
  path: string,
  out: SchemaIssue[],
  limit: number,
  lax: boolean,
): void {
  if (out.length >= limit) return;
  const fail = (message: string) => out.push({ path: path || '(root)', message });
  if ('const' in schema && value !== schema.const) {
    return void fail(`must be ${JSON.stringify(schema.const)}, got ${JSON.stringify(value)}`);
  }
  if (schema.anyOf) {
    const passes = (s: JsonSchema) => {
      const probe: SchemaIssue[] = [];
      walk(s, value, path, probe, 1, lax);
      return probe.length === 0;
    };
    if (!schema.anyOf.some(passes)) {
      const consts = schema.anyOf.filter((s) => 'const' in s).map((s) => JSON.stringify(s.const));
      fail(
        consts.length === schema.anyOf.length
          ? `must be one of ${consts.join(', ')}, got ${JSON.stringify(value)}`
          : 'matches none of the allowed shapes',
      );
    }
    return;
  }
  if (schema.type && !checkType(schema.type, value))
    return void fail(`must be ${schema.type}, got ${typeOf(value)}`);
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) fail(`must be >= ${schema.minimum}`);
    if (schema.maximum !== undefined && value > schema.maximum) fail(`must be <= ${schema.maximum}`);
    if (schema.exclusiveMinimum !== undefined && value <= schema.exclusiveMinimum) {
      fail(`must be > ${schema.exclusiveMinimum}`);
    }
  } else if (typeof value === 'string') {
    const length = [...value].length;
    if (schema.minLength !== undefined && length < schema.minLength)
      fail(`must have at least ${schema.minLength} characters`);
    if (schema.maxLength !== undefined && length > schema.maxLength)
      fail(`must have at most ${schema.maxLength} characters`);
    if (schema.pattern !== undefined && !regex(schema.pattern).test(value))
      fail(`must match ${schema.pattern}`);
    if (schema.format === 'date-time' && !DATE_TIME.test(value)) fail('must be an ISO-8601 date-time');
  } else if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems)
      fail(`must have at least ${schema.minItems} items`);
    if (schema.maxItems !== undefined && value.length > schema.maxItems)
      fail(`must have at most ${schema.maxItems} items`);
    if (schema.uniqueItems && new Set(value.map((v) => JSON.stringify(v))).size !== value.length) {
      fail('must not repeat items');
    }
    const items = schema.items;
    if (items) {
      value.forEach((v, i) => {
        walk(items, v, join(path, i), out, limit, lax);
      });
    }
  } else if (typeof value === 'object' && value !== null) {
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record);
    if (schema.maxProperties !== undefined && keys.length > schema.maxProperties) {
      fail(`must have at most ${schema.maxProperties} properties`);
    }
    for (const key of schema.required ?? []) {
      if (record[key] === undefined) out.push({ path: join(path, key), message: 'is required' });
    }
    const patternEntries = Object.entries(schema.patternProperties ?? {});
    for (const key of keys) {
      const at = join(path, key);
      const prop =
        schema.properties && Object.hasOwn(schema.properties, key) ? schema.properties[key] : undefined;
      if (prop) {
        walk(prop, record[key], at, out, limit, lax);
        continue;
      }
      const matched = patternEntries.filter(([p]) => regex(p).test(key));
      for (const [, s] of matched) walk(s, record[key], at, out, limit, lax);
      if (matched.length > 0) continue;
      if (schema.additionalProperties === false) {
        if (!lax) out.push({ path: at, message: 'is not an allowed property' });
      } else if (typeof schema.additionalProperties === 'object')
        walk(schema.additionalProperties, record[key], at, out, limit, lax);
    }
  }
}
