/**
 * @dieu44/report-render/schema: the evidence contract between the dieu44 app (producer) and the
 * renderer (consumer).
 *
 * An evidence folder holds `manifest.json` (dieu44-evidence-manifest), `procedure-result.json`
 * (dieu44-procedure-result) and the JSON documents the steps wrote (snapshots, diff, expectation
 * result, lint report, backup marker, apply log). The manifest lists every file but itself, with
 * its document kind and sha256, so a reviewer can check that the markdown was rendered from exactly
 * these documents.
 *
 * All times are ISO 8601 strings written by the app; rendering never reads the clock.
 */
import { z } from "@dieu44/plumbing/zod";

export const PROCEDURE_RESULT_KIND = "dieu44-procedure-result";
export const PROCEDURE_RESULT_FORMAT_VERSION = 1;
export const EVIDENCE_MANIFEST_KIND = "dieu44-evidence-manifest";
export const EVIDENCE_MANIFEST_FORMAT_VERSION = 1;

/** File names the bundle expects in an evidence folder. */
export const MANIFEST_FILE = "manifest.json";
export const PROCEDURE_RESULT_FILE = "procedure-result.json";

const Sha256Schema = z.string().regex(/^[0-9a-f]{64}$/, "expected a lowercase hex sha256");

/** An ISO 8601 timestamp with a time zone, e.g. 2026-05-18T09:14:03.120Z. */
const IsoTimeSchema = z.iso.datetime({ offset: true });

/** A plain file name inside the evidence folder: no directory part, never `.` or `..`. */
const EvidenceFileNameSchema = z
  .string()
  .min(1)
  .regex(/^[^/\\]+$/, "expected a file name without a directory")
  .refine((name) => name !== "." && name !== "..", "expected a file name, not . or ..");

export const ProcedureModeSchema = z.enum(["run", "preflight", "rehearse"]);
export type ProcedureMode = z.infer<typeof ProcedureModeSchema>;

/** Outcome of the whole procedure. STOP_AND_ESCALATE: the agent stopped and routed to a human. */
export const ProcedureStatusSchema = z.enum(["PASS", "FAIL", "BLOCKED", "ROLLED_BACK", "STOP_AND_ESCALATE"]);
export type ProcedureStatus = z.infer<typeof ProcedureStatusSchema>;

/** The seed's statuses for the report field `reauthorized_apply_status` (STOP_AND_ESCALATE maps to FAIL). */
export const ApplyStatusSchema = z.enum(["PASS", "FAIL", "BLOCKED", "ROLLED_BACK"]);
export type ApplyStatus = z.infer<typeof ApplyStatusSchema>;

export const StepIdSchema = z.enum([
  "P1_preflight",
  "P2_fresh_backup",
  "P3_command_integrity",
  "apply",
  "verification",
  "rollback",
]);
export type StepId = z.infer<typeof StepIdSchema>;

export const StepStatusSchema = z.enum(["passed", "failed", "skipped", "not_run"]);
export type StepStatus = z.infer<typeof StepStatusSchema>;

/** One check a step made, e.g. "system_identifier" expected 7611578671664259111, actual the same. */
export const StepCheckSchema = z.object({
  name: z.string().min(1),
  expected: z.string(),
  actual: z.string(),
  passed: z.boolean(),
});
export type StepCheck = z.infer<typeof StepCheckSchema>;

export const StepSchema = z.object({
  id: StepIdSchema,
  title: z.string().min(1),
  status: StepStatusSchema,
  /** Null for a step that did not run (not_run, and skipped steps that never started). */
  startedAt: IsoTimeSchema.nullable(),
  finishedAt: IsoTimeSchema.nullable(),
  /** The equivalent CLI/psql invocation, passwords redacted; null when there is none. */
  command: z.string().nullable(),
  /** One or two sentences: what the step found. */
  summary: z.string().min(1),
  checks: z.array(StepCheckSchema),
  /** Names of the evidence documents this step wrote (listed in the manifest). */
  documents: z.array(EvidenceFileNameSchema),
});
export type Step = z.infer<typeof StepSchema>;

/** Result of a mandatory pre-apply check (P1, P2, P3). */
export const CheckResultSchema = z.enum(["PASS", "FAIL", "NOT_RUN"]);
export type CheckResult = z.infer<typeof CheckResultSchema>;

/** What happened about rollback. */
export const RollbackStatusSchema = z.enum([
  /** Nothing to undo: the apply committed and verified, or nothing was ever applied. */
  "not_required",
  /** The apply transaction was rolled back; nothing committed. */
  "transaction_rolled_back",
  /** Committed, verification failed, the approved rollback package was run. */
  "rollback_package_applied",
  /** Rollback was needed but not safe to do: stopped and escalated. */
  "escalated",
]);
export type RollbackStatus = z.infer<typeof RollbackStatusSchema>;

