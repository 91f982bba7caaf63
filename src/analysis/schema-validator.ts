import Ajv from 'ajv';
import addFormats from 'ajv-formats';

// biome-ignore lint/suspicious/noExplicitAny: ajv's CJS default export under NodeNext
const AjvClass = ((Ajv as any).default ?? Ajv) as typeof Ajv.default;
const ajv = new AjvClass({ strict: false, allErrors: true });
// biome-ignore lint/suspicious/noExplicitAny: same
((addFormats as any).default ?? addFormats)(ajv);

const compiled = new WeakMap<object, ReturnType<typeof ajv.compile>>();

/** Validates `data` against a JSON Schema; returns the errors as text, or undefined when valid. */
export function schemaErrors(schema: Record<string, unknown>, data: unknown): string | undefined {
  let validate = compiled.get(schema);
  if (!validate) {
    try {
      validate = ajv.compile(schema);
    } catch (error) {
      return `the structured-data schema is not a valid JSON Schema: ${(error as Error).message}`;
    }
    compiled.set(schema, validate);
  }
  return validate(data) ? undefined : ajv.errorsText(validate.errors, { dataVar: 'data' });
}
