/**
 * The Điều 44 procedure (KB-172A): P1 read-only preflight, P2 fresh backup, P3 command integrity,
 * the apply as the authorized role in one transaction, verification of the catalog delta, and
 * the seed's failure tree. It stops at the first step that does not pass and never improvises:
 * no retry, no GRANT, no role switch, no ownership change, no DML, no downstream step.
 *
 * Each step is done by the package that owns it; this module only orders them, writes every
 * document into the evidence folder and decides the status.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join, relative, resolve } from "node:path";
import { createBackup, parseDuration, verifyBackup } from "@dieu44/backup-marker";
import { type CatalogSnapshot, CatalogSnapshotSchema, snapshot } from "@dieu44/catalog-snapshot";
import { check } from "@dieu44/drift-diff";
import { type ConnectionSpec, describeConnection, resolveConnection, toPgConfig } from "@dieu44/plumbing/connection";
import { EnvironmentError, ExitCode, errorMessage, exitCodeFor, InputError } from "@dieu44/plumbing/exit";
import { decodeUtf8, parseDocument } from "@dieu44/plumbing/json-io";
import { redact } from "@dieu44/plumbing/redact";
import { renderBundle } from "@dieu44/report-render";
import {
  type CheckResult,
  EvidenceManifestSchema,
  MANIFEST_FILE,
  PROCEDURE_RESULT_FILE,
  PROCEDURE_RESULT_FORMAT_VERSION,
  PROCEDURE_RESULT_KIND,
  type ProcedureMode,
  type ProcedureResult,
  type ProcedureStatus,
  type RollbackStatus,
  type Step,
  type StepId,
  type Verdict,
} from "@dieu44/report-render/schema";
import { lint } from "@dieu44/sql-lint";
import type { LintPolicyInput } from "@dieu44/sql-lint/schema";
import { advisoryLockKeyFor, apply, DEFAULT_LOCK_TIMEOUT } from "@dieu44/tx-apply";
import type { ApplyLog } from "@dieu44/tx-apply/schema";
import pg from "pg";
import { EvidenceFolder } from "./evidence.js";
import { applyDelta, expectedDeltaOf, qualifiedTargets, schemaDrift, scopeFingerprint } from "./expectation.js";
import { type LoadedPlan, loadPlan, planDifferences } from "./plan.js";
import { type Plan, PlanSchema } from "./schema.js";
import { type Clock, notRun, STEP_TITLES, StepRecorder } from "./steps.js";

export interface ProcedureOptions {
  mode: ProcedureMode;
  planPath: string;
  /** Default: the plan's evidence.dir, relative to the current directory. */
  evidenceDir?: string;
  /** Evidence folder of the previous attempt (drift and plan/artifact identity checks). */
  previousDir?: string;
  /** The apply role's connection (URL/DSN or the libpq environment). */
  connection: { url?: string; env?: NodeJS.ProcessEnv };
  /** Check the expected delta inside the transaction before COMMIT (default true). */
  verifyBeforeCommit?: boolean;
  /** pg_dump binary for P2 (default from PATH). */
  pgDump?: string;
  /** Where P2 writes the archive (default: the plan's backup.dir, relative to the current directory). Never inside the evidence folder. */
  backupDir?: string;
  /** Report templates folder (default: report-render's). */
  templatesDir?: string;
  clock?: Clock;
  /** Progress lines (the CLI sends them to stderr). */
  log?: (line: string) => void;
}

export interface ProcedureOutcome {
  result: ProcedureResult;
  evidenceDir: string;
  /** 0 PASS, 1 any other status; 2 (bad input) or 3 (environment) when a step could not run at all. */
  exitCode: 0 | 1 | 2 | 3;
}

/** What the steps found, gathered for the verdict and the report fields. */
interface RunState {
  steps: Step[];
  status?: ProcedureStatus;
  rootCause?: string;
  basis: string[];
  ddlDefect: boolean;
  schemaDrift: boolean;
  productionChanged: boolean;
  rollbackRequired: boolean;
  rollbackStatus: RollbackStatus;
  tablesCreated: number;
  verificationSummary: string;
  /** Set when a step could not run at all: 2 for bad input (e.g. --previous), 3 for the environment. */
  failureExit?: 2 | 3;
  before?: CatalogSnapshot;
  applyLog?: ApplyLog;
}

/** Everything the steps share. */
interface Context {
  options: ProcedureOptions;
  loaded: LoadedPlan;
  plan: Plan;
  spec: ConnectionSpec;
  connectionUrl: ConnectionOptionsForTools;
  evidence: EvidenceFolder;
  backupDir: string;
  clock: Clock;
  log: (line: string) => void;
  state: RunState;
  /** The previous attempt's plan and before-snapshot (with --previous), read once. */
  previous?: PreviousEvidence;
  /** The session holding this run's lock on the plan's target (run and rehearse), ended when the run ends. */
  runLock?: pg.Client;
}

type ConnectionOptionsForTools = { url?: string; env?: NodeJS.ProcessEnv };

const PSQL_EQUIVALENT = (plan: Plan, file: string) => `psql -U ${plan.applyRole} -v ON_ERROR_STOP=1 -1 -f ${file}`;

export async function runProcedure(options: ProcedureOptions): Promise<ProcedureOutcome> {
  const clock = options.clock ?? (() => new Date());
  const log = options.log ?? (() => undefined);
  const loaded = await loadPlan(options.planPath);
  const { plan } = loaded;
  const spec = resolveConnection({ ...options.connection, applicationName: "dieu44" });
  const evidence = new EvidenceFolder(resolve(options.evidenceDir ?? plan.evidence.dir));
  const backupDir = resolve(options.backupDir ?? plan.backup.dir);
  if (!relative(evidence.dir, backupDir).startsWith("..")) {
    // The evidence goes to reviewers; a production dump must not travel with it.
    throw new InputError(`the backup folder ${backupDir} is inside the evidence folder ${evidence.dir}`);
  }
  const previous = options.previousDir ? await readPreviousEvidence(options.previousDir) : undefined;
  await evidence.open();
  const startedAt = clock().toISOString();
  await evidence.writeDocument("plan.json", plan, "plan");

  const ctx: Context = {
    options,
    loaded,
    plan,
    spec,
    connectionUrl: options.connection,
    evidence,
    backupDir,
    previous,
    clock,
    log,
    state: {
      steps: [],
      basis: [],
      ddlDefect: false,
      schemaDrift: false,
      productionChanged: false,
      rollbackRequired: false,
      rollbackStatus: "not_required",
      tablesCreated: 0,
      verificationSummary: "not run: the procedure stopped before verification",
    },
  };

  try {
    return await runSteps(ctx, startedAt);
  } finally {
    // Ending the session releases the run lock (after the evidence is complete).
    await ctx.runLock?.end().catch(() => undefined);
  }
}

