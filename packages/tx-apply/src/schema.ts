/**
 * The apply-log document of @dieu44/tx-apply: what was checked, what was sent, and what the
 * server did with it. The report renderer and the dieu44 app read it; it is the evidence that
 * the production apply did exactly what the artifact says, and nothing else.
 */
import { ExpectationResultSchema, ExpectedDeltaSchema } from "@dieu44/drift-diff/schema";
import { z } from "@dieu44/plumbing/zod";

import { APPLY_LOG_FORMAT_VERSION, APPLY_LOG_KIND } from "./kind.js";

export { APPLY_LOG_FORMAT_VERSION, APPLY_LOG_KIND };

/**
 * - `not_started`: a guard failed; no artifact statement was sent.
 * - `rolled_back`: an error, a failed pre-commit verification, or a dry run; nothing committed.
 * - `committed`: the server acknowledged the artifact's COMMIT.
 * - `unknown`: the connection was lost while COMMIT was in flight. The transaction may or may not
 *   have committed; the caller must verify against the catalog. Never assumed either way.
 */
export const OutcomeSchema = z.enum(["not_started", "rolled_back", "committed", "unknown"]);
export type Outcome = z.infer<typeof OutcomeSchema>;

/** Every guard tx-apply knows; they run in this order and the first failure stops the apply. */
export const GuardNameSchema = z.enum([
  /** The artifact's bytes hash to the approved sha256 (checked before connecting). */
  "sha256",
  /** The artifact's shape: parses, one leading BEGIN, one trailing COMMIT, no other meta-commands. */
  "artifact",
  /** The connection is configured to log in as the role itself (never switched afterwards). */
  "connection_user",
  "current_user",
  "session_user",
  "system_identifier",
  /** A session advisory lock: two applies on one database cannot overlap. */
  "advisory_lock",
  "lock_timeout",
  "statement_timeout",
  /** The scoped catalog fingerprint still equals the preflight's. */
  "fingerprint",
]);
export type GuardName = z.infer<typeof GuardNameSchema>;

export const GuardSchema = z.object({
  name: GuardNameSchema,
  expected: z.string(),
  /** What was found; null when it could not be read. */
  actual: z.string().nullable(),
  passed: z.boolean(),
  /** Why it failed, or how the value was read, in a sentence. */
  detail: z.string().optional(),
});
export type Guard = z.infer<typeof GuardSchema>;

/**
 * - `succeeded` / `failed`: the server answered.
 * - `skipped`: sent in the pipeline behind a statement that failed, and not run: after an error the
 *   server refuses every statement of the transaction (SQLSTATE 25P02) or, if the session ended,
 *   discards it with the transaction.
 * - `unknown`: the connection was lost before the answer (only ever the COMMIT decides anything).
 * - `not_sent`: never sent (after a failure, a failed guard, or the COMMIT of a dry run).
 */
export const StatementStatusSchema = z.enum(["succeeded", "failed", "skipped", "unknown", "not_sent"]);
export type StatementStatus = z.infer<typeof StatementStatusSchema>;

export const StatementSchema = z.object({
  /** 0 is the artifact's BEGIN, 1 the first statement inside its transaction, the last its COMMIT. */
  index: z.number().int().nonnegative(),
  /** 1-based line where the statement starts in the artifact. */
  line: z.number().int().positive(),
  endLine: z.number().int().positive(),
  /** Command tag from the parser, e.g. "CREATE TABLE". */
  tag: z.string(),
  status: StatementStatusSchema,
  /**
   * Wall time the server had it: from when it was sent, or when the statement before it was
   * answered if that came later (statements are pipelined), to its answer. Null when not sent,
   * skipped, or without an answer.
   */
  durationMs: z.number().nonnegative().nullable(),
  /** e.g. "replaced by ROLLBACK: dry run". */
  note: z.string().optional(),
});
export type StatementRecord = z.infer<typeof StatementSchema>;

/** `internal`: tx-apply itself failed (not a server answer); the session was closed. */
export const ErrorPhaseSchema = z.enum(["guard", "statement", "verification", "commit", "internal"]);
export type ErrorPhase = z.infer<typeof ErrorPhaseSchema>;

