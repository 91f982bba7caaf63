import { createAjv } from '../shared/ajv.js';

const ajv = createAjv({ strict: false, allErrors: true });

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
