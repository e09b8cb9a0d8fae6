/**
 * The document kinds this renderer knows: each kind's producer schema (input is validated with
 * the producing package's own zod schema) and its default template (named after the kind).
 */

import { BackupMarkerSchema } from "@dieu44/backup-marker/schema";
import { CatalogSnapshotSchema } from "@dieu44/catalog-snapshot/schema";
import { CatalogDiffSchema, ExpectationResultSchema, ExpectedDeltaSchema } from "@dieu44/drift-diff/schema";
import { InputError } from "@dieu44/plumbing/exit";
import { validateDocument } from "@dieu44/plumbing/json-io";
import type { z } from "@dieu44/plumbing/zod";
import { LintReportSchema } from "@dieu44/sql-lint/schema";
import { ApplyLogSchema } from "@dieu44/tx-apply/schema";
import { EvidenceManifestSchema, ProcedureResultSchema } from "./schema.js";

export const DOCUMENT_SCHEMAS: ReadonlyMap<string, z.ZodType> = new Map<string, z.ZodType>([
  ["catalog-snapshot", CatalogSnapshotSchema],
  ["expected-delta", ExpectedDeltaSchema],
  ["catalog-diff", CatalogDiffSchema],
  ["expectation-result", ExpectationResultSchema],
  ["backup-marker", BackupMarkerSchema],
  ["sql-lint-report", LintReportSchema],
  ["apply-log", ApplyLogSchema],
  ["dieu44-procedure-result", ProcedureResultSchema],
  ["dieu44-evidence-manifest", EvidenceManifestSchema],
]);

/** The kinds a document can be rendered from without naming a template. */
export function knownKinds(): string[] {
  return [...DOCUMENT_SCHEMAS.keys()].sort();
}

/** The document's `kind` field, or null when it has none. */
export function kindOf(value: unknown): string | null {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return null;
  const kind = (value as { kind?: unknown }).kind;
  return typeof kind === "string" ? kind : null;
}

/**
 * Validates a document of a known kind with its producer's schema (the error names the source and
 * each failing field). A document of another kind is returned as it is: a template named
 * explicitly may still render it, under Handlebars strict mode.
 */
export function validateKnownDocument(value: unknown, label: string): unknown {
  const kind = kindOf(value);
  const schema = kind === null ? undefined : DOCUMENT_SCHEMAS.get(kind);
  if (schema === undefined) return value;
  return validateDocument(schema, value, label);
}

/** Validates a document that must be of a known kind. */
export function requireKnownDocument(value: unknown, label: string): { kind: string; document: unknown } {
  const kind = kindOf(value);
  if (kind === null) throw new InputError(`${label}: field kind is missing (not a dieu44 document)`);
  if (!DOCUMENT_SCHEMAS.has(kind)) {
    throw new InputError(
      `${label}: no template for document kind "${kind}" (known: ${knownKinds().join(", ")}); name one with --template`,
    );
  }
  return { kind, document: validateKnownDocument(value, label) };
}
