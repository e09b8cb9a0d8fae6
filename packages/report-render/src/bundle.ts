/**
 * The procedure's three markdown files from an evidence folder: read the manifest, check every
 * listed file's size and sha256, validate every document with its producer's schema, build one
 * context, and render the execution log, verification result and report templates with it.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { BackupMarker } from "@dieu44/backup-marker/schema";
import type { CatalogSnapshot } from "@dieu44/catalog-snapshot/schema";
import type { CatalogDiff, ExpectationResult } from "@dieu44/drift-diff/schema";
import { InputError } from "@dieu44/plumbing/exit";
import { decodeUtf8, parseDocument, parseJson, validateDocument } from "@dieu44/plumbing/json-io";
import type { LintReport } from "@dieu44/sql-lint/schema";
import type { ApplyLog } from "@dieu44/tx-apply/schema";
import { type DeltaRow, deltaRows } from "./delta.js";
import { DOCUMENT_SCHEMAS, kindOf } from "./documents.js";
import { createEngine, type TemplateOptions } from "./engine.js";
import { erDiagram, foreignKeysOf } from "./er-diagram.js";
import {
  type EvidenceFile,
  type EvidenceManifest,
  EvidenceManifestSchema,
  MANIFEST_FILE,
  PROCEDURE_RESULT_KIND,
  type ProcedureResult,
  type Step,
} from "./schema.js";

/** The names of the three procedure templates, in the order their files are rendered. */
export const BUNDLE_TEMPLATES = {
  executionLog: "execution-log",
  verificationResult: "verification-result",
  report: "report",
} as const;

export interface RenderedFile {
  name: string;
  content: string;
}

/**
 * One evidence file as listed and, for a document kind the renderer knows, as read and validated.
 * Other kinds (the plan, markdown rendered earlier) are checked by size and sha256 only.
 */
export interface EvidenceDocument extends EvidenceFile {
  document: unknown;
}

/** The context the three procedure templates render (see the package README). */
export interface BundleContext {
  result: ProcedureResult;
  manifest: EvidenceManifest;
  /** Every listed file with its document (null when its kind is not read), in manifest order. */
  documents: EvidenceDocument[];
  /** The manifest's files other than the three rendered ones (which a rerun may list already). */
  evidenceFiles: EvidenceFile[];
  /** The steps, each with `evidence`: its documents' manifest entries and documents. */
  steps: (Step & { evidence: EvidenceDocument[] })[];
  /** Present when the run did not pass. */
  verdict: ProcedureResult["verdict"] | null;
  passed: boolean;
  snapshotBefore: CatalogSnapshot | null;
  snapshotAfter: CatalogSnapshot | null;
  /** The catalog after the rollback package ran (role after-rollback), if it did. */
  snapshotAfterRollback: CatalogSnapshot | null;
  diff: CatalogDiff | null;
  /** The post-apply expectation result, else the pre-commit one from the apply log. */
  expectation: ExpectationResult | null;
  /** Where `expectation` comes from: its own document, or the apply log's pre-commit verification. */
  expectationSource: "document" | "pre-commit" | null;
  lint: LintReport | null;
  backup: BackupMarker | null;
  applyLog: ApplyLog | null;
  /** tx-apply's log of the rollback package (role rollback), if it ran. */
  rollbackLog: ApplyLog | null;
  deltaRows: DeltaRow[];
  createdTables: string[];
  foreignKeys: { name: string; from: string; fromColumns: string[]; to: string; toColumns: string[] }[];
  /** Mermaid erDiagram text (without fence); null when no table was created. */
  erDiagram: string | null;
}

function sha256(bytes: Buffer): string {
  return createHash("sha256").update(bytes).digest("hex");
}

function readEvidenceFile(dir: string, name: string): Buffer {
  const path = join(dir, name);
  if (!existsSync(path)) throw new InputError(`${path}: listed in ${MANIFEST_FILE} but missing`);
  return readFileSync(path);
}

