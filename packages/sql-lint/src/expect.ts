/**
 * The artifact's derived delta as drift-diff's expected-delta document, so the SQL itself
 * becomes the post-apply check.
 */
import {
  EXPECTED_DELTA_FORMAT_VERSION,
  EXPECTED_DELTA_KIND,
  type ExpectedDelta,
  type ObjectKind,
  ObjectKindSchema,
} from "@dieu44/drift-diff/schema";
import { InputError } from "@dieu44/plumbing/exit";
import type { LintReport } from "./schema.js";

export interface ExpectedDeltaOptions {
  /** Schemas the expectation speaks about; default: the schemas the artifact's objects are in. */
  scopeSchemas?: string[];
}

/**
 * `counts` holds every kind the artifact adds (exact numbers); `mustNotChange` every kind it
 * neither adds nor changes, except `column` when it creates tables (their columns are part of
 * the new tables); `nothingElse` is true, so anything the SQL does not explain fails the check.
 */
export function toExpectedDelta(report: LintReport, options: ExpectedDeltaOptions = {}): ExpectedDelta {
  const facts = report.facts;
  if (!facts.parsed) {
    throw new InputError("cannot derive an expected delta: the artifact does not parse (see the syntax finding)");
  }
  const delta = facts.derivedDelta;
  const scopeSchemas = options.scopeSchemas?.length ? [...options.scopeSchemas] : delta.schemas;
  if (scopeSchemas.length === 0) {
    throw new InputError("cannot derive the expected delta's scope: the artifact names no schema; give the scope schemas");
  }
  const counts: Partial<Record<ObjectKind, number>> = {};
  const touched = new Set<ObjectKind>();
  for (const kind of ObjectKindSchema.options) {
    if (delta.counts[kind] > 0) {
      counts[kind] = delta.counts[kind];
      touched.add(kind);
    }
  }
  for (const change of delta.changes) {
    if (change.kind) touched.add(change.kind);
  }
  if (delta.tables.length > 0) touched.add("column");
  return {
    kind: EXPECTED_DELTA_KIND,
    formatVersion: EXPECTED_DELTA_FORMAT_VERSION,
    source: `sql-lint ${report.artifact.path ?? "-"} sha256:${report.artifact.sha256}`,
    scope: { schemas: scopeSchemas },
    tablesAdded: [...delta.tables].sort(),
    counts,
    mustNotChange: ObjectKindSchema.options.filter((kind) => !touched.has(kind)),
    nothingElse: true,
  };
}
