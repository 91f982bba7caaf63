import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';

/**
 * Two Ajv instances: bodies are validated strictly (no type coercion, no defaults injected, no
 * silent removal of unknown fields), while query strings and path params are coerced from
 * their string form.
 */
function makeAjv(coerce: boolean) {
  // biome-ignore lint/suspicious/noExplicitAny: ajv's CJS default export typing under NodeNext
  const AjvClass = (Ajv as any).default ?? Ajv;
  const ajv = new AjvClass({
    coerceTypes: coerce,
    useDefaults: false,
    removeAdditional: false,
    allErrors: false,
    strict: false,
  });
  // biome-ignore lint/suspicious/noExplicitAny: same as above
  ((addFormats as any).default ?? addFormats)(ajv);
  return ajv as import('ajv').default;
}

const bodyAjv = makeAjv(false);
const paramsAjv = makeAjv(true);

export const validatorCompiler: FastifySchemaCompiler<unknown> = ({ schema, httpPart }) => {
  const ajv = httpPart === 'body' ? bodyAjv : paramsAjv;
  return ajv.compile(schema as object);
};
