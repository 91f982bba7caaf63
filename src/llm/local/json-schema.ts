import type { GbnfJsonSchema } from 'node-llama-cpp';
import type { LlmToolDefinition } from '../llm.js';

/**
 * Tool parameter schemas (any JSON Schema a tenant wrote) as the subset node-llama-cpp turns
 * into a grammar. Hand-written because node-llama-cpp accepts only its own subset and throws on
 * the rest: `anyOf` becomes `oneOf`, `definitions` become `$defs`, type lists split into
 * alternatives, and keywords a grammar cannot enforce (patterns, numeric ranges) are dropped:
 * the engine still validates the arguments against the real schema.
 *
 * Objects without `additionalProperties` get none (a grammar that allows any extra key lets a
 * small model ramble); a schema that says nothing (`{}`) allows any JSON value.
 */
type Json = Record<string, unknown>;

const IMMUTABLE = new Set(['string', 'number', 'integer', 'boolean', 'null']);
const DATE_FORMATS = new Set(['date-time', 'time', 'date']);
const MAX_DEPTH = 32;

const anyJson = (): GbnfJsonSchema => ({
  oneOf: [
    { type: ['string', 'number', 'boolean', 'null'] },
    { type: 'array' },
    { type: 'object', additionalProperties: true },
  ],
});

export function toGrammarSchema(schema: unknown, depth = 0): GbnfJsonSchema {
  if (depth > MAX_DEPTH || typeof schema !== 'object' || schema === null || Array.isArray(schema))
    return anyJson();
  const s = schema as Json;
  const description = typeof s.description === 'string' ? { description: s.description } : {};
  const defs = defsOf(s, depth);
  if ('const' in s && isScalar(s.const)) return { const: s.const, ...description };
  if (Array.isArray(s.enum) && s.enum.length > 0 && s.enum.every(isScalar)) {
    return { enum: s.enum as (string | number | boolean | null)[], ...description };
  }
  if (typeof s.$ref === 'string') {
    const ref = s.$ref.replace(/^#\/definitions\//, '#/$defs/');
    if (ref.startsWith('#/$defs/')) return { $ref: ref, ...defs } as GbnfJsonSchema;
    return anyJson();
  }
  const alternatives = Array.isArray(s.oneOf) ? s.oneOf : Array.isArray(s.anyOf) ? s.anyOf : undefined;
  if (alternatives && alternatives.length > 0) {
    return { oneOf: alternatives.map((a) => toGrammarSchema(a, depth + 1)), ...description, ...defs };
  }
  if (Array.isArray(s.type)) {
    const types = s.type.filter((t): t is string => typeof t === 'string');
    if (types.length > 0 && types.every((t) => IMMUTABLE.has(t))) {
      return { type: types as ('string' | 'number' | 'integer' | 'boolean' | 'null')[], ...description };
    }
    return {
      oneOf: types.map((type) => toGrammarSchema({ ...s, type }, depth + 1)),
      ...description,
      ...defs,
    };
  }
  switch (s.type) {
    case 'string': {
      if (typeof s.format === 'string' && DATE_FORMATS.has(s.format)) {
        return { type: 'string', format: s.format as 'date-time' | 'time' | 'date', ...description };
      }
      return {
        type: 'string',
        ...(isCount(s.minLength) ? { minLength: s.minLength } : {}),
        ...(isCount(s.maxLength) ? { maxLength: s.maxLength } : {}),
        ...description,
      };
    }
    case 'number':
    case 'integer':
    case 'boolean':
    case 'null':
      return { type: s.type, ...description };
    case 'array':
      return {
        type: 'array',
        ...(s.items !== undefined && !Array.isArray(s.items)
          ? { items: toGrammarSchema(s.items, depth + 1) }
          : {}),
        ...(Array.isArray(s.prefixItems)
          ? { prefixItems: s.prefixItems.map((p) => toGrammarSchema(p, depth + 1)) }
          : {}),
        ...(isCount(s.minItems) ? { minItems: s.minItems } : {}),
        ...(isCount(s.maxItems) ? { maxItems: s.maxItems } : {}),
        ...description,
        ...defs,
      };
    case 'object':
      return objectSchema(s, depth, description, defs);
    default:
      if (typeof s.properties === 'object' && s.properties !== null)
        return objectSchema(s, depth, description, defs);
      return anyJson();
  }
}

function objectSchema(s: Json, depth: number, description: object, defs: object): GbnfJsonSchema {
  const properties: Record<string, GbnfJsonSchema> = {};
  if (typeof s.properties === 'object' && s.properties !== null && !Array.isArray(s.properties)) {
    for (const [key, value] of Object.entries(s.properties))
      properties[key] = toGrammarSchema(value, depth + 1);
  }
  const required = Array.isArray(s.required)
    ? s.required.filter((r): r is string => typeof r === 'string' && r in properties)
    : [];
  const additional =
    s.additionalProperties === true
      ? true
      : typeof s.additionalProperties === 'object' && s.additionalProperties !== null
        ? toGrammarSchema(s.additionalProperties, depth + 1)
        : false;
  return {
    type: 'object',
    properties,
    required,
    additionalProperties: additional,
    ...(isCount(s.minProperties) ? { minProperties: s.minProperties } : {}),
    ...(isCount(s.maxProperties) ? { maxProperties: s.maxProperties } : {}),
    ...description,
    ...defs,
  } as GbnfJsonSchema;
}

function defsOf(s: Json, depth: number): { $defs?: Record<string, GbnfJsonSchema> } {
  const source = (s.$defs ?? s.definitions) as unknown;
  if (typeof source !== 'object' || source === null || Array.isArray(source)) return {};
  const $defs: Record<string, GbnfJsonSchema> = {};
  for (const [key, value] of Object.entries(source)) $defs[key] = toGrammarSchema(value, depth + 1);
  return { $defs };
}

function isScalar(v: unknown): v is string | number | boolean | null {
  return v === null || ['string', 'number', 'boolean'].includes(typeof v);
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0;
}

/**
 * The grammar schema of a forced tool call: `{"name": <one tool>, "arguments": <its schema>}`.
 */
export function toolCallSchema(tools: readonly LlmToolDefinition[]): GbnfJsonSchema {
  const variants: GbnfJsonSchema[] = tools.map((tool) => ({
    type: 'object',
    properties: { name: { const: tool.name }, arguments: toGrammarSchema(tool.parameters) },
    required: ['name', 'arguments'],
    additionalProperties: false,
  }));
  return variants.length === 1 ? (variants[0] as GbnfJsonSchema) : { oneOf: variants };
}
