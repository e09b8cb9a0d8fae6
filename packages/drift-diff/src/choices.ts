/**
 * The CLI's choices as plain lists, apart from the zod schemas, so that parsing the arguments
 * (and `--help`) does not load zod.
 */

/** Every kind of catalog object the diff reports, and the expectation can count or forbid. */
export const OBJECT_KINDS = [
  "schema",
  "table",
  "column",
  "default",
  "identity",
  "primary_key",
  "foreign_key",
  "unique",
  "check",
  "exclusion",
  "index",
  "trigger",
  "view",
  "materialized_view",
  "sequence",
  "enum",
  "domain",
  "composite_type",
  "function",
  "procedure",
  "extension",
  "privilege",
  "ownership",
  "row_security",
  "role",
] as const;
export type ObjectKind = (typeof OBJECT_KINDS)[number];

/** Output formats of the drift-diff command. */
export const FORMATS = ["json", "text", "markdown"] as const;
export type Format = (typeof FORMATS)[number];
