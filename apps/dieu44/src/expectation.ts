/**
 * The plan's expected delta as a drift-diff expected-delta document, and the drift question
 * "did anything relevant change?" as a diff scope.
 */
import type { CatalogSnapshot } from "@dieu44/catalog-snapshot";
import { computeFingerprint } from "@dieu44/catalog-snapshot";
import { type CatalogDiff, diff } from "@dieu44/drift-diff";
import {
  EXPECTED_DELTA_FORMAT_VERSION,
  EXPECTED_DELTA_KIND,
  type ExpectedDelta,
  ObjectKindSchema,
} from "@dieu44/drift-diff/schema";
import type { Plan } from "./schema.js";

export function qualifiedTargets(plan: Plan): string[] {
  return plan.target.tables.map((table) => `${plan.target.schema}.${table}`);
}

export function expectedDeltaOf(plan: Plan): ExpectedDelta {
  const { expectedDelta } = plan;
  return {
    kind: EXPECTED_DELTA_KIND,
    formatVersion: EXPECTED_DELTA_FORMAT_VERSION,
    source: `plan ${plan.cycle}`,
    scope: { schemas: [plan.target.schema] },
    tablesAdded: qualifiedTargets(plan),
    counts: {
      table: expectedDelta.tables,
      primary_key: expectedDelta.primaryKeys,
      foreign_key: expectedDelta.foreignKeys,
      unique: expectedDelta.unique,
    },
    mustNotChange: expectedDelta.mustNotChange,
    nothingElse: expectedDelta.nothingElseInScope,
    // The plan's package only creates tables: every counted constraint belongs to one of them.
    countsWithin: "expected-tables",
  };
}

/** Everything that changed in the plan's schema (and in the apply role's facts) across the apply. */
export function applyDelta(before: CatalogSnapshot, after: CatalogSnapshot, plan: Plan): CatalogDiff {
  return diff(before, after, { scope: { schemas: [plan.target.schema] } });
}

/** Every kind except cluster-wide role facts, which depend on whom a snapshot was asked about. */
const catalogKinds = ObjectKindSchema.options.filter((kind) => kind !== "role");

/** Changes to the plan's schema between two snapshots of the same cluster. */
export function schemaDrift(before: CatalogSnapshot, after: CatalogSnapshot, plan: Plan): CatalogDiff {
  return diff(before, after, { scope: { schemas: [plan.target.schema], kinds: catalogKinds } });
}

/**
 * The fingerprint a snapshot of the same scope would have without role facts: tx-apply checks the
 * scope's fingerprint right before the first statement, without --privileges-for.
 */
export function scopeFingerprint(snapshot: CatalogSnapshot): string {
  return computeFingerprint({ ...snapshot, scope: { ...snapshot.scope, privilegesFor: [] }, roles: [] });
}
