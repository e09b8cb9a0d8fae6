/**
 * Documents of @dieu44/drift-diff. The expected-delta spec is shared: sql-lint emits it from an
 * artifact (`--emit-expect`), the dieu44 plan carries one, and `check` reads it.
 *
 * Identities. Every object in a diff has one stable, human-readable identity string. Names are
 * written bare when they are plain lower-case SQL identifiers and double-quoted otherwise, so an
 * identity never depends on which snapshot it came from and never collides:
 *   schema              schema:cutter_governance
 *   table               cutter_governance.registry_entity
 *   column              cutter_governance.registry_entity.column:label
 *   default / identity  cutter_governance.registry_entity.column:label.default (.identity)
 *   constraint (any)    cutter_governance.registry_entity.constraint:registry_entity_pkey
 *   index / trigger     cutter_governance.registry_entity.index:name (.trigger:name)
 *   row security        cutter_governance.registry_entity.row_security
 *   other objects       view:s.v, materialized_view:s.m, sequence:s.q, enum:s.e, domain:s.d,
 *                       composite_type:s.c, function:s.f(bigint, text), procedure:s.p(),
 *                       extension:pgcrypto, role:directus
 *   owner of X          X.owner
 *   ACL entry on X      X.privilege:grantee(by grantor)
 *
 * Privileges are ACL entries as the snapshot records them (NULL ACLs made explicit with
 * acldefault). The entries every object gets when created (the owner's own privileges, PUBLIC
 * EXECUTE on a function or procedure) belong to the object: they are not reported when the
 * object itself is added or removed, only when they change on an object that stays.
 */
import { z } from "@dieu44/plumbing/zod";
import { OBJECT_KINDS, type ObjectKind } from "./choices.js";

export { OBJECT_KINDS, type ObjectKind };

/** Every kind of catalog object the diff reports, and the expectation can count or forbid. */
export const ObjectKindSchema = z.enum(OBJECT_KINDS);

export const EXPECTED_DELTA_KIND = "expected-delta";
export const EXPECTED_DELTA_FORMAT_VERSION = 1;

/**
 * What an apply is expected to change. `check(diff, expectation)` evaluates every change of the
 * diff once, in this order, and reports at most one violation per change:
 *  1. Objects inside a table whose own addition or removal is already a violation (its columns,
 *     constraints, defaults, indexes, ACL entries, owned sequences) are listed in that table's
 *     violation (`related`), not reported or counted again.
 *  2. A table of `tablesAdded` that the diff shows as added is expected (and counted when
 *     `counts.table` is given).
 *  3. A change outside the scope (a schema not in `scope.schemas`, and not inside an expected
 *     table) is a violation "outside-scope" with `nothingElse`; without it, it is ignored and
 *     not counted. Objects without a schema (roles) are in scope.
 *  4. Any other added table is a violation "unexpected-table".
 *  5. An addition of a kind listed in `counts` is counted; each total is compared at the end
 *     ("count-mismatch", listing the counted objects in `related`).
 *  6. Columns added to an expected table are expected.
 *  7. A change of a kind in `mustNotChange` is a violation "must-not-change".
 *  8. Constraints added to an expected table are expected (governed by `counts` and
 *     `mustNotChange` only). Defaults, identities, triggers, indexes, ACL entries and row
 *     security on the new tables are not: they must be counted or they are unexplained.
 *  9. With `nothingElse`, anything left is a violation "unexplained-change".
 * Then every name of `tablesAdded` the diff does not show as added is a violation
 * "table-missing", and "scope-not-covered" is reported for each schema or kind the expectation
 * speaks about that the diff left out (a diff filtered by schema or kind).
 */