async function runSteps(ctx: Context, startedAt: string): Promise<ProcedureOutcome> {
  const { options, evidence, clock, log } = ctx;
  const order: StepId[] =
    options.mode === "preflight"
      ? ["P1_preflight", "P3_command_integrity"]
      : ["P1_preflight", "P2_fresh_backup", "P3_command_integrity", "apply", "verification"];
  const runners: Partial<Record<StepId, (ctx: Context) => Promise<boolean>>> = {
    P1_preflight: preflight,
    P2_fresh_backup: freshBackup,
    P3_command_integrity: commandIntegrity,
    apply: applyArtifact,
    verification: verification,
  };
  for (const id of order) {
    if (ctx.state.status) {
      ctx.state.steps.push(notRun(id, `not run: the procedure stopped with ${ctx.state.status}`));
      continue;
    }
    log(`${STEP_TITLES[id]} ...`);
    const runner = runners[id];
    if (!runner) continue;
    // Made before the step runs, so a step that throws is recorded with the time it started.
    const recorder = new StepRecorder(id, STEP_TITLES[id], clock);
    try {
      await runner(ctx);
    } catch (error) {
      // An environment failure inside a step: record it as that step's failure and stop.
      const message = redact(error instanceof Error ? error.message : String(error));
      recorder.check("step completed", "yes", `no: ${message}`, false);
      ctx.state.steps.push(recorder.finish("failed", `The step could not complete: ${message}`, null));
      const code = exitCodeFor(error);
      if ((error as { code?: unknown }).code === "55P03") {
        // Not the environment failing: production holds a lock this step needs (lock_timeout).
        block(ctx, "lock_timeout_waiting_for_production_lock", message);
      } else {
        ctx.state.failureExit = code === ExitCode.BadInput ? 2 : 3;
        block(ctx, code === ExitCode.BadInput ? "invalid_input" : "environment_failure", message);
      }
      // tx-apply throws only before sending anything (no connection): the apply stays BLOCKED.
      // After a commit, a verification that cannot finish leaves production unverified: escalate.
      if (id === "verification") {
        ctx.state.status = "STOP_AND_ESCALATE";
        ctx.state.rollbackStatus = "escalated";
      }
    }
  }
  if (!ctx.state.status) ctx.state.status = "PASS";
  if (options.mode === "run" || options.mode === "rehearse") {
    if (!ctx.state.steps.some((step) => step.id === "rollback")) {
      ctx.state.steps.push(notRun("rollback", "not required: nothing was committed that had to be undone"));
    }
  }

  const result = buildResult(ctx, startedAt);
  await evidence.writeDocument(PROCEDURE_RESULT_FILE, result, "procedure-result");
  await evidence.writeManifest();
  const rendered = await renderBundle(evidence.dir, { templatesDir: options.templatesDir });
  for (const file of rendered.files) await evidence.writeFile(file.name, file.content, "markdown-report");
  await evidence.writeManifest();
  const exitCode = result.status === "PASS" ? 0 : (ctx.state.failureExit ?? 1);
  return { result, evidenceDir: evidence.dir, exitCode };
}

function block(ctx: Context, rootCause: string, basis: string): void {
  ctx.state.status ??= "BLOCKED";
  ctx.state.rootCause ??= rootCause;
  ctx.state.basis.push(basis);
}

/** A read-only snapshot of the plan's schema with the apply role's privilege facts. */
function snapshotScope(ctx: Context, applicationName: string): Promise<CatalogSnapshot> {
  return snapshot(ctx.connectionUrl, { schemas: [ctx.plan.target.schema], privilegesFor: [ctx.plan.applyRole], applicationName });
}

const DEFAULT_BACKUP_LOCK_WAIT = "30s";

/** The plan's wait limits for tx-apply, in milliseconds (tx-apply's defaults when the plan has none). */
function applyTimeouts(plan: Plan): { lockTimeout?: string; statementTimeout?: string } {
  const ms = (value: string | undefined) => (value === undefined ? undefined : `${parseDuration(value)}ms`);
  return { lockTimeout: ms(plan.apply?.lockTimeout), statementTimeout: ms(plan.apply?.statementTimeout) };
}

/**
 * P1's snapshot, read by a session whose lock_timeout is the apply's: some catalog reads
 * (pg_get_indexdef) wait for a table another session holds exclusively, and the preflight must
 * give up as soon as the apply would, not hold on for the whole statement timeout.
 */
