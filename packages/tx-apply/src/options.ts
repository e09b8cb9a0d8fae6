/**
 * Options of an apply, validated before anything is read or sent: a bad option is bad input
 * (InputError, exit 2), never an outcome.
 */
import { createHash } from "node:crypto";
import type { ExpectedDelta } from "@dieu44/drift-diff/schema";
import { InputError } from "@dieu44/plumbing/exit";
import { validateDocument } from "@dieu44/plumbing/json-io";
import { DEFAULT_LOCK_TIMEOUT, DEFAULT_PIPELINE_DEPTH, DEFAULT_STATEMENT_TIMEOUT } from "./defaults.js";

/** Progress of one artifact statement, for a CLI progress line. */
export interface StatementEvent {
  phase: "start" | "end";
  /** See StatementRecord.index: 0 is the artifact's BEGIN. */
  index: number;
  total: number;
  line: number;
  tag: string;
  /** Set on "end". */
  status?: "succeeded" | "failed" | "skipped" | "unknown";
  durationMs?: number;
}

export interface ApplyOptions {
  /** The approved apply role: the connection logs in as it, and current_user/session_user must equal it. */
  role: string;
  /** pg_control_system().system_identifier of the approved target, as a decimal string. */
  expectSystemIdentifier: string;
  /** The approved sha256 of the artifact's bytes (hex). */
  sha256: string;
  /** The preflight's catalog-snapshot fingerprint of `schemas`; checked right before the first statement. */
  expectFingerprint?: string;
  /** Schemas the fingerprint covers (required with expectFingerprint). */
  schemas?: string[];
  /** Roles whose privileges the preflight snapshot recorded (catalog-snapshot privilegesFor): same fingerprint inputs. */
  privilegesFor?: string[];
  /** Check this expected delta inside the transaction before COMMIT; ROLLBACK if it does not hold. */
  verifyBeforeCommit?: ExpectedDelta;
  /** Run everything, then ROLLBACK instead of the artifact's COMMIT. */
  dryRun?: boolean;
  /** PostgreSQL duration, e.g. "5s" (default). */
  lockTimeout?: string;
  /** PostgreSQL duration, e.g. "60s" (default). */
  statementTimeout?: string;
  /** Session advisory lock key (signed 64-bit); default DEFAULT_ADVISORY_LOCK_KEY. */
  advisoryLockKey?: bigint | string | number;
  /**
   * How many artifact statements between BEGIN and COMMIT may be in flight at once (default
   * DEFAULT_PIPELINE_DEPTH). 1 sends each only after the previous one's answer, as psql does.
   * More keeps the server busy instead of waiting a round trip per statement. Nothing runs after an
   * error either way: the server refuses every later statement of the failed transaction, and
   * those already sent are recorded as `skipped`. BEGIN and COMMIT are always sent alone.
   */
  pipelineDepth?: number;
  /** Called before and after each artifact statement. Exceptions it throws are ignored. */
  onStatement?: (event: StatementEvent) => void;
  /**
   * Awaited right before each artifact statement (BEGIN and COMMIT included) is sent, with its
   * "start" event: a progress hook that may pause, and the seam the reliability suite uses to
   * inject a fault at an exact statement boundary. Every earlier statement has been answered when
   * it is called (so a hook makes the apply send one statement at a time), and nothing is sent
   * until it settles; what it throws is ignored, so a hook never changes what is sent.
   */
  onBeforeStatement?: (event: StatementEvent) => Promise<void> | void;
}

const MAX_PIPELINE_DEPTH = 1000;

/** The advisory lock key for a namespace: the first 8 bytes of its sha256, as a signed 64-bit integer. */
export function advisoryLockKeyFor(namespace: string): bigint {
  return createHash("sha256").update(namespace).digest().readBigInt64BE(0);
}

/** One key for every tx-apply on a database, whatever the artifact: two applies never overlap. */
export const DEFAULT_ADVISORY_LOCK_KEY: bigint = advisoryLockKeyFor("dieu44/tx-apply");

export interface ResolvedOptions {
  role: string;
  expectSystemIdentifier: string;
  sha256: string;
  expectFingerprint: string | undefined;
  schemas: string[];
  privilegesFor: string[];
  verifyBeforeCommit: ExpectedDelta | undefined;
  dryRun: boolean;
  lockTimeout: string;
  statementTimeout: string;
  lockTimeoutMs: number;
  /** Also used for the catalog snapshots' own SET LOCAL. */
  statementTimeoutMs: number;
  advisoryLockKey: bigint;
  pipelineDepth: number;
  onStatement: ((event: StatementEvent) => void) | undefined;
  onBeforeStatement: ((event: StatementEvent) => Promise<void> | void) | undefined;
}