export const ExpectedDeltaSchema = z.object({
  kind: z.literal(EXPECTED_DELTA_KIND),
  formatVersion: z.literal(EXPECTED_DELTA_FORMAT_VERSION),
  /** Where this expectation came from, e.g. "plan ws-q5" or "sql-lint <path> <sha256>". */
  source: z.string().optional(),
  /** Schemas the expectation speaks about; changes elsewhere are outside it. */
  scope: z.object({ schemas: z.array(z.string()).min(1) }),
  /** The exact set of tables that must appear, qualified "schema.table" (unquoted names). */
  tablesAdded: z.array(z.string()),
  /**
   * Exact number of additions per kind inside the scope (only the kinds listed are counted).
   * Additions inside tables already reported as unexpected are not counted again. Counting
   * follows the diff: constraints by type, `default` = a column default that appears (also on
   * new tables), `index` = indexes that do not back a constraint, `privilege` = ACL entries.
   */
  counts: z.partialRecord(ObjectKindSchema, z.number().int().nonnegative()),
  /** Kinds that must not be added, removed or changed at all (additions of a counted kind excepted). */
  mustNotChange: z.array(ObjectKindSchema),
  /** When true, any change not explained by the above is a violation, in scope or not. */
  nothingElse: z.boolean(),
  /**
   * Where counted additions may be: "scope" (default) anywhere in the scope, so an artifact may
   * add a foreign key to an existing table; "expected-tables" only on the tables of
   * `tablesAdded`, so the same count on an existing table is not mistaken for the expected one.
   */
  countsWithin: z.enum(["scope", "expected-tables"]).optional(),
});
export type ExpectedDelta = z.infer<typeof ExpectedDeltaSchema>;

/** A JSON value as carried in before/after fields. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export const JsonValueSchema: z.ZodType<JsonValue> = z.json();

/** Which snapshot a diff side is: enough to find it again and to tell clusters apart. */
export const SnapshotRefSchema = z.object({
  fingerprint: z.string(),
  takenAt: z.string(),
  systemIdentifier: z.string(),
  serverVersion: z.string(),
  database: z.string(),
  /** The schemas the snapshot covered (null = every non-system schema). */
  schemas: z.array(z.string()).nullable(),
});
export type SnapshotRef = z.infer<typeof SnapshotRefSchema>;

export const ChangeTypeSchema = z.enum(["added", "removed", "changed"]);
export type ChangeType = z.infer<typeof ChangeTypeSchema>;

/** One field that differs between the before and after value of a changed object. */
export const FieldChangeSchema = z.object({
  field: z.string(),
  before: JsonValueSchema,
  after: JsonValueSchema,
});
export type FieldChange = z.infer<typeof FieldChangeSchema>;

export const ChangeSchema = z.object({
  change: ChangeTypeSchema,
  objectKind: ObjectKindSchema,
  /** Stable, human-readable identity (see the top of this file). */
  identity: z.string(),
  /** Schema the object lives in; null for cluster-wide objects (roles). */
  schema: z.string().nullable(),
  /** The table the object belongs to (a table's own name for the table), else null. */
  table: z.string().nullable(),
  /** The object's own name (column, constraint, grantee, ...). */
  name: z.string(),
  /**
   * Identity of the top-level object this one belongs to: the table for its columns, defaults,
   * constraints, indexes, triggers; the object itself for its owner and ACL entries. Null for
   * top-level objects (tables, sequences, views, types, functions, schemas, roles).
   */
  parent: z.string().nullable(),
  /** The object's value before (null when added) and after (null when removed). */
  before: JsonValueSchema,
  after: JsonValueSchema,
  /** For "changed": each field that differs. Empty otherwise. */
  fields: z.array(FieldChangeSchema),
});
export type Change = z.infer<typeof ChangeSchema>;

export const ChangeCountsSchema = z.object({
  added: z.number().int().nonnegative(),
  removed: z.number().int().nonnegative(),
  changed: z.number().int().nonnegative(),
});
export type ChangeCounts = z.infer<typeof ChangeCountsSchema>;

export const CATALOG_DIFF_KIND = "catalog-diff";
export const CATALOG_DIFF_FORMAT_VERSION = 1;