/** Reads and checks an evidence folder: manifest, hashes, sizes, kinds, producer schemas. */
export function loadEvidence(evidenceDir: string): {
  manifest: EvidenceManifest;
  result: ProcedureResult;
  documents: EvidenceDocument[];
} {
  const manifestPath = join(evidenceDir, MANIFEST_FILE);
  if (!existsSync(manifestPath)) throw new InputError(`${manifestPath}: no evidence manifest`);
  const manifest = parseDocument(EvidenceManifestSchema, decodeUtf8(readFileSync(manifestPath), manifestPath), manifestPath);
  const seen = new Set<string>();
  const documents: EvidenceDocument[] = [];
  for (const [index, file] of manifest.files.entries()) {
    if (seen.has(file.name) || file.name === MANIFEST_FILE) {
      throw new InputError(`${manifestPath}: field files[${index}].name: ${file.name} is listed twice`);
    }
    seen.add(file.name);
    const label = join(evidenceDir, file.name);
    const bytes = readEvidenceFile(evidenceDir, file.name);
    if (bytes.length !== file.bytes) {
      throw new InputError(`${label}: ${bytes.length} bytes, but ${MANIFEST_FILE} lists ${file.bytes}`);
    }
    const actual = sha256(bytes);
    if (actual !== file.sha256) {
      throw new InputError(`${label}: sha256 ${actual} does not match ${MANIFEST_FILE} (${file.sha256})`);
    }
    const schema = DOCUMENT_SCHEMAS.get(file.kind);
    if (!schema) {
      documents.push({ ...file, document: null });
      continue;
    }
    // Invalid UTF-8 is refused, never replaced: the evidence is read exactly as it was written.
    const value = parseJson(decodeUtf8(bytes, label), label);
    if (kindOf(value) !== file.kind) {
      throw new InputError(`${label}: field kind is ${JSON.stringify(kindOf(value))}, but ${MANIFEST_FILE} lists ${file.kind}`);
    }
    documents.push({ ...file, document: validateDocument(schema, value, label) });
  }
  const results = documents.filter((entry) => entry.kind === PROCEDURE_RESULT_KIND);
  if (results.length !== 1) {
    throw new InputError(`${manifestPath}: expected exactly one file of kind ${PROCEDURE_RESULT_KIND}, found ${results.length}`);
  }
  const resultFile = results[0]!;
  const result = resultFile.document as ProcedureResult;
  // The outputs may replace markdown rendered earlier (a kind not read), never a document or the manifest.
  const outputs = Object.values(result.files);
  for (const name of outputs) {
    const listed = documents.find((entry) => entry.name === name);
    if (name === MANIFEST_FILE || (listed && listed.document !== null) || outputs.indexOf(name) !== outputs.lastIndexOf(name)) {
      throw new InputError(`${resultFile.name}: field files: ${name} would overwrite another file of the evidence folder`);
    }
  }
  for (const step of result.steps) {
    for (const name of step.documents) {
      if (!seen.has(name)) {
        throw new InputError(`${resultFile.name}: step ${step.id} names ${name}, which ${MANIFEST_FILE} does not list`);
      }
    }
  }
  return { manifest, result, documents };
}

/**
 * The document of a kind that plays a role: the one listed with that role, else the only one of
 * that kind listed without a role (or the only one at all). Null when absent or ambiguous.
 */
function pick<T>(documents: EvidenceDocument[], kind: string, role: string): T | null {
  const ofKind = documents.filter((entry) => entry.kind === kind && entry.document !== null);
  const match =
    ofKind.find((entry) => entry.role === role) ??
    (ofKind.length === 1 && ofKind[0]!.role === undefined ? ofKind[0] : undefined) ??
    (ofKind.filter((entry) => entry.role === undefined).length === 1
      ? ofKind.find((entry) => entry.role === undefined)
      : undefined);
  return match ? (match.document as T) : null;
}

/** A catalog snapshot by role, else the one whose fingerprint the diff or expectation names. */
function snapshotFor(
  documents: EvidenceDocument[],
  role: "before" | "after",
  fingerprint: string | null,
): CatalogSnapshot | null {
  const byRole = documents.find((entry) => entry.kind === "catalog-snapshot" && entry.role === role);
  if (byRole) return byRole.document as CatalogSnapshot;
  if (fingerprint === null) return null;
  const match = documents.find(
    (entry) =>
      entry.kind === "catalog-snapshot" &&
      entry.role === undefined &&
      (entry.document as CatalogSnapshot).fingerprint === fingerprint,
  );
  return match ? (match.document as CatalogSnapshot) : null;
}

