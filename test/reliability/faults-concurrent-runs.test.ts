/**
 * Two `dieu44 run` at once on the same database: exactly one proceeds, the other is refused
 * cleanly at the start (exit 1, BLOCKED, its evidence saying another run holds the database), and
 * the artifact is applied once. Raced as two runProcedure calls started together, and once as two
 * `dieu44 run` processes.
 */

import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import type { ProcedureOutcome } from "@dieu44/dieu44";
import {
  bootstrapFixture,
  cleanEnv,
  dropDatabase,
  dumpableServers,
  type NodeCliResult,
  REPO_ROOT,
  runNodeCli,
  type ServerInfo,
  serverUrl,
} from "@dieu44/test-harness";
import { afterAll, describe, expect, it } from "vitest";
import { median, round, runAsWorkflowAdmin, targetTablesIn, writePlan } from "./fault-support.js";
import { recordCase } from "./record.js";

const IN_PROCESS_RACES = 5;
const CLI = join(REPO_ROOT, "apps", "dieu44", "bin", "dieu44.js");

/** `dieu44 ARGS` in a working directory of its own, with a clean environment. */
function runCli(args: string[], cwd: string): Promise<NodeCliResult> {
  return runNodeCli(CLI, args, { env: cleanEnv(), cwd });
}

interface Race {
  server: string;
  how: string;
  proceeded: number;
  refusedCleanly: number;
  /** Apply logs whose outcome is committed: the artifact applied this many times. */
  applied: number;
  tables: number;
  ms: number;
  refusal: string;
}
const races: Race[] = [];

interface RunView {
  exitCode: number | null;
  status: string;
  rootCause: string | null;
  basis: string[];
  applyOutcome: string | null;
  evidenceFiles: string[];
}

function view(exitCode: number | null, evidenceDir: string): RunView {
  const files = readdirSync(evidenceDir);
  const result = JSON.parse(readFileSync(join(evidenceDir, "procedure-result.json"), "utf8")) as ProcedureOutcome["result"];
  const applyOutcome = files.includes("apply-log.json")
    ? (JSON.parse(readFileSync(join(evidenceDir, "apply-log.json"), "utf8")) as { outcome: string }).outcome
    : null;
  return {
    exitCode,
    status: result.status,
    rootCause: result.verdict?.root_cause ?? null,
    basis: result.verdict?.basis ?? [],
    applyOutcome,
    evidenceFiles: files,
  };
}

/** One proceeded (PASS, applied) and one was refused at the start, before any backup or apply. */
function judge(server: ServerInfo, how: string, runs: RunView[], tables: number, ms: number): Race {
  const proceeded = runs.filter((run) => run.status === "PASS" && run.exitCode === 0 && run.applyOutcome === "committed");
  const refused = runs.filter(
    (run) =>
      run.status === "BLOCKED" &&
      (run.exitCode === 1 || run.exitCode === 3) &&
      run.rootCause === "another_run_in_progress" &&
      run.applyOutcome === null &&
      !run.evidenceFiles.includes("backup-marker.json"),
  );
  const race: Race = {
    server: server.label,
    how,
    proceeded: proceeded.length,
    refusedCleanly: refused.length,
    applied: runs.filter((run) => run.applyOutcome === "committed").length,
    tables,
    ms,
    refusal: refused[0]?.basis.join("; ") ?? runs.map((run) => `${run.status} ${run.rootCause}`).join(" / "),
  };
  races.push(race);
  return race;
}

const servers = dumpableServers();