async function preflightSnapshot(ctx: Context): Promise<CatalogSnapshot> {
  const client = await connectAs(ctx, "dieu44-preflight");
  try {
    const lockTimeoutMs = parseDuration(ctx.plan.apply?.lockTimeout ?? DEFAULT_LOCK_TIMEOUT);
    await client.query(`set lock_timeout = ${lockTimeoutMs}`);
    return await snapshot(client, { schemas: [ctx.plan.target.schema], privilegesFor: [ctx.plan.applyRole] });
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** A session of the apply role's; a connection that cannot be made is an environment failure. */
async function connectAs(ctx: Context, applicationName: string): Promise<pg.Client> {
  const client = new pg.Client(toPgConfig({ ...ctx.spec, applicationName }));
  client.on("error", () => undefined);
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    throw new EnvironmentError(`cannot connect to ${describeConnection(ctx.spec)}: ${redact(errorMessage(error))}`, {
      cause: error,
    });
  }
  return client;
}

/**
 * Two runs on one target must never interleave: the second would back up, check and try to apply
 * against a catalog the first is changing, and report a drift or a busy apply instead of the
 * truth. So a run (or rehearsal) holds a session advisory lock on its target from the start of P1
 * to its end, on a dedicated session (the apply's own session takes tx-apply's lock, a different
 * key), and a second run is refused before it reads or writes anything. Advisory locks are per
 * database; the key names the schema. Returns the holder's description when the lock is taken.
 */
async function takeRunLock(ctx: Context, key: bigint): Promise<string | null> {
  const client = await connectAs(ctx, "dieu44-run-lock");
  try {
    const { rows } = await client.query<{ locked: boolean }>("select pg_try_advisory_lock($1::bigint) as locked", [
      key.toString(),
    ]);
    if (rows[0]?.locked === true) {
      ctx.runLock = client;
      return null;
    }
    // A bigint key is stored as classid (high 32 bits) and objid (low 32 bits), objsubid 1.
    const holder = await client.query<{ pid: number; application_name: string | null; backend_start: Date | null }>(
      `select l.pid, a.application_name, a.backend_start from pg_locks l left join pg_stat_activity a on a.pid = l.pid
        where l.locktype = 'advisory' and l.granted and l.objsubid = 1
          and l.database = (select oid from pg_database where datname = current_database())
          and l.classid::bigint = $1::bigint and l.objid::bigint = $2::bigint`,
      [((key >> 32n) & 0xffffffffn).toString(), (key & 0xffffffffn).toString()],
    );
    await client.end().catch(() => undefined);
    const row = holder.rows[0];
    if (!row) return "held by another session";
    const since = row.backend_start ? ` since ${row.backend_start.toISOString()}` : "";
    return `held by backend ${row.pid} (${row.application_name || "?"})${since}`;
  } catch (error) {
    await client.end().catch(() => undefined);
    throw error;
  }
}

/** P1: read-only preflight on a snapshot of the plan's schema. */
async function preflight(ctx: Context): Promise<boolean> {
  const { plan, evidence } = ctx;
  const step = new StepRecorder("P1_preflight", STEP_TITLES.P1_preflight, ctx.clock);
  if (ctx.options.mode !== "preflight") {
    const name = `dieu44/run/${plan.target.schema}`;
    const holder = await takeRunLock(ctx, advisoryLockKeyFor(name));
    if (!step.check(`no other dieu44 run on ${plan.target.schema} (advisory lock "${name}")`, "acquired", holder ?? "acquired")) {
      const summary = `Another dieu44 run on ${plan.target.database}/${plan.target.schema} is in progress (its lock is ${holder}); this run stopped before reading or changing anything.`;
      ctx.state.steps.push(step.finish("failed", summary, null));
      block(ctx, "another_run_in_progress", `the run lock "${name}" is ${holder}`);
      return false;
    }
  }
  const before = await preflightSnapshot(ctx);
  ctx.state.before = before;
  step.documents.push(await evidence.writeDocument("snapshot-before.json", before, "before"));

  const causes: [string, string][] = [];
  const fail = (cause: string, basis: string) => causes.push([cause, basis]);
  if (!step.check("system_identifier", plan.target.systemIdentifier, before.server.systemIdentifier)) {
    fail("wrong_cluster_system_identifier_mismatch", `system_identifier ${before.server.systemIdentifier} is not the plan's`);
  }
  if (!step.check("database", plan.target.database, before.server.database)) {
    fail("wrong_database", `connected to database ${before.server.database}`);
  }
  const schema = before.schemas.find((entry) => entry.name === plan.target.schema);
  if (!step.check("schema exists", `${plan.target.schema} exists`, schema?.exists ? `${plan.target.schema} exists` : "absent")) {
    fail("schema_missing", `schema ${plan.target.schema} does not exist`);
  }
  const present = before.tables
    .filter((table) => table.schema === plan.target.schema && plan.target.tables.includes(table.name))
    .map((table) => `${table.schema}.${table.name}`);
  if (
    !step.check(
      "target tables absent",
      `0 of ${plan.target.tables.length} present`,
      present.length ? `present: ${present.join(", ")}` : `0 of ${plan.target.tables.length} present`,
    )
  ) {
    fail("target_tables_already_exist", `already present: ${present.join(", ")}`);
  }
  const role = before.roles.find((entry) => entry.name === plan.applyRole);
  const privileges = role?.schemaPrivileges.find((entry) => entry.schema === plan.target.schema);
  const yesNo = (value: boolean | undefined) => (value ? "yes" : "no");
  if (!step.check(`apply role ${plan.applyRole} exists`, "yes", yesNo(role?.exists)))
    fail("apply_role_missing", `role ${plan.applyRole} does not exist`);
  else {
    if (!step.check(`apply role ${plan.applyRole} can log in`, "yes", yesNo(role?.canLogin))) {
      fail("apply_role_cannot_login", `role ${plan.applyRole} has no LOGIN`);
    }
    if (!step.check(`USAGE on schema ${plan.target.schema} for ${plan.applyRole}`, "yes", yesNo(privileges?.usage))) {
      fail("apply_role_lacks_USAGE_on_schema", `has_schema_privilege(${plan.applyRole}, ${plan.target.schema}, USAGE) is false`);
    }
    if (!step.check(`CREATE on schema ${plan.target.schema} for ${plan.applyRole}`, "yes", yesNo(privileges?.create))) {
      fail(
        "apply_role_lacks_CREATE_on_schema",
        `has_schema_privilege(${plan.applyRole}, ${plan.target.schema}, CREATE) is false`,
      );
    }
  }

  const { previous } = ctx;
  if (plan.reauthorization && !step.check("previous attempt's evidence (--previous)", "given", previous ? "given" : "missing")) {
    fail(
      "previous_attempt_evidence_missing",
      "the plan reauthorizes an earlier attempt, but no --previous evidence was given to check drift against",
    );
  }
  if (
    previous &&
    !step.check("previous attempt on the same cluster", before.server.systemIdentifier, previous.before.server.systemIdentifier)
  ) {
    fail(
      "previous_attempt_on_another_cluster",
      `the previous attempt's snapshot is of cluster ${previous.before.server.systemIdentifier}`,
    );
  } else if (previous) {
    const drift = schemaDrift(previous.before, before, plan);
    step.documents.push(await evidence.writeDocument("drift-since-previous.json", drift, "drift-since-previous"));
    const changes = drift.changes.length;
    if (!step.check("no relevant drift since the previous attempt", "0 changes", `${changes} changes`)) {
      ctx.state.schemaDrift = true;
      fail(
        "schema_drift_since_previous_attempt",
        `${changes} catalog changes in ${plan.target.schema} since ${previous.before.server.takenAt}`,
      );
    }
  }

  const passed = causes.length === 0;
  const summary = passed
    ? `Cluster ${before.server.systemIdentifier}, schema ${plan.target.schema} present, all ${plan.target.tables.length} target tables absent, ${plan.applyRole} can log in with USAGE and CREATE.`
    : `Preflight failed: ${causes.map(([, basis]) => basis).join("; ")}. Nothing was sent to the database.`;
  ctx.state.steps.push(
    step.finish(
      passed ? "passed" : "failed",
      summary,
      `catalog-snapshot --schema ${plan.target.schema} --privileges-for ${plan.applyRole}`,
    ),
  );
  for (const [cause, basis] of causes) block(ctx, cause, basis);
  return passed;
}

/** P2: a fresh pg_dump backup, verified (sha256, readable archive, freshness, cluster). */
async function freshBackup(ctx: Context): Promise<boolean> {
  const { plan, evidence } = ctx;
  const step = new StepRecorder("P2_fresh_backup", STEP_TITLES.P2_fresh_backup, ctx.clock);
  const marker = await createBackup({
    connection: ctx.connectionUrl,
    outDir: ctx.backupDir,
    label: plan.cycle,
    pgDump: ctx.options.pgDump,
    // Never queue behind production for ever: a table held exclusively fails P2 after this long.
    lockWaitTimeoutMs: parseDuration(plan.backup.lockWaitTimeout ?? DEFAULT_BACKUP_LOCK_WAIT),
  });
  let passed = step.check("pg_dump completed", "complete", marker.status);
  if (passed) {
    const verification = await verifyBackup(marker, {
      maxAgeMs: parseDuration(plan.backup.maxAge),
      expectSystemIdentifier: plan.target.systemIdentifier,
    });
    marker.verification = verification;
    for (const result of verification.checks) {
      step.check(
        `backup ${result.name}`,
        "pass",
        result.status === "skipped" ? "skipped" : result.status,
        result.status !== "fail",
      );
    }
    passed = verification.passed;
  }
  step.documents.push(await evidence.writeDocument("backup-marker.json", marker, "backup"));
  const summary = passed
    ? `Backup ${marker.id}: ${marker.size} bytes, sha256 ${marker.sha256}, verified readable and fresh.`
    : `The fresh backup failed: ${step.failedChecks.map((check) => `${check.name} (${check.actual})`).join("; ") || marker.failure?.message}.`;
  ctx.state.steps.push(
    step.finish(passed ? "passed" : "failed", summary, `backup-marker create --out-dir ${plan.backup.dir} --label ${plan.cycle}`),
  );
  if (!passed) block(ctx, "fresh_backup_failed", summary);
  return passed;
}

/** The sql-lint policy the plan implies: the approved bytes, the schema, the tables, the counts. */
export function lintPolicyOf(plan: Plan): LintPolicyInput {
  const { expectedDelta } = plan;
  return {
    kind: "sql-lint-policy",
    formatVersion: 1,
    description: `policy of ${plan.cycle}`,
    approvedSha256: plan.artifact.sha256,
    allowedSchemas: [plan.target.schema],
    tables: qualifiedTargets(plan),
    statementCounts: { BEGIN: 1, "CREATE TABLE": plan.target.tables.length, COMMIT: 1 },
    onlyCountedStatements: true,
    objectCounts: {
      table: expectedDelta.tables,
      primary_key: expectedDelta.primaryKeys,
      foreign_key: expectedDelta.foreignKeys,
      unique: expectedDelta.unique,
      ...Object.fromEntries(expectedDelta.mustNotChange.map((kind) => [kind, 0])),
    },
    forbiddenStatements: plan.policy.forbiddenStatements,
    acceptDeclaredOnErrorStop: false,
    rules: plan.policy.rules,
  };
}

/** P3: the artifact is the approved one, obeys the policy, and the connection is the apply role. */
async function commandIntegrity(ctx: Context): Promise<boolean> {
  const { plan, evidence, loaded } = ctx;
  const step = new StepRecorder("P3_command_integrity", STEP_TITLES.P3_command_integrity, ctx.clock);
  const bytes = await readFile(loaded.artifactPath);
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  const report = await lint(bytes, lintPolicyOf(plan), { path: loaded.artifactPath });
  step.documents.push(await evidence.writeDocument("lint-report.json", report, "command-integrity"));
  const { facts } = report;
  step.check("same DDL artifact (sha256)", plan.artifact.sha256, sha256);
  step.check("sql-lint policy", "pass", report.pass ? "pass" : `${report.summary.errors} error findings`);
  step.check("CREATE SCHEMA statements", "0", String(facts.createSchema));
  step.check("CREATE TABLE statements", String(plan.target.tables.length), String(facts.createTable));
  step.check("tables created", qualifiedTargets(plan).sort().join(", "), [...facts.tablesCreated].sort().join(", "));
  step.check("BEGIN...COMMIT transaction boundary", "yes", facts.transaction.wrapped ? "yes" : "no");
  step.check(
    "ON_ERROR_STOP",
    "set in the file (tx-apply stops at the first error in any case)",
    facts.onErrorStop.inFile ? "set in the file (tx-apply stops at the first error in any case)" : "not set in the file",
  );
  step.check("connection/apply role", plan.applyRole, ctx.spec.user);

  const { previous } = ctx;
  if (previous) {
    if (plan.reauthorization) {
      step.check("previous attempt's apply role", plan.reauthorization.previousApplyRole, previous.plan.applyRole);
    }
    const allowed = new Set(plan.reauthorization?.allowedChanges ?? []);
    const differences = planDifferences(previous.plan, plan);
    const unauthorized = differences.filter((path) => !allowed.has(path as "applyRole"));
    step.check(
      "plan differs from the previous attempt only as reauthorized",
      `only: ${[...allowed].join(", ") || "nothing"}`,
      unauthorized.length ? `also: ${unauthorized.join(", ")}` : `only: ${differences.join(", ") || "nothing"}`,
      unauthorized.length === 0,
    );
    step.check("artifact byte-identical to the previous attempt's", previous.plan.artifact.sha256, sha256);
  }

  const failed = step.failedChecks;
  const passed = failed.length === 0;
  const summary = passed
    ? `Artifact sha256 ${sha256} is the approved one: ${facts.createTable} CREATE TABLE, no CREATE SCHEMA, BEGIN...COMMIT, ON_ERROR_STOP; connecting as ${ctx.spec.user}.`
    : `Command integrity failed: ${failed.map((check) => `${check.name} expected ${check.expected}, found ${check.actual}`).join("; ")}.`;
  ctx.state.steps.push(
    step.finish(passed ? "passed" : "failed", summary, `sql-lint ${plan.artifact.path} --policy <plan policy>`),
  );
  if (!passed) {
    const artifactChanged = failed.some((check) => check.name.includes("sha256") || check.name.startsWith("artifact"));
    const cause = failed.some((check) => check.name === "connection/apply role")
      ? "connection_role_is_not_the_apply_role"
      : artifactChanged
        ? "artifact_is_not_the_approved_one"
        : failed.some((check) => check.name.startsWith("plan differs"))
          ? "plan_changed_beyond_reauthorization"
          : "command_integrity_policy_violation";
    ctx.state.ddlDefect = !artifactChanged && cause === "command_integrity_policy_violation";
    block(ctx, cause, summary);
  }
  return passed;
}

/** The apply through tx-apply, with its guards and (by default) the expected delta before COMMIT. */
async function applyArtifact(ctx: Context): Promise<boolean> {
  const { plan, evidence, state } = ctx;
  const before = state.before as CatalogSnapshot;
  const step = new StepRecorder("apply", STEP_TITLES.apply, ctx.clock);
  const dryRun = ctx.options.mode === "rehearse";
  const log = await apply(
    ctx.connectionUrl,
    { path: ctx.loaded.artifactPath },
    {
      role: plan.applyRole,
      expectSystemIdentifier: plan.target.systemIdentifier,
      sha256: plan.artifact.sha256,
      expectFingerprint: scopeFingerprint(before),
      schemas: [plan.target.schema],
      verifyBeforeCommit: ctx.options.verifyBeforeCommit === false ? undefined : expectedDeltaOf(plan),
      dryRun,
      ...applyTimeouts(plan),
      onStatement: (event) => {
        if (event.phase === "end")
          ctx.log(`  statement ${event.index}/${event.total - 1} line ${event.line} ${event.tag}: ${event.status}`);
      },
    },
  );
  // Recorded before anything else can fail: a committed apply changed production.
  ctx.state.productionChanged = log.outcome === "committed";
  ctx.state.applyLog = log;
  step.documents.push(await evidence.writeDocument("apply-log.json", log, "apply"));
  for (const guard of log.guards) step.check(`guard ${guard.name}`, guard.expected, guard.actual ?? "unreadable", guard.passed);
  const sent = log.statements.filter((statement) => statement.status !== "not_sent").length;
  const dryRunPassed = dryRun && log.passed;
  step.check("outcome", dryRun ? "rolled_back (dry run)" : "committed", dryRunPassed ? "rolled_back (dry run)" : log.outcome);
  const command = PSQL_EQUIVALENT(plan, plan.artifact.path);

  if (log.outcome === "committed" || dryRunPassed) {
    ctx.state.steps.push(
      step.finish(
        "passed",
        `${dryRun ? "Dry run" : "Applied"}: ${sent} statements as ${plan.applyRole}, outcome ${log.outcome}.`,
        command,
      ),
    );
    return true;
  }
  if (log.outcome === "not_started") {
    const guard = log.guards.find((entry) => !entry.passed);
    ctx.state.steps.push(step.finish("failed", `Not started: guard ${guard?.name ?? "?"} failed; nothing was sent.`, command));
    if (guard?.name === "fingerprint") ctx.state.schemaDrift = true;
    block(
      ctx,
      guard ? guardCause(guard.name) : "apply_not_started",
      `guard ${guard?.name}: expected ${guard?.expected}, found ${guard?.actual}`,
    );
    return false;
  }

  // rolled_back (error or failed pre-commit verification) or unknown: ask the catalog, never assume.
  // An unknown COMMIT may still be in flight on the server: judge only once its backend is gone.
  if (log.outcome === "unknown" && log.backendPid !== null && !(await backendEnded(ctx, log.backendPid))) {
    ctx.state.steps.push(
      step.finish("failed", `COMMIT outcome unknown and backend ${log.backendPid} is still running: stop and escalate.`, command),
    );
    ctx.state.status = "STOP_AND_ESCALATE";
    ctx.state.rollbackStatus = "escalated";
    ctx.state.rootCause = "commit_outcome_unknown";
    ctx.state.productionChanged = true;
    ctx.state.basis.push(`apply backend ${log.backendPid} still present in pg_stat_activity after ${BACKEND_WAIT_MS / 1000} s`);
    return false;
  }
  const after = await snapshotScope(ctx, "dieu44-verify");
  step.documents.push(await evidence.writeDocument("snapshot-after.json", after, "after"));
  const drift = schemaDrift(before, after, plan);
  step.documents.push(await evidence.writeDocument("diff.json", drift, "apply-diff"));
  const created = countTargets(after, plan);
  ctx.state.tablesCreated = created;
  step.check("catalog unchanged after the failed apply", "0 changes", `${drift.changes.length} changes`);

  if (log.outcome === "unknown" && created === plan.target.tables.length) {
    // The COMMIT reached the server after all: continue to verification like a committed apply.
    ctx.state.productionChanged = true;
    ctx.state.steps.push(
      step.finish("passed", "The connection was lost during COMMIT; the catalog shows the transaction committed.", command),
    );
    return true;
  }
  const error = log.error;
  const where = error
    ? `SQLSTATE ${error.sqlstate ?? "?"} at statement ${error.statementIndex ?? "?"} (line ${error.line ?? "?"}): ${error.message}`
    : "";
  if (drift.changes.length === 0) {
    ctx.state.steps.push(
      step.finish(
        "failed",
        `The apply did not commit (${log.outcome}); the catalog is verified unchanged. ${where}`.trim(),
        command,
      ),
    );
    ctx.state.status = "FAIL";
    ctx.state.rollbackStatus = log.outcome === "rolled_back" ? "transaction_rolled_back" : "not_required";
    ctx.state.rootCause = rootCauseOf(log, before, plan);
    ctx.state.ddlDefect = log.verification ? !log.verification.passed : false;
    ctx.state.basis.push(where || `outcome ${log.outcome}`, "catalog verified unchanged against the preflight snapshot");
    return false;
  }
  ctx.state.productionChanged = true;
  ctx.state.steps.push(
    step.finish(
      "failed",
      `Outcome ${log.outcome}, but the catalog changed (${drift.changes.length} changes): stop and escalate.`,
      command,
    ),
  );
  ctx.state.status = "STOP_AND_ESCALATE";
  ctx.state.rollbackStatus = "escalated";
  ctx.state.rootCause = "apply_outcome_disagrees_with_catalog";
  ctx.state.basis.push(`apply outcome ${log.outcome}`, `${drift.changes.length} catalog changes in ${plan.target.schema}`);
  return false;
}

const BACKEND_WAIT_MS = 30_000;

/** Waits (bounded) until the apply's backend has left pg_stat_activity: its transaction is then settled. */
async function backendEnded(ctx: Context, pid: number): Promise<boolean> {
  const client = new pg.Client(toPgConfig({ ...ctx.spec, applicationName: "dieu44-verify" }));
  await client.connect();
  try {
    const deadline = Date.now() + BACKEND_WAIT_MS;
    for (;;) {
      const { rowCount } = await client.query("select 1 from pg_stat_activity where pid = $1", [pid]);
      if (!rowCount) return true;
      if (Date.now() > deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  } finally {
    await client.end();
  }
}

function guardCause(name: string): string {
  const causes: Record<string, string> = {
    sha256: "artifact_is_not_the_approved_one",
    artifact: "artifact_shape_refused",
    connection_user: "connection_role_is_not_the_apply_role",
    current_user: "connection_role_is_not_the_apply_role",
    session_user: "connection_role_is_not_the_apply_role",
    system_identifier: "wrong_cluster_system_identifier_mismatch",
    advisory_lock: "another_apply_in_progress",
    fingerprint: "schema_drift_since_preflight",
  };
  return causes[name] ?? `guard_${name}_failed`;
}

/** The root cause of a failed apply, from the SQLSTATE and the preflight's privilege facts. */
function rootCauseOf(log: ApplyLog, before: CatalogSnapshot, plan: Plan): string {
  if (log.verification && !log.verification.passed) return "expected_delta_not_met_before_commit";
  const sqlstate = log.error?.sqlstate;
  if (sqlstate === "42501") {
    const privileges = before.roles
      .find((role) => role.name === plan.applyRole)
      ?.schemaPrivileges.find((entry) => entry.schema === plan.target.schema);
    if (privileges && !privileges.create) return "apply_role_lacks_CREATE_on_schema";
    if (privileges && !privileges.usage) return "apply_role_lacks_USAGE_on_schema";
    return "insufficient_privilege";
  }
  const known: Record<string, string> = {
    "42P07": "target_table_already_exists",
    "55P03": "lock_timeout_waiting_for_production_lock",
    "57014": "statement_timeout_or_cancel",
    "57P01": "apply_session_terminated",
    "57P02": "apply_session_terminated",
    "57P03": "server_shutting_down",
    "08006": "connection_lost",
  };
  if (sqlstate && known[sqlstate]) return known[sqlstate] as string;
  if (log.outcome === "unknown") return "connection_lost_during_commit";
  return sqlstate ? `apply_error_SQLSTATE_${sqlstate}` : "apply_failed";
}

function countTargets(snapshotDoc: CatalogSnapshot, plan: Plan): number {
  return snapshotDoc.tables.filter((table) => table.schema === plan.target.schema && plan.target.tables.includes(table.name))
    .length;
}

/** Verification after the apply; on failure, the seed's rollback branch. */
async function verification(ctx: Context): Promise<boolean> {
  if (ctx.options.mode === "rehearse") return rehearsalVerification(ctx);
  const { plan, evidence, state } = ctx;
  const before = state.before as CatalogSnapshot;
  const step = new StepRecorder("verification", STEP_TITLES.verification, ctx.clock);
  const after = await snapshotScope(ctx, "dieu44-verify");
  step.documents.push(await evidence.writeDocument("snapshot-after.json", after, "after"));
  const delta = applyDelta(before, after, plan);
  step.documents.push(await evidence.writeDocument("diff.json", delta, "apply-diff"));
  const expectation = expectedDeltaOf(plan);
  step.documents.push(await evidence.writeDocument("expected-delta.json", expectation, "expected-delta"));
  const result = check(delta, expectation);
  step.documents.push(await evidence.writeDocument("expectation-result.json", result, "verification"));
  const byKind = delta.summary.byKind;
  const added = (kind: keyof typeof byKind) => byKind[kind]?.added ?? 0;
  const found = `+${added("table")} tables, +${added("primary_key")} PK, +${added("foreign_key")} FK, +${added("unique")} UNIQUE, ${added("check")} CHECK, ${added("default")} DEFAULT, ${added("trigger")} trigger, ${added("enum")} enum`;
  step.check("tables", String(plan.expectedDelta.tables), String(added("table")));
  step.check("primary keys", String(plan.expectedDelta.primaryKeys), String(added("primary_key")));
  step.check("foreign keys", String(plan.expectedDelta.foreignKeys), String(added("foreign_key")));
  step.check("unique constraints", String(plan.expectedDelta.unique), String(added("unique")));
  for (const violation of result.violations) step.check(`violation: ${violation.rule}`, "none", violation.message, false);
  ctx.state.tablesCreated = countTargets(after, plan);

  if (result.pass) {
    ctx.state.verificationSummary = `PASS: ${found}; nothing else changed in ${plan.target.schema}`;
    ctx.state.steps.push(
      step.finish("passed", ctx.state.verificationSummary, "catalog-snapshot | drift-diff BEFORE AFTER --expect EXPECTED"),
    );
    return true;
  }
  ctx.state.verificationSummary = `FAIL: ${found}; ${result.violations.length} violations (${result.violations.map((v) => v.rule).join(", ")})`;
  ctx.state.steps.push(
    step.finish("failed", ctx.state.verificationSummary, "catalog-snapshot | drift-diff BEFORE AFTER --expect EXPECTED"),
  );
  ctx.state.rollbackRequired = true;
  // Not a DDL defect: P3 proved the artifact's own content matches the plan; the catalog ended up
  // different anyway (something else acted during the apply), which the verdict's basis records.
  ctx.state.productionChanged = true;
  ctx.state.basis.push(ctx.state.verificationSummary);
  await rollbackIfSafe(ctx, after);
  return false;
}

/**
 * A rehearsal's verification: the expected delta was checked inside the transaction (tx-apply's
 * pre-commit verification, in the apply log), then everything was rolled back, so the catalog
 * must equal the before-snapshot.
 */
async function rehearsalVerification(ctx: Context): Promise<boolean> {
  const { plan, evidence, state } = ctx;
  const step = new StepRecorder("verification", STEP_TITLES.verification, ctx.clock);
  const after = await snapshotScope(ctx, "dieu44-verify");
  step.documents.push(await evidence.writeDocument("snapshot-after.json", after, "after"));
  const unchanged = schemaDrift(state.before as CatalogSnapshot, after, plan);
  step.documents.push(await evidence.writeDocument("diff.json", unchanged, "apply-diff"));
  const inTransaction = state.applyLog?.verification ?? null;
  const held = step.check(
    "expected delta inside the transaction, before ROLLBACK",
    "held",
    inTransaction === null ? "not checked (--no-verify-before-commit)" : inTransaction.passed ? "held" : "violated",
  );
  const clean = step.check("catalog unchanged after the dry run", "0 changes", `${unchanged.changes.length} changes`);
  const passed = held && clean;
  state.verificationSummary = passed
    ? "rehearsal: expected delta held inside the transaction; rolled back, catalog unchanged"
    : `rehearsal: ${step.failedChecks.map((check) => `${check.name}: ${check.actual}`).join("; ")}`;
  state.steps.push(
    step.finish(passed ? "passed" : "failed", state.verificationSummary, "tx-apply --dry-run --verify-before-commit EXPECTED"),
  );
  if (!clean) {
    state.status = "STOP_AND_ESCALATE";
    state.rollbackStatus = "escalated";
    state.rootCause = "dry_run_changed_the_catalog";
    state.productionChanged = true;
  } else if (!held) {
    state.status = "FAIL";
    state.rootCause = inTransaction === null ? "rehearsal_without_pre_commit_check" : "expected_delta_not_met_before_commit";
  }
  return passed;
}

/**
 * Committed but verification failed: run the approved rollback package only if its assumptions
 * hold (the new tables are empty, nothing outside them depends on them), then prove the catalog
 * is back to the before-snapshot. Otherwise STOP_AND_ESCALATE.
 */
async function rollbackIfSafe(ctx: Context, after: CatalogSnapshot): Promise<void> {
  const { plan, evidence, state } = ctx;
  const before = state.before as CatalogSnapshot;
  const step = new StepRecorder("rollback", STEP_TITLES.rollback, ctx.clock);
  const assumptions = await rollbackAssumptions(ctx, after);
  step.check("created tables are empty", "yes", assumptions.nonEmpty.length ? `no: ${assumptions.nonEmpty.join(", ")}` : "yes");
  step.check(
    "nothing outside the created tables depends on them",
    "yes",
    assumptions.dependents.length ? `no: ${assumptions.dependents.join(", ")}` : "yes",
  );
  const command = PSQL_EQUIVALENT(plan, plan.rollback.path);
  if (step.failedChecks.length) {
    state.steps.push(step.finish("skipped", "Rollback assumptions do not hold: stop and escalate.", command));
    state.status = "STOP_AND_ESCALATE";
    state.rollbackStatus = "escalated";
    state.rootCause = "verification_failed_rollback_unsafe";
    return;
  }
  const log = await apply(
    ctx.connectionUrl,
    { path: ctx.loaded.rollbackPath },
    {
      role: plan.applyRole,
      expectSystemIdentifier: plan.target.systemIdentifier,
      sha256: plan.rollback.sha256,
      expectFingerprint: scopeFingerprint(after),
      schemas: [plan.target.schema],
      ...applyTimeouts(plan),
    },
  );
  step.documents.push(await evidence.writeDocument("rollback-apply-log.json", log, "rollback"));
  const restored = await snapshotScope(ctx, "dieu44-verify");
  step.documents.push(await evidence.writeDocument("snapshot-after-rollback.json", restored, "after-rollback"));
  const remaining = schemaDrift(before, restored, plan);
  step.documents.push(await evidence.writeDocument("diff-after-rollback.json", remaining, "rollback-diff"));
  step.check("rollback outcome", "committed", log.outcome);
  const back = step.check("catalog back to the before-snapshot", "0 changes", `${remaining.changes.length} changes`);
  state.tablesCreated = countTargets(restored, plan);
  if (log.outcome === "committed" && back) {
    state.steps.push(step.finish("passed", "Rollback package applied; the catalog equals the before-snapshot.", command));
    state.status = "ROLLED_BACK";
    state.rollbackStatus = "rollback_package_applied";
    state.rootCause = "expected_delta_not_met_after_commit";
    return;
  }
  state.steps.push(
    step.finish(
      "failed",
      `Rollback outcome ${log.outcome}; ${remaining.changes.length} changes remain: stop and escalate.`,
      command,
    ),
  );
  state.status = "STOP_AND_ESCALATE";
  state.rollbackStatus = "escalated";
  state.rootCause = "rollback_did_not_restore_the_catalog";
}

/** Read-only checks of the rollback package's assumptions, as the apply role. */
async function rollbackAssumptions(ctx: Context, after: CatalogSnapshot): Promise<{ nonEmpty: string[]; dependents: string[] }> {
  const { plan } = ctx;
  const created = after.tables.filter((table) => table.schema === plan.target.schema && plan.target.tables.includes(table.name));
  const client = new pg.Client(toPgConfig({ ...ctx.spec, applicationName: "dieu44-rollback-check" }));
  await client.connect();
  try {
    await client.query("begin isolation level repeatable read, read only");
    const nonEmpty: string[] = [];
    for (const table of created) {
      const name = `${pg.escapeIdentifier(table.schema)}.${pg.escapeIdentifier(table.name)}`;
      const { rowCount } = await client.query(`select 1 from ${name} limit 1`);
      if (rowCount) nonEmpty.push(`${table.schema}.${table.name}`);
    }
    // Foreign keys from other tables and views/rules that reference the created tables.
    const { rows } = await client.query<{ dependent: string }>(
      `with created as (select c.oid from pg_class c join pg_namespace n on n.oid = c.relnamespace
                         where n.nspname = $1 and c.relname = any($2::text[]) and c.relkind in ('r', 'p'))
       select conrelid::regclass::text || ' (foreign key ' || conname || ')' as dependent
         from pg_constraint where contype = 'f' and confrelid in (select oid from created)
          and conrelid not in (select oid from created)
       union
       select r.ev_class::regclass::text || ' (view/rule)'
         from pg_depend d join pg_rewrite r on d.classid = 'pg_rewrite'::regclass and d.objid = r.oid
        where d.refobjid in (select oid from created) and r.ev_class not in (select oid from created)
       order by 1`,
      [plan.target.schema, created.map((table) => table.name)],
    );
    await client.query("commit");
    return { nonEmpty, dependents: rows.map((row) => row.dependent) };
  } finally {
    await client.end();
  }
}

interface PreviousEvidence {
  plan: Plan;
  before: CatalogSnapshot;
}

/** The previous attempt's plan and before-snapshot, each checked against its manifest sha256. */
async function readPreviousEvidence(dir: string): Promise<PreviousEvidence> {
  const manifestPath = join(dir, MANIFEST_FILE);
  const manifest = parseDocument(EvidenceManifestSchema, await readText(manifestPath), manifestPath);
  const load = async (name: string) => {
    const entry = manifest.files.find((file) => file.name === name);
    const path = join(dir, name);
    const bytes = await readFile(path).catch(() => {
      throw new InputError(`${path}: missing from the previous attempt's evidence`);
    });
    const sha256 = createHash("sha256").update(bytes).digest("hex");
    if (!entry || entry.sha256 !== sha256)
      throw new InputError(`${path}: does not match the previous attempt's manifest (sha256)`);
    return decodeUtf8(bytes, path);
  };
  const plan = parseDocument(PlanSchema, await load("plan.json"), join(dir, "plan.json"));
  const before = parseDocument(CatalogSnapshotSchema, await load("snapshot-before.json"), join(dir, "snapshot-before.json"));
  return { plan, before };
}

async function readText(path: string): Promise<string> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch {
    throw new InputError(`${path}: cannot read the previous attempt's evidence`);
  }
  return decodeUtf8(bytes, path);
}

function checkResult(steps: Step[], id: StepId): CheckResult {
  const step = steps.find((entry) => entry.id === id);
  if (!step || step.status === "not_run" || step.status === "skipped") return "NOT_RUN";
  return step.status === "passed" ? "PASS" : "FAIL";
}

function buildResult(ctx: Context, startedAt: string): ProcedureResult {
  const { plan, state } = ctx;
  const status = state.status ?? "PASS";
  const steps = state.steps;
  const result: ProcedureResult = {
    kind: PROCEDURE_RESULT_KIND,
    formatVersion: PROCEDURE_RESULT_FORMAT_VERSION,
    mode: ctx.options.mode,
    cycle: plan.cycle,
    plan: { path: ctx.loaded.path, sha256: ctx.loaded.sha256 },
    status,
    applyRole: plan.applyRole,
    connection: describeConnection(ctx.spec),
    startedAt,
    finishedAt: ctx.clock().toISOString(),
    steps,
    reportFields: {
      reauthorized_apply_status: status === "STOP_AND_ESCALATE" ? "FAIL" : status,
      apply_role_used: ctx.spec.user,
      preflight_rerun_result: checkResult(steps, "P1_preflight"),
      fresh_backup_status: checkResult(steps, "P2_fresh_backup"),
      command_integrity_result: checkResult(steps, "P3_command_integrity"),
      tables_created: state.tablesCreated,
      verification_summary: state.verificationSummary,
      rollback_status_if_any: state.rollbackStatus,
      downstream_not_executed: plan.downstreamNotExecuted,
    },
    // A rehearsal's or preflight's files must never pass for the seed-named evidence of an apply.
    files:
      ctx.options.mode === "run"
        ? plan.evidence.files
        : {
            executionLog: `${ctx.options.mode}-${plan.evidence.files.executionLog}`,
            verificationResult: `${ctx.options.mode}-${plan.evidence.files.verificationResult}`,
            report: `${ctx.options.mode}-${plan.evidence.files.report}`,
          },
  };
  if (status !== "PASS") {
    const verdict: Verdict = {
      production_changed: state.productionChanged,
      tables_created: state.tablesCreated,
      rollback_required: state.rollbackRequired,
      root_cause: state.rootCause ?? "unknown",
      DDL_defect: state.ddlDefect,
      schema_drift: state.schemaDrift,
      basis: state.basis.length ? state.basis : ["no further facts recorded"],
    };
    result.verdict = verdict;
  }
  return result;
}