/** The created tables: as the app states them, else the tables the diff shows as added. */
function createdTablesOf(result: ProcedureResult, diff: CatalogDiff | null, expectation: ExpectationResult | null): string[] {
  if (result.createdTables) return result.createdTables;
  if (diff) {
    return diff.changes
      .filter((change) => change.change === "added" && change.objectKind === "table")
      .map((change) => `${change.schema}.${change.name}`);
  }
  return expectation ? expectation.found.tablesAdded : [];
}

/** Builds the templates' context from a loaded evidence folder. */
export function bundleContext(evidence: ReturnType<typeof loadEvidence>): BundleContext {
  const { manifest, result, documents } = evidence;
  const byName = new Map(documents.map((entry) => [entry.name, entry]));
  const diff = pick<CatalogDiff>(documents, "catalog-diff", "apply-diff");
  const applyLog = pick<ApplyLog>(documents, "apply-log", "apply");
  // Without a post-apply check (the apply rolled back), tx-apply's pre-commit check is the evidence.
  const expectationDocument = pick<ExpectationResult>(documents, "expectation-result", "verification");
  const preCommit = applyLog?.verification?.result ?? null;
  const expectation = expectationDocument ?? preCommit;
  const refs = expectation ?? diff;
  const snapshotBefore = snapshotFor(documents, "before", refs?.before.fingerprint ?? null);
  const snapshotAfter = snapshotFor(documents, "after", refs?.after.fingerprint ?? null);
  const createdTables = createdTablesOf(result, diff, expectation);
  const foreignKeys = result.foreignKeys ?? (snapshotAfter ? foreignKeysOf(snapshotAfter, createdTables) : []);
  const rollback = documents.find((entry) => entry.kind === "apply-log" && entry.role === "rollback");
  const afterRollback = documents.find((entry) => entry.kind === "catalog-snapshot" && entry.role === "after-rollback");
  return {
    result,
    manifest,
    documents,
    evidenceFiles: manifest.files.filter((file) => !Object.values(result.files).includes(file.name)),
    steps: result.steps.map((step) => ({ ...step, evidence: step.documents.map((name) => byName.get(name)!) })),
    verdict: result.verdict ?? null,
    passed: result.status === "PASS",
    snapshotBefore,
    snapshotAfter,
    snapshotAfterRollback: afterRollback ? (afterRollback.document as CatalogSnapshot) : null,
    diff,
    expectation,
    expectationSource: expectationDocument ? "document" : preCommit ? "pre-commit" : null,
    lint: pick<LintReport>(documents, "sql-lint-report", "command-integrity"),
    backup: pick<BackupMarker>(documents, "backup-marker", "backup"),
    applyLog,
    rollbackLog: rollback ? (rollback.document as ApplyLog) : null,
    deltaRows: deltaRows(expectation),
    createdTables,
    foreignKeys,
    erDiagram: createdTables.length > 0 ? erDiagram(createdTables, foreignKeys, snapshotAfter) : null,
  };
}

/** Renders the execution log, verification result and report of an evidence folder. */
export function renderBundle(
  evidenceDir: string,
  options: TemplateOptions = {},
): { files: RenderedFile[]; manifest: EvidenceManifest } {
  const evidence = loadEvidence(evidenceDir);
  const context = bundleContext(evidence);
  const engine = createEngine(options);
  const names = context.result.files;
  return {
    files: [
      { name: names.executionLog, content: engine.render(BUNDLE_TEMPLATES.executionLog, context) },
      { name: names.verificationResult, content: engine.render(BUNDLE_TEMPLATES.verificationResult, context) },
      { name: names.report, content: engine.render(BUNDLE_TEMPLATES.report, context) },
    ],
    // The manifest as checked, so a caller comparing with what it lists need not read it again.
    manifest: evidence.manifest,
  };
}