describe.skipIf(servers.length === 0)("fault: two dieu44 run at once on the same database", () => {
  const server = servers[0] as ServerInfo;

  it(`${IN_PROCESS_RACES} races of two runProcedure calls started together: exactly one proceeds each time`, async () => {
    for (let race = 0; race < IN_PROCESS_RACES; race += 1) {
      const database = await bootstrapFixture(server, "rcr");
      try {
        const planPath = writePlan(server, database);
        const started = performance.now();
        const outcomes = await Promise.all([
          runAsWorkflowAdmin(server, database, planPath),
          runAsWorkflowAdmin(server, database, planPath),
        ]);
        const ms = performance.now() - started;
        const tables = await targetTablesIn(serverUrl(server, { database }));
        const result = judge(
          server,
          "two runProcedure calls",
          outcomes.map((outcome) => view(outcome.exitCode, outcome.evidenceDir)),
          tables,
          ms,
        );
        expect(result.proceeded, result.refusal).toBe(1);
        expect(result.refusedCleanly, result.refusal).toBe(1);
        expect(result.applied).toBe(1);
        expect(tables).toBe(12);
      } finally {
        await dropDatabase(server, database);
      }
    }
  });

  it("two dieu44 run processes started together: exactly one proceeds", async () => {
    const database = await bootstrapFixture(server, "rcr");
    try {
      const planPath = writePlan(server, database);
      const url = serverUrl(server, { database, user: "workflow_admin" });
      const evidence = [0, 1].map(() => join(mkdtempSync(join(tmpdir(), "dieu44-reliability-evidence-")), "evidence"));
      const started = performance.now();
      const results = await Promise.all(
        evidence.map((dir) =>
          // The plan's backup.dir is relative to the working directory: each process its own.
          runCli(
            ["run", "--plan", planPath, "--evidence", dir, "--url", url, "--format", "json"],
            mkdtempSync(join(tmpdir(), "dieu44-reliability-cwd-")),
          ),
        ),
      );
      const ms = performance.now() - started;
      const tables = await targetTablesIn(serverUrl(server, { database }));
      const views = results.map((result, index) => view(result.status, evidence[index] as string));
      const result = judge(server, "two dieu44 run processes", views, tables, ms);
      expect(result.proceeded, result.refusal).toBe(1);
      expect(result.refusedCleanly, result.refusal).toBe(1);
      expect(result.applied).toBe(1);
      expect(tables).toBe(12);
      const refusedRun = results[views.findIndex((entry) => entry.status === "BLOCKED")];
      expect(refusedRun?.stderr ?? "").not.toMatch(/\n\s+at /);
      expect(refusedRun?.stdout ?? "").toMatch(/another_run_in_progress/);
    } finally {
      await dropDatabase(server, database);
    }
  });
});

afterAll(() => {
  if (races.length === 0) return;
  const all = races.length;
  const count = (test: (race: Race) => boolean) => races.filter(test).length;
  recordCase({
    id: "fault-concurrent-runs",
    title: "Two dieu44 run at once on the same database",
    runs: all,
    figures: [
      {
        label: "races where exactly one run proceeded",
        value: `${count((race) => race.proceeded === 1)} of ${all}`,
        required: `all ${all}`,
        ok: count((race) => race.proceeded === 1) === all,
      },
      {
        label:
          "races where the other run was refused cleanly at the start (BLOCKED another_run_in_progress, no backup, no apply)",
        value: `${count((race) => race.refusedCleanly === 1)} of ${all}`,
        required: `all ${all}`,
        ok: count((race) => race.refusedCleanly === 1) === all,
      },
      {
        label: "races where the artifact was applied more than once",
        value: count((race) => race.applied > 1),
        required: "0",
        ok: count((race) => race.applied > 1) === 0,
      },
      { label: "median wall time of one race (ms)", value: round(median(races.map((race) => race.ms))), ok: true },
    ],
    findings: [
      `Server: ${[...new Set(races.map((race) => race.server))].join(", ")} (P2 needs a server the system pg_dump can dump); ${count((race) => race.how === "two runProcedure calls")} races in one process, ${count((race) => race.how === "two dieu44 run processes")} as two processes.`,
      `The refused run's evidence says: ${races[races.length - 1]?.refusal}.`,
      "Defect found and fixed: the procedure had no mutual exclusion of its own. Nothing was applied twice (tx-apply's advisory lock and fingerprint guard caught the second apply), but the second run went through P1 and a full P2 backup and was then refused with a misleading root cause (another_apply_in_progress, or schema_drift_since_preflight when the first had already committed). dieu44 run and rehearse now hold a session advisory lock on the plan's target (key from \"dieu44/run/<schema>\") on a dedicated session from the start of P1 to the end of the run, and a second run stops at P1 as BLOCKED another_run_in_progress, naming the holder's backend (apps/dieu44/src/procedure.ts).",
    ],
  });
});
