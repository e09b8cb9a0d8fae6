/**
 * pg_dump killed in the middle of P2 (the fresh backup) of `dieu44 run`: no archive may be left
 * at a final name, no marker may claim success, and the procedure must stop at P2 with the
 * catalog unchanged.
 *
 * To kill deterministically mid-write, the pg_dump child (found in /proc by its parent, this
 * process) is throttled: it runs in slices of a few milliseconds between SIGSTOP and SIGCONT, and
 * gets SIGKILL while stopped once the partial archive has reached the run's threshold, so it is
 * certainly still writing when it dies. The dumped database carries a few MB of poorly
 * compressible rows (outside the plan's schema) so there is something to write.
 */
import { mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import type { BackupMarker } from "@dieu44/backup-marker";
import { bootstrapFixture, catalogState, dropDatabase, dumpableServers, processAlive, query } from "@dieu44/test-harness";
import { afterAll, describe, expect, it } from "vitest";
import { median, round, runAsWorkflowAdmin, writePlan } from "./fault-support.js";
import { recordCase } from "./record.js";

/** Bytes of partial archive at which pg_dump is killed, one run each (0: as soon as it exists). */
const KILL_AT_BYTES = [0, 64 * 1024, 512 * 1024, 2 * 1024 * 1024];

interface Run {
  server: string;
  killAt: number;
  /** Bytes the partial archive had when pg_dump was killed. */
  writtenWhenKilled: number;
  killed: boolean;
  stoppedAtP2: boolean;
  archivesLeft: number;
  partialsLeft: number;
  markersClaimingSuccess: number;
  catalogUnchanged: boolean;
  ms: number;
}
const runs: Run[] = [];

/** Child processes of this process named `name` whose arguments include `argument`, from /proc. */
function childrenNamed(name: string, argument: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (comm !== name || ppid !== process.pid) continue;
      // Not the `pg_dump --version` probe that precedes the dump.
      if (readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0").includes(argument)) found.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return found;
}

function partialBytes(dir: string): number {
  const partial = readdirSync(dir).find((name) => name.endsWith(".partial"));
  if (!partial) return 0;
  try {
    return statSync(join(dir, partial)).size;
  } catch {
    return 0;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Waits for the pg_dump child, throttles it until the partial archive in `dir` has `bytes`, and
 * kills it while it is stopped. Returns the size at the kill, or undefined if pg_dump ended first.
 */
async function killPgDumpAt(dir: string, bytes: number, deadline: number): Promise<number | undefined> {
  let pid: number | undefined;
  while (pid === undefined) {
    if (Date.now() > deadline) throw new Error("pg_dump never started");
    pid = childrenNamed("pg_dump", "--format=custom")[0];
    if (pid === undefined) await sleep(2);
  }
  for (;;) {
    try {
      process.kill(pid, "SIGSTOP");
    } catch {
      return undefined;
    }
    const written = partialBytes(dir);
    if (written >= bytes) {
      process.kill(pid, "SIGKILL");
      return written;
    }
    process.kill(pid, "SIGCONT");
    if (!processAlive(pid) || Date.now() > deadline) return undefined;
    await sleep(3);
  }
}

const servers = dumpableServers();

describe.skipIf(servers.length === 0)("fault: pg_dump killed during P2 of dieu44 run", () => {
  for (const server of servers) {
    it(`${server.label}: killed at ${KILL_AT_BYTES.length} points; no archive, no successful marker, stopped at P2, catalog unchanged`, async () => {
      const database = await bootstrapFixture(server, "rbk");
      // About 6 MB of hex text (compresses to about half) outside the plan's schema.
      await query(
        server,
        `create table public.bulk_payload as
           select g as id, md5(g::text) || md5((g * 7)::text) || md5((g * 13)::text) as payload from generate_series(1, 60000) as g;
         grant select on public.bulk_payload to workflow_admin`,
        { database },
      );
      const planPath = writePlan(server, database);
      const before = await catalogState(server, database);
      try {
        for (const killAt of KILL_AT_BYTES) {
          const backupDir = mkdtempSync(join(tmpdir(), "dieu44-reliability-backups-"));
          const started = performance.now();
          const running = runAsWorkflowAdmin(server, database, planPath, { backupDir });
          const killing = killPgDumpAt(backupDir, killAt, Date.now() + 30_000);
          const [outcome, writtenWhenKilled] = await Promise.all([running, killing]);
          const ms = performance.now() - started;

          const left = readdirSync(backupDir);
          const markers = left
            .filter((name) => name.endsWith(".marker.json"))
            .map((name) => JSON.parse(readFileSync(join(backupDir, name), "utf8")) as BackupMarker);
          const evidenceMarker = JSON.parse(
            readFileSync(join(outcome.evidenceDir, "backup-marker.json"), "utf8"),
          ) as BackupMarker;
          const stepStatus = Object.fromEntries(outcome.result.steps.map((step) => [step.id, step.status]));
          const run: Run = {
            server: server.label,
            killAt,
            writtenWhenKilled: writtenWhenKilled ?? -1,
            killed: writtenWhenKilled !== undefined,
            stoppedAtP2:
              outcome.result.status === "BLOCKED" &&
              stepStatus.P1_preflight === "passed" &&
              stepStatus.P2_fresh_backup === "failed" &&
              stepStatus.P3_command_integrity === "not_run" &&
              stepStatus.apply === "not_run",
            archivesLeft: left.filter((name) => name.endsWith(".dump")).length,
            partialsLeft: left.filter((name) => name.endsWith(".partial")).length,
            markersClaimingSuccess: [...markers, evidenceMarker].filter((marker) => marker.status !== "failed").length,
            catalogUnchanged: JSON.stringify(await catalogState(server, database)) === JSON.stringify(before),
            ms,
          };
          runs.push(run);

          expect(run.killed, `pg_dump still running at ${killAt} bytes`).toBe(true);
          expect(run.stoppedAtP2, JSON.stringify(stepStatus)).toBe(true);
          expect(outcome.exitCode).toBe(1);
          expect(outcome.result.verdict).toMatchObject({ root_cause: "fresh_backup_failed", production_changed: false });
          expect(run.archivesLeft).toBe(0);
          expect(run.partialsLeft).toBe(0);
          expect(run.markersClaimingSuccess).toBe(0);
          expect(evidenceMarker).toMatchObject({ status: "failed", path: null, sha256: null });
          expect(evidenceMarker.failure?.signal).toBe("SIGKILL");
          expect(run.catalogUnchanged).toBe(true);
        }
      } finally {
        await dropDatabase(server, database);
      }
    });
  }
});

afterAll(() => {
  if (runs.length === 0) return;
  const count = (test: (run: Run) => boolean) => runs.filter(test).length;
  const all = runs.length;
  recordCase({
    id: "fault-backup-kill",
    title: "pg_dump killed mid-backup (P2 of dieu44 run)",
    runs: all,
    figures: [
      {
        label: "pg_dump killed while writing",
        value: count((run) => run.killed),
        required: `${all}`,
        ok: count((run) => run.killed) === all,
      },
      {
        label: "archives left at a final name",
        value: count((run) => run.archivesLeft > 0),
        required: "0",
        ok: count((run) => run.archivesLeft > 0) === 0,
      },
      {
        label: "partial files left",
        value: count((run) => run.partialsLeft > 0),
        required: "0",
        ok: count((run) => run.partialsLeft > 0) === 0,
      },
      {
        label: "markers claiming success",
        value: count((run) => run.markersClaimingSuccess > 0),
        required: "0",
        ok: count((run) => run.markersClaimingSuccess > 0) === 0,
      },
      {
        label: "runs stopped at P2 (BLOCKED, nothing applied)",
        value: count((run) => run.stoppedAtP2),
        required: `${all}`,
        ok: count((run) => run.stoppedAtP2) === all,
      },
      {
        label: "catalog unchanged",
        value: count((run) => run.catalogUnchanged),
        required: `${all}`,
        ok: count((run) => run.catalogUnchanged) === all,
      },
      { label: "median wall time of one run (ms)", value: round(median(runs.map((run) => run.ms))), ok: true },
    ],
    findings: [
      `Servers: ${[...new Set(runs.map((run) => run.server))].join(", ")} (pg_dump is the system's PostgreSQL 15 client, so only servers it can dump).`,
      `Partial archive size when pg_dump got SIGKILL: ${runs.map((run) => `${run.writtenWhenKilled} bytes`).join(", ")}.`,
      "No defect found: backup-marker streams into <id>.dump.partial, removes it when pg_dump fails, and links the final name only after pg_dump exited 0 and the sha256 was computed; the marker says failed with the signal, and dieu44 run stops BLOCKED at P2 (fresh_backup_failed) before anything is sent to the database.",
    ],
  });
});