export const ApplyErrorSchema = z.object({
  phase: ErrorPhaseSchema,
  /** SQLSTATE from the server; null when the failure was not a server error (lost connection). */
  sqlstate: z.string().nullable(),
  severity: z.string().nullable(),
  /** Redacted. */
  message: z.string(),
  detail: z.string().nullable(),
  hint: z.string().nullable(),
  /** The artifact statement that failed (see StatementSchema.index); null outside statements. */
  statementIndex: z.number().int().nonnegative().nullable(),
  line: z.number().int().positive().nullable(),
  /** Not a plain server ERROR: the session ended (FATAL, terminated backend, server gone) or tx-apply closed it. */
  connectionLost: z.boolean(),
});
export type ApplyError = z.infer<typeof ApplyErrorSchema>;

/** A NOTICE/WARNING the server sent during the apply (redacted). */
export const NoticeSchema = z.object({
  severity: z.string(),
  sqlstate: z.string().nullable(),
  message: z.string(),
  detail: z.string().nullable(),
  /** The artifact statement in flight; null for guard queries. */
  statementIndex: z.number().int().nonnegative().nullable(),
});
export type Notice = z.infer<typeof NoticeSchema>;

export const VerificationSchema = z.object({
  expectation: ExpectedDeltaSchema,
  /** Scope snapshot inside the apply transaction, before its first statement. */
  beforeFingerprint: z.string().nullable(),
  /** Scope snapshot inside the apply transaction, right before COMMIT. */
  afterFingerprint: z.string().nullable(),
  /** drift-diff check(diff(before, after), expectation); null when it could not be computed. */
  result: ExpectationResultSchema.nullable(),
  passed: z.boolean(),
  durationMs: z.number().nonnegative(),
});
export type Verification = z.infer<typeof VerificationSchema>;

/** A statement tx-apply itself sent that is not from the artifact (guards, session settings, ROLLBACK). */
export const ToolStatementSchema = z.object({
  purpose: z.string(),
  sql: z.string(),
});
export type ToolStatement = z.infer<typeof ToolStatementSchema>;

export const ApplyLogSchema = z.object({
  kind: z.literal(APPLY_LOG_KIND),
  formatVersion: z.literal(APPLY_LOG_FORMAT_VERSION),
  tool: z.object({ name: z.literal("tx-apply"), version: z.string() }),
  artifact: z.object({
    path: z.string(),
    /** sha256 of the bytes read (lower-case hex). */
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    expectedSha256: z.string(),
    sizeBytes: z.number().int().nonnegative(),
    /** Statements the parser found, BEGIN and COMMIT included; null when it could not be parsed. */
    statementCount: z.number().int().nonnegative().nullable(),
    /** `\set ON_ERROR_STOP on` present (tx-apply always stops at the first error regardless). */
    onErrorStop: z.boolean().nullable(),
    metaCommands: z.array(z.object({ line: z.number().int().positive(), text: z.string() })),
  }),
  role: z.string(),
  /** describeConnection(): never a password. */
  connection: z.string(),
  /** The backend that ran the apply; null when no connection was made. */
  backendPid: z.number().int().nullable(),
  serverVersion: z.string().nullable(),
  settings: z.object({
    lockTimeout: z.string(),
    statementTimeout: z.string(),
    /** The advisory lock key as a signed 64-bit decimal. */
    advisoryLockKey: z.string(),
    schemas: z.array(z.string()),
    /**
     * Artifact statements in flight at most (1: each sent only after the previous one's answer).
     * Absent in logs of a tx-apply from before pipelining, which sent one at a time.
     */
    pipelineDepth: z.number().int().positive().optional(),
  }),
  dryRun: z.boolean(),
  guards: z.array(GuardSchema),
  statements: z.array(StatementSchema),
  toolStatements: z.array(ToolStatementSchema),
  /** Notices are kept up to 100; the rest are only counted. */
  notices: z.array(NoticeSchema),
  noticesOmitted: z.number().int().nonnegative(),
  verification: VerificationSchema.nullable(),
  error: ApplyErrorSchema.nullable(),
  outcome: OutcomeSchema,
  /** Exit 0: committed, or a dry run that reached COMMIT cleanly (verification included). */
  passed: z.boolean(),
  /** One sentence a reviewer can read. */
  summary: z.string(),
  timings: z.object({
    startedAt: z.string(),
    finishedAt: z.string(),
    totalMs: z.number().nonnegative(),
    connectMs: z.number().nonnegative().nullable(),
    guardsMs: z.number().nonnegative().nullable(),
    statementsMs: z.number().nonnegative().nullable(),
    verificationMs: z.number().nonnegative().nullable(),
    commitMs: z.number().nonnegative().nullable(),
  }),
  /** The same apply as a psql command line, for the report. */
  psqlEquivalent: z.string(),
});
export type ApplyLog = z.infer<typeof ApplyLogSchema>;