/** Exactly the report fields the seed (KB-172A "Required output") requires. */
export const ReportFieldsSchema = z.strictObject({
  reauthorized_apply_status: ApplyStatusSchema,
  apply_role_used: z.string().min(1),
  preflight_rerun_result: CheckResultSchema,
  fresh_backup_status: CheckResultSchema,
  command_integrity_result: CheckResultSchema,
  tables_created: z.number().int().nonnegative(),
  /** One line, e.g. "PASS: +12 tables, +12 PK, +8 FK, +4 UNIQUE; nothing else changed". */
  verification_summary: z.string().min(1),
  rollback_status_if_any: RollbackStatusSchema,
  /** Downstream actions deliberately not executed (seed's forbidden list), e.g. "DML seed execution". */
  downstream_not_executed: z.array(z.string().min(1)),
});
export type ReportFields = z.infer<typeof ReportFieldsSchema>;

/** The seed's blocked-attempt verdict, for a run that did not pass. */
export const VerdictSchema = z.object({
  production_changed: z.boolean(),
  tables_created: z.number().int().nonnegative(),
  rollback_required: z.boolean(),
  /** snake_case cause, e.g. apply_role_lacks_CREATE_on_schema, DDL_defect, schema_drift. */
  root_cause: z.string().regex(/^[A-Za-z0-9_]+$/, "expected a snake_case identifier"),
  DDL_defect: z.boolean(),
  schema_drift: z.boolean(),
  /** Facts the root cause was derived from, e.g. "SQLSTATE 42501 at statement 1". */
  basis: z.array(z.string().min(1)),
});
export type Verdict = z.infer<typeof VerdictSchema>;

/** A foreign key for the Mermaid diagram, when the app states it instead of the renderer deriving it. */
export const ForeignKeyEdgeSchema = z.object({
  name: z.string().min(1),
  /** Qualified "schema.table" of the referencing table. */
  from: z.string().min(1),
  fromColumns: z.array(z.string().min(1)).min(1),
  to: z.string().min(1),
  toColumns: z.array(z.string().min(1)).min(1),
});
export type ForeignKeyEdge = z.infer<typeof ForeignKeyEdgeSchema>;

export const ProcedureResultSchema = z
  .object({
    kind: z.literal(PROCEDURE_RESULT_KIND),
    formatVersion: z.literal(PROCEDURE_RESULT_FORMAT_VERSION),
    mode: ProcedureModeSchema,
    /** The plan's cycle name, e.g. dot-iu-cutter-v0.5-WS-Q5-production-apply-reauthorized. */
    cycle: z.string().min(1),
    plan: z.object({ path: z.string().min(1), sha256: Sha256Schema }),
    status: ProcedureStatusSchema,
    applyRole: z.string().min(1),
    /** describeConnection output: never a password. */
    connection: z.string().min(1),
    startedAt: IsoTimeSchema,
    finishedAt: IsoTimeSchema,
    steps: z.array(StepSchema).min(1),
    reportFields: ReportFieldsSchema,
    /** Required when status is not PASS. */
    verdict: VerdictSchema.optional(),
    /** The three markdown file names, from the plan. */
    files: z.object({
      executionLog: EvidenceFileNameSchema,
      verificationResult: EvidenceFileNameSchema,
      report: EvidenceFileNameSchema,
    }),
    /** Qualified names of the tables the apply created; otherwise derived from the diff. */
    createdTables: z.array(z.string().min(1)).optional(),
    /** Foreign keys among the created tables; otherwise read from the after-snapshot. */
    foreignKeys: z.array(ForeignKeyEdgeSchema).optional(),
  })
  // The seed asks the verdict's fields of every run that did not pass.
  .refine((result) => result.status === "PASS" || result.verdict !== undefined, {
    path: ["verdict"],
    message: "required when status is not PASS",
  });
export type ProcedureResult = z.infer<typeof ProcedureResultSchema>;

export const EvidenceFileSchema = z.object({
  name: EvidenceFileNameSchema,
  /** The document's `kind`, e.g. catalog-snapshot, catalog-diff, apply-log. */
  kind: z.string().min(1),
  sha256: Sha256Schema,
  bytes: z.number().int().nonnegative(),
  /**
   * What the document is for when one kind appears more than once. The renderer reads
   * `before` and `after` on catalog snapshots (the catalog fingerprints around the apply).
   */
  role: z
    .string()
    .regex(/^[a-z][a-z0-9-]*$/)
    .optional(),
});
export type EvidenceFile = z.infer<typeof EvidenceFileSchema>;

export const EvidenceManifestSchema = z.object({
  kind: z.literal(EVIDENCE_MANIFEST_KIND),
  formatVersion: z.literal(EVIDENCE_MANIFEST_FORMAT_VERSION),
  /** Every file of the folder except manifest.json itself, procedure-result.json included. */
  files: z.array(EvidenceFileSchema).min(1),
});
export type EvidenceManifest = z.infer<typeof EvidenceManifestSchema>;
