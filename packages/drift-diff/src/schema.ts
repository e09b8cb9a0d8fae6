/**
 * Documents of @dieu44/drift-diff. The expected-delta spec is shared: sql-lint emits it from an
 * artifact (`--emit-expect`), the dieu44 plan carries one, and `check` reads it.
 */
import { z } from "zod";

/** Every kind of catalog object the diff reports, and the expectation can count or forbid. */
export const ObjectKindSchema = z.enum([
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
]);
export type ObjectKind = z.infer<typeof ObjectKindSchema>;

export const EXPECTED_DELTA_KIND = "expected-delta";
export const EXPECTED_DELTA_FORMAT_VERSION = 1;

export const ExpectedDeltaSchema = z.object({
  kind: z.literal(EXPECTED_DELTA_KIND),
  formatVersion: z.literal(EXPECTED_DELTA_FORMAT_VERSION),
  /** Where this expectation came from, e.g. "plan ws-q5" or "sql-lint <path> <sha256>". */
  source: z.string().optional(),
  /** Schemas the expectation speaks about; changes elsewhere are outside it. */
  scope: z.object({ schemas: z.array(z.string()).min(1) }),
  /** The exact set of tables that must appear, qualified "schema.table". */
  tablesAdded: z.array(z.string()),
  /** Exact number of additions per kind (only the kinds listed are counted). */
  counts: z.partialRecord(ObjectKindSchema, z.number().int().nonnegative()),
  /** Kinds that must not be added, removed or changed at all (unless counted above). */
  mustNotChange: z.array(ObjectKindSchema),
  /** When true, any change in scope not explained by the above is a violation. */
  nothingElse: z.boolean(),
});
export type ExpectedDelta = z.infer<typeof ExpectedDeltaSchema>;