export const CatalogDiffSchema = z.object({
  kind: z.literal(CATALOG_DIFF_KIND),
  formatVersion: z.literal(CATALOG_DIFF_FORMAT_VERSION),
  before: SnapshotRefSchema,
  after: SnapshotRefSchema,
  /** Both snapshots have the same system identifier. */
  sameCluster: z.boolean(),
  /**
   * What was compared. `schemas`: the schemas both snapshots covered, narrowed by the scope
   * option (null = every schema). `kinds`: the object kinds reported (null = all). Cluster-wide
   * objects (roles) are reported whatever the schema scope.
   */
  scope: z.object({
    schemas: z.array(z.string()).nullable(),
    kinds: z.array(ObjectKindSchema).nullable(),
  }),
  /** True when there is no change in scope. */
  identical: z.boolean(),
  /** Added, removed and changed objects, ordered by schema, table, kind and identity. */
  changes: z.array(ChangeSchema),
  summary: z.object({
    /** Counts per object kind (kinds without changes are absent). */
    byKind: z.partialRecord(ObjectKindSchema, ChangeCountsSchema),
    total: ChangeCountsSchema,
  }),
});
export type CatalogDiff = z.infer<typeof CatalogDiffSchema>;

export const ViolationRuleSchema = z.enum([
  /** A table of `tablesAdded` was not added. */
  "table-missing",
  /** A table was added in scope that `tablesAdded` does not name. */
  "unexpected-table",
  /** The number of additions of a counted kind differs from `counts`. */
  "count-mismatch",
  /** A change of a kind listed in `mustNotChange`. */
  "must-not-change",
  /** With `nothingElse`: a change in scope that nothing in the expectation explains. */
  "unexplained-change",
  /** With `nothingElse`: a change in a schema outside the expectation's scope. */
  "outside-scope",
  /** The diff did not cover something the expectation speaks about (a schema, a kind). */
  "scope-not-covered",
]);
export type ViolationRule = z.infer<typeof ViolationRuleSchema>;

export const ViolationSchema = z.object({
  rule: ViolationRuleSchema,
  /** The kind of the object at fault; for count-mismatch the counted kind; null for scope-not-covered of a schema. */
  objectKind: ObjectKindSchema.nullable(),
  /** Identity of the object at fault; null for aggregate rules (count-mismatch, scope-not-covered). */
  identity: z.string().nullable(),
  /** What the expectation asked for, e.g. 4, "not added", "unchanged". */
  expected: z.union([z.string(), z.number()]),
  /** What the diff shows, e.g. 5, "added", "changed type: text -> integer". */
  found: z.union([z.string(), z.number()]),
  message: z.string(),
  /** Identities of the objects behind an aggregate (the counted additions), or inside a faulty table. */
  related: z.array(z.string()),
});
export type Violation = z.infer<typeof ViolationSchema>;

export const EXPECTATION_RESULT_KIND = "expectation-result";
export const EXPECTATION_RESULT_FORMAT_VERSION = 1;

export const ExpectationResultSchema = z.object({
  kind: z.literal(EXPECTATION_RESULT_KIND),
  formatVersion: z.literal(EXPECTATION_RESULT_FORMAT_VERSION),
  pass: z.boolean(),
  /** The expectation that was checked, as given. */
  expectation: ExpectedDeltaSchema,
  /** The diff's two snapshots. */
  before: SnapshotRefSchema,
  after: SnapshotRefSchema,
  violations: z.array(ViolationSchema),
  found: z.object({
    /** Qualified names ("schema.table") of the tables added in the expectation's scope. */
    tablesAdded: z.array(z.string()),
    /** Changes per kind in the expectation's scope (every one, explained or not). */
    byKind: z.partialRecord(ObjectKindSchema, ChangeCountsSchema),
    /** Changes per kind outside the scope (only what the diff covered). */
    outsideScope: z.partialRecord(ObjectKindSchema, ChangeCountsSchema),
  }),
});
export type ExpectationResult = z.infer<typeof ExpectationResultSchema>;
