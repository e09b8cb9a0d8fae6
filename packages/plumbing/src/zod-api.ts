/**
 * The part of zod the dieu44 packages use, as `z` in ./zod.ts. Every type of zod's is here (so
 * that `z.infer` and declaration files name what they need); of its values, only these.
 * The build bundles them alone: the rest of zod (its sixty locales, JSON Schema import, codecs,
 * ...) is not loaded at all. A value missing here is a type error where it is used: add it.
 */
export type * from "zod";
export {
  array,
  boolean,
  enum,
  iso,
  json,
  literal,
  number,
  object,
  partialRecord,
  record,
  strictObject,
  string,
  toJSONSchema,
  union,
  ZodArray,
} from "zod";
