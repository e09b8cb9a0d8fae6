/**
 * The plan: every parameter of one governed apply cycle. The numbers of the seed's cycle
 * (12 tables, 12 PK, 8 FK, 4 UNIQUE) live in the plan file, never in code. JSON or YAML.
 */
import { ObjectKindSchema } from "@dieu44/drift-diff/schema";
import { z } from "@dieu44/plumbing/zod";
import { RuleIdSchema, SeveritySchema, StatementClassSchema } from "@dieu44/sql-lint/schema";

export const PLAN_KIND = "dieu44-plan";
export const PLAN_FORMAT_VERSION = 1;

const sha256 = z.string().regex(/^[0-9a-f]{64}$/, "must be a lowercase hex sha256");
/** A wait limit: 500ms, 30s, 5m, 1h, 1d; never 0 (PostgreSQL reads 0 as "wait forever"). */
const waitLimit = z.string().regex(/^[1-9]\d*(ms|s|m|h|d)$/, "must be a duration greater than zero such as 500ms, 30s or 5m");
const identifier = z.string().min(1).max(63);

export const PlanSchema = z.object({
  kind: z.literal(PLAN_KIND),
  formatVersion: z.literal(PLAN_FORMAT_VERSION),
  /** Name of the cycle, used in headings. */
  cycle: z.string().min(1),
  /** The cycle's date as the seed writes it (report file names carry it). */
  date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  target: z.object({
    /** Expected pg_control system_identifier of production, as a decimal string. */
    systemIdentifier: z.string().regex(/^\d+$/),
    database: identifier,
    schema: identifier,
    /** Unqualified names of the tables the artifact creates, all in `schema`. */
    tables: z.array(identifier).min(1),
  }),
  /** Paths are relative to the plan file. */
  artifact: z.object({ path: z.string().min(1), sha256 }),
  rollback: z.object({ path: z.string().min(1), sha256 }),
  /** The only role the apply may connect as. */
  applyRole: identifier,
  expectedDelta: z.object({
    tables: z.number().int().nonnegative(),
    primaryKeys: z.number().int().nonnegative(),
    foreignKeys: z.number().int().nonnegative(),
    unique: z.number().int().nonnegative(),
    /** drift-diff object kinds that must not change at all. */
    mustNotChange: z.array(ObjectKindSchema),
    nothingElseInScope: z.boolean(),
  }),
  /**
   * Command-integrity policy for sql-lint. The app adds what the plan already says (approved
   * sha256, schema, tables, counts); here: forbidden statement classes and rule severities
   * (transaction-boundary, on-error-stop, unqualified-name, if-not-exists, ... all "error" unless set).
   */
  policy: z.object({
    forbiddenStatements: z.array(StatementClassSchema),
    rules: z.partialRecord(RuleIdSchema, SeveritySchema).default({}),
  }),
  /**
   * The apply session's wait limits. Production traffic comes first: a statement that waits longer
   * than lockTimeout for a lock fails, and the apply rolls back instead of queueing behind it.
   */
  apply: z
    .object({
      /** PostgreSQL lock_timeout of the apply session (default 5s). */
      lockTimeout: waitLimit.optional(),
      /** PostgreSQL statement_timeout of the apply session (default 60s). */
      statementTimeout: waitLimit.optional(),
    })
    .optional(),
  backup: z.object({
    /** Freshness limit, e.g. "1h", "30m". */
    maxAge: z.string().regex(/^\d+(ms|s|m|h|d)$/),
    /** Where archives go, relative to the evidence folder unless absolute. */
    dir: z.string().min(1),
    /** How long pg_dump may wait for a table another session holds exclusively (default 30s); then P2 fails. */
    lockWaitTimeout: waitLimit.optional(),
  }),
  evidence: z.object({
    dir: z.string().min(1),
    files: z.object({
      executionLog: z.string().min(1),
      verificationResult: z.string().min(1),
      report: z.string().min(1),
    }),
  }),
  /** Downstream steps this cycle must not execute (the seed's forbidden list); the report lists them. */
  downstreamNotExecuted: z.array(z.string().min(1)),
  /** For a rerun: what the reauthorization allows to differ from the previous attempt's plan. */
  reauthorization: z
    .object({
      previousApplyRole: identifier,
      allowedChanges: z.array(z.enum(["applyRole"])),
    })
    .optional(),
});
export type Plan = z.infer<typeof PlanSchema>;
