import type { FastifyRequest, FastifySchemaCompiler } from 'fastify';
import { createAjv } from '../shared/ajv.js';
import { ApiError } from '../shared/api-error.js';
import { UNSTORABLE_TEXT } from '../shared/storable-text.js';

/**
 * Two Ajv instances: bodies are validated strictly (no type coercion, no defaults injected, no
 * silent removal of unknown fields), while query strings and path params are coerced from
 * their string form.
 */
function makeAjv(coerce: boolean) {
  return createAjv({
    coerceTypes: coerce,
    useDefaults: false,
    removeAdditional: false,
    allErrors: false,
    strict: false,
  });
}

const bodyAjv = makeAjv(false);
const paramsAjv = makeAjv(true);

export const validatorCompiler: FastifySchemaCompiler<unknown> = ({ schema, httpPart }) => {
  const ajv = httpPart === 'body' ? bodyAjv : paramsAjv;
  return ajv.compile(schema as object);
};

/** Deepest JSON nesting accepted in a request (objects and arrays). */
const MAX_JSON_DEPTH = 64;

interface Node {
  value: unknown;
  key: string;
  depth: number;
  parent: Node | undefined;
}

function pathOf(node: Node | undefined): string {
  const keys: string[] = [];
  for (let n = node; n?.parent; n = n.parent) keys.push(n.key);
  return keys.reverse().join('.');
}

function unstorableMessage(s: string): string {
  return s.includes('\u0000')
    ? 'contains a NUL character (\\u0000), which cannot be stored'
    : 'contains an unpaired UTF-16 surrogate, which is not valid Unicode';
}

/**
 * Finds, in a request's body, query string or path parameters, the first string (value or
 * object key) the database cannot store, or nesting deeper than `MAX_JSON_DEPTH`. Iterative, so
 * any depth is walked safely. Returns the problem with its field as a dotted path, or undefined.
 */
function unstorableInput(value: unknown): { field: string; message: string } | undefined {
  const stack: Node[] = [{ value, key: '', depth: 0, parent: undefined }];
  for (let node = stack.pop(); node; node = stack.pop()) {
    const v = node.value;
    if (typeof v === 'string') {
      if (UNSTORABLE_TEXT.test(v)) return { field: pathOf(node), message: unstorableMessage(v) };
      continue;
    }
    if (typeof v !== 'object' || v === null || ArrayBuffer.isView(v)) continue;
    if (node.depth >= MAX_JSON_DEPTH) {
      return { field: pathOf(node), message: `is nested more than ${MAX_JSON_DEPTH} levels deep` };
    }
    const isArray = Array.isArray(v);
    const keys = isArray ? undefined : Object.keys(v);
    const length = isArray ? v.length : (keys as string[]).length;
    for (let i = length - 1; i >= 0; i--) {
      const key = isArray ? String(i) : (keys?.[i] as string);
      if (!isArray && UNSTORABLE_TEXT.test(key)) {
        return { field: pathOf(node), message: `has a key that ${unstorableMessage(key)}` };
      }
      const child = isArray ? (v as unknown[])[i] : (v as Record<string, unknown>)[key];
      stack.push({ value: child, key, depth: node.depth + 1, parent: node });
    }
  }
  return undefined;
}

/**
 * A `preValidation` hook for every route: path parameters, query string and body must hold only
 * what the database can store (see `unstorableInput`); otherwise 400 naming the field.
 */
export async function rejectUnstorableInput(request: FastifyRequest): Promise<void> {
  const parts = [
    ['params', request.params],
    ['querystring', request.query],
    ['body', request.body],
  ] as const;
  for (const [part, value] of parts) {
    const problem = unstorableInput(value);
    if (!problem) continue;
    const name = problem.field || part;
    const shown = part === 'body' || !problem.field ? name : `${part}.${name}`;
    throw new ApiError(400, 'invalid_request', `${shown} ${problem.message}`, problem.field || undefined);
  }
}
