/**
 * `dieu44 demo`: the seed's story on a throwaway PostgreSQL. The first attempt as directus is
 * BLOCKED at preflight (no CREATE on the schema, production unchanged); the reauthorized run as
 * workflow_admin, with --previous pointing at the first, passes. Both evidence folders stay.
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, readFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { availableMajors, startCluster } from "@dieu44/ephemeral-pg";
import { EnvironmentError } from "@dieu44/plumbing/exit";
import { toJsonText, writeFileAtomically } from "@dieu44/plumbing/json-io";
import { registerSecret } from "@dieu44/plumbing/redact";
import pg from "pg";
import { parsePlan } from "./plan.js";
import { type ProcedureOutcome, runProcedure } from "./procedure.js";

/** The reference cycle shipped with the repository. */
export const FIXTURE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "sql", "fixtures", "ws-q5");

export interface DemoOptions {
  outDir: string;
  log?: (line: string) => void;
}

export interface DemoAttempt {
  label: string;
  role: string;
  evidenceDir: string;
  status: string;
  report: string;
}

export interface DemoResult {
  serverVersion: string;
  attempts: DemoAttempt[];
  /** True when the story came out as the seed tells it: BLOCKED, then PASS. */
  asExpected: boolean;
}

/** The server major the system's pg_dump can back up (it refuses newer servers). */
function demoMajor(): number {
  const majors = availableMajors();
  const version = spawnSync("pg_dump", ["--version"], { encoding: "utf8" });
  const dumpMajor = Number(/(\d+)/.exec(version.stdout ?? "")?.[1] ?? 0);
  const usable = majors.filter((major) => major <= dumpMajor);
  if (!usable.length) {
    throw new EnvironmentError(
      dumpMajor
        ? `pg_dump ${dumpMajor} cannot back up any server this machine can start (${majors.join(", ") || "none"})`
        : "pg_dump not found: install the PostgreSQL client (e.g. apt-get install postgresql-client)",
    );
  }
  return Math.max(...usable);
}

export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const log = options.log ?? (() => undefined);
  // Each demo run gets its own folder: evidence folders are never reused.
  const outDir = join(resolve(options.outDir), new Date().toISOString().replace(/[:.]/g, "-"));
  const major = demoMajor();
  log(`starting a throwaway PostgreSQL ${major} ...`);
  const cluster = await startCluster({ major });
  try {
    const rolePasswords = { workflow_admin: randomBytes(12).toString("hex"), directus: randomBytes(12).toString("hex") };
    for (const secret of Object.values(rolePasswords)) registerSecret(secret);
    const attempt1Plan = parsePlan(await readFile(join(FIXTURE_DIR, "plan-attempt-1.json"), "utf8"), "plan-attempt-1.json");
    const database = attempt1Plan.target.database;

    const admin = new pg.Client({ connectionString: cluster.url() });
    await admin.connect();
    let serverVersion: string;
    let systemIdentifier: string;
    try {
      await admin.query(`create database ${pg.escapeIdentifier(database)}`);
      const info = await admin.query<{ id: string; version: string }>(
        "select system_identifier::text as id, current_setting('server_version') as version from pg_control_system()",
      );
      systemIdentifier = info.rows[0]?.id ?? "";
      serverVersion = info.rows[0]?.version ?? "";
    } finally {
      await admin.end();
    }
    log(`bootstrapping simulated production "${database}" (system identifier ${systemIdentifier}) ...`);
    const production = new pg.Client({ connectionString: cluster.url({ database }) });
    await production.connect();
    try {
      await production.query(await readFile(join(FIXTURE_DIR, "bootstrap.sql"), "utf8"));
      for (const [role, password] of Object.entries(rolePasswords)) {
        await production.query(`alter role ${pg.escapeIdentifier(role)} password ${pg.escapeLiteral(password)}`);
      }
    } finally {
      await production.end();
    }

    const plansDir = join(outDir, "plans");
    await mkdir(plansDir, { recursive: true });
    const attempts: DemoAttempt[] = [];
    let previous: ProcedureOutcome | undefined;
    for (const [label, file] of [
      ["first attempt (directus)", "plan-attempt-1.json"],
      ["reauthorized run (workflow_admin)", "plan.json"],
    ] as const) {
      const plan = parsePlan(await readFile(join(FIXTURE_DIR, file), "utf8"), file);
      // The demo cluster is new, so its identifier replaces the seed's; artifacts stay where they are.
      plan.target.systemIdentifier = systemIdentifier;
      plan.artifact.path = join(FIXTURE_DIR, plan.artifact.path);
      plan.rollback.path = join(FIXTURE_DIR, plan.rollback.path);
      const planPath = join(plansDir, file);
      await writeFileAtomically(planPath, toJsonText(plan));
      const evidenceDir = join(outDir, plan.evidence.dir.split("/").pop() ?? file.replace(".json", ""));
      log(`${label}: dieu44 run --plan ${planPath}${previous ? ` --previous ${previous.evidenceDir}` : ""} ...`);
      const role = plan.applyRole as keyof typeof rolePasswords;
      const outcome = await runProcedure({
        mode: "run",
        planPath,
        evidenceDir,
        backupDir: join(outDir, "backups"),
        previousDir: previous?.evidenceDir,
        connection: { url: cluster.url({ database, user: role, password: rolePasswords[role] }), env: {} },
        log: (line) => log(`  ${line}`),
      });
      attempts.push({
        label,
        role,
        evidenceDir: outcome.evidenceDir,
        status: outcome.result.status,
        report: join(outcome.evidenceDir, outcome.result.files.report),
      });
      previous = outcome;
    }
    const asExpected = attempts[0]?.status === "BLOCKED" && attempts[1]?.status === "PASS";
    return { serverVersion, attempts, asExpected };
  } finally {
    log("stopping the throwaway PostgreSQL ...");
    await cluster.stop();
  }
}