// PostgreSQL's time units for GUCs; a bare number is milliseconds.
const DURATION = /^(\d+)\s*(ms|s|min|h|d)?$/;

function duration(value: string | undefined, fallback: string, option: string): string {
  const text = (value ?? fallback).trim();
  const match = DURATION.exec(text);
  if (!match) throw new InputError(`${option} "${text}" is not a duration such as 500ms, 5s or 2min`);
  // 0 disables the timeout in PostgreSQL: the apply could then queue behind production forever.
  if (Number(match[1]) === 0) throw new InputError(`${option} must be greater than zero (0 would disable it)`);
  if (durationMs(text) > 2_147_483_647) throw new InputError(`${option} "${text}" exceeds PostgreSQL's maximum (about 24 days)`);
  return text.replace(/\s+/g, "");
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, min: 60_000, h: 3_600_000, d: 86_400_000 };

function durationMs(text: string): number {
  const match = DURATION.exec(text);
  return Math.max(1, Math.round(Number(match?.[1] ?? 0) * (UNIT_MS[match?.[2] ?? "ms"] ?? 1)));
}

function pipelineDepth(value: number | undefined): number {
  if (value === undefined) return DEFAULT_PIPELINE_DEPTH;
  if (!Number.isInteger(value) || value < 1 || value > MAX_PIPELINE_DEPTH) {
    throw new InputError(`--pipeline-depth must be an integer from 1 to ${MAX_PIPELINE_DEPTH}, got ${String(value)}`);
  }
  return value;
}

function names(values: string[] | undefined): string[] {
  return [...new Set((values ?? []).map((value) => value.trim()).filter(Boolean))];
}

function lockKey(value: ApplyOptions["advisoryLockKey"]): bigint {
  if (value === undefined) return DEFAULT_ADVISORY_LOCK_KEY;
  let key: bigint;
  try {
    if (typeof value === "number" && !Number.isSafeInteger(value)) throw new Error("unsafe");
    key = BigInt(typeof value === "string" ? value.trim() : value);
  } catch {
    throw new InputError(`advisory lock key "${String(value)}" is not an integer`);
  }
  if (key < -(2n ** 63n) || key >= 2n ** 63n) throw new InputError("advisory lock key must fit a signed 64-bit integer");
  return key;
}

export async function resolveOptions(options: ApplyOptions): Promise<ResolvedOptions> {
  const role = options.role?.trim();
  if (!role) throw new InputError("--role is required: the approved apply role");
  const sha256 = options.sha256?.trim().toLowerCase();
  if (!sha256 || !/^[0-9a-f]{64}$/.test(sha256)) throw new InputError("--sha256 must be the artifact's sha256 as 64 hex digits");
  const systemIdentifier = options.expectSystemIdentifier?.trim();
  if (!systemIdentifier || !/^\d+$/.test(systemIdentifier)) {
    throw new InputError("--expect-system-identifier must be the target's system identifier (decimal digits)");
  }
  const schemas = names(options.schemas);
  const expectFingerprint = options.expectFingerprint?.trim() || undefined;
  if (expectFingerprint && schemas.length === 0) {
    throw new InputError("--expect-fingerprint needs --schema: the fingerprint covers named schemas");
  }
  const lockTimeout = duration(options.lockTimeout, DEFAULT_LOCK_TIMEOUT, "--lock-timeout");
  const statementTimeout = duration(options.statementTimeout, DEFAULT_STATEMENT_TIMEOUT, "--statement-timeout");
  const depth = pipelineDepth(options.pipelineDepth);
  // The schema (and zod) load only when an expectation is given: most applies need neither.
  const verifyBeforeCommit =
    options.verifyBeforeCommit === undefined
      ? undefined
      : validateDocument(
          (await import("@dieu44/drift-diff/schema")).ExpectedDeltaSchema,
          options.verifyBeforeCommit,
          "verify-before-commit expectation",
        );
  return {
    role,
    expectSystemIdentifier: systemIdentifier,
    sha256,
    expectFingerprint,
    schemas,
    privilegesFor: names(options.privilegesFor),
    verifyBeforeCommit,
    dryRun: options.dryRun ?? false,
    lockTimeout,
    lockTimeoutMs: durationMs(lockTimeout),
    statementTimeout,
    statementTimeoutMs: durationMs(statementTimeout),
    advisoryLockKey: lockKey(options.advisoryLockKey),
    // A hook is a statement boundary, everything before it answered: one statement at a time.
    pipelineDepth: options.onBeforeStatement ? 1 : depth,
    onStatement: options.onStatement,
    onBeforeStatement: options.onBeforeStatement,
  };
}
