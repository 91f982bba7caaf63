/**
 * One Ajv with the `ajv-formats` formats, for the request validator (http/validation.ts) and
 * the JSON Schemas users give (analysis, assistant-request replies). Both packages are
 * CommonJS: under NodeNext the default import is `module.exports`, and each sets `.default` on
 * it to itself (the class, the plugin), which is what is typed; so `.default` is used, no cast.
 */
import AjvModule, { type Options } from 'ajv';
import formatsModule from 'ajv-formats';

export type Ajv = InstanceType<typeof AjvModule.default>;

export function createAjv(options: Options): Ajv {
  const ajv = new AjvModule.default(options);
  formatsModule.default(ajv);
  return ajv;
}
