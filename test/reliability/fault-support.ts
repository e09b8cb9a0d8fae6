/**
 * What the fault cases share: the reference artifact as tx-apply plans it, the fixture plan's
 * expectation, and the one question every case asks the catalog afterwards: how many of the
 * twelve target tables exist (0 or 12; anything between is a partial commit).
 */
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expectedDeltaOf, type Plan, type ProcedureOptions, runProcedure } from "@dieu44/dieu44";
import type { ExpectedDelta } from "@dieu44/drift-diff/schema";
import { FIXTURE_DIR, FIXTURE_TABLES, type ServerInfo, serverUrl } from "@dieu44/test-harness";
import type { Outcome } from "@dieu44/tx-apply/schema";
import pg from "pg";

export const REFERENCE_PATH = join(FIXTURE_DIR, "ws-q5-registry-substrate-ddl.sql");
export const REFERENCE_BYTES: Buffer = readFileSync(REFERENCE_PATH);
export const sha256Of = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");
export const REFERENCE_SHA256 = sha256Of(REFERENCE_BYTES);

/** The fixture plan, as the procedure reads it. */
export function fixturePlan(): Plan {
  return JSON.parse(readFileSync(join(FIXTURE_DIR, "plan.json"), "utf8")) as Plan;
}

/** The expected delta the procedure checks before COMMIT (tx-apply's verifyBeforeCommit). */
export const FIXTURE_EXPECTATION: ExpectedDelta = expectedDeltaOf(fixturePlan());

/** How many of the twelve target tables the catalog shows (committed state, read by a new session). */
export async function targetTablesIn(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  client.on("error", () => undefined);
  await client.connect();
  try {
    const { rows } = await client.query<{ n: number }>(
      "select count(*)::int as n from pg_tables where schemaname = 'cutter_governance' and tablename = any($1::text[])",
      [FIXTURE_TABLES],
    );
    return rows[0]?.n ?? -1;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Drops whichever of the twelve target tables exist (a superuser URL), to reuse a database. */
export async function dropTargetTables(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const names = FIXTURE_TABLES.map((table) => `cutter_governance.${pg.escapeIdentifier(table)}`).join(", ");
    await client.query(`drop table if exists ${names} cascade`);
  } finally {
    await client.end();
  }
}

/** All or nothing: any count other than 0 or all twelve is a partial commit. */
export function isPartial(tables: number): boolean {
  return tables !== 0 && tables !== FIXTURE_TABLES.length;
}

/**
 * Whether an outcome is the truth about the catalog: committed only with all twelve tables,
 * rolled_back / not_started only with none, unknown with either (the caller must verify).
 */
export function isTruthful(outcome: Outcome, tables: number): boolean {
  if (isPartial(tables)) return false;
  if (outcome === "committed") return tables === FIXTURE_TABLES.length;
  if (outcome === "unknown") return true;
  return tables === 0;
}

/** A superuser session kept open for fault injection (terminating backends, finding them). */
export async function openAdmin(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, application_name: "reliability-admin" });
  client.on("error", () => undefined);
  await client.connect();
  return client;
}

/** The pid of the tx-apply session in a database (the apply's backend). */
export async function applyBackendPid(admin: pg.Client, database: string): Promise<number> {
  const { rows } = await admin.query<{ pid: number }>(
    "select pid from pg_stat_activity where datname = $1 and application_name = 'tx-apply'",
    [database],
  );
  if (rows.length !== 1) throw new Error(`expected one tx-apply backend in ${database}, found ${rows.length}`);
  return (rows[0] as { pid: number }).pid;
}

/** pg_terminate_backend, waiting (up to 5 s) until the backend is gone. */
export async function terminate(admin: pg.Client, pid: number): Promise<boolean> {
  const { rows } = await admin.query<{ done: boolean }>("select pg_terminate_backend($1, 5000) as done", [pid]);
  return rows[0]?.done === true;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

export const round = (value: number, digits = 0) => Math.round(value * 10 ** digits) / 10 ** digits;

/**
 * The fixture plan for one test database, written to a temporary folder (a first apply: no
 * reauthorization, so no previous evidence is needed).
 */
export function writePlan(server: ServerInfo, database: string, edit?: (plan: Plan) => void): string {
  const plan = fixturePlan();
  delete plan.reauthorization;
  plan.target.systemIdentifier = server.systemIdentifier;
  plan.target.database = database;
  plan.artifact.path = join(FIXTURE_DIR, plan.artifact.path);
  plan.rollback.path = join(FIXTURE_DIR, plan.rollback.path);
  edit?.(plan);
  const planPath = join(mkdtempSync(join(tmpdir(), "dieu44-reliability-")), "plan.json");
  writeFileSync(planPath, JSON.stringify(plan, null, 2));
  return planPath;
}

/** `dieu44 run` as workflow_admin, with its own new evidence and backup folders. */
export function runAsWorkflowAdmin(
  server: ServerInfo,
  database: string,
  planPath: string,
  extra: Partial<ProcedureOptions> = {},
): ReturnType<typeof runProcedure> {
  return runProcedure({
    mode: "run",
    planPath,
    evidenceDir: join(mkdtempSync(join(tmpdir(), "dieu44-reliability-evidence-")), "evidence"),
    backupDir: mkdtempSync(join(tmpdir(), "dieu44-reliability-backups-")),
    connection: { url: serverUrl(server, { database, user: "workflow_admin" }), env: {} },
    ...extra,
  });
}
