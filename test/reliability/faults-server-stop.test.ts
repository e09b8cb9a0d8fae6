/**
 * The server stopped with an immediate shutdown (SIGQUIT to the postmaster: every backend dies at
 * once, no shutdown checkpoint, crash recovery on the next start) in the middle of the apply, then
 * restarted; on a cluster of this file's own, never the shared harness servers.
 *
 * Points: right before statement k (the stop completes before k is attempted), with statement k
 * in flight (the stop is signalled as k leaves), while COMMIT waits at synchronous replication
 * (the commit record is written, the answer never comes), and right after COMMIT was acknowledged.
 * After each restart the catalog must show 0 or 12 target tables, and the outcome tx-apply
 * reported must be the truth about it: never "committed" when nothing was.
 *
 * The cluster runs with synchronous_commit = off, the harness default and a setting production
 * servers use for throughput: a COMMIT is acknowledged before its WAL is flushed.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { type Cluster, startCluster } from "@dieu44/ephemeral-pg";
import { FIXTURE_DIR, FIXTURE_ROLES, FIXTURE_TABLES } from "@dieu44/test-harness";
import { apply, type StatementEvent } from "@dieu44/tx-apply";
import type { ApplyLog, Outcome } from "@dieu44/tx-apply/schema";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  dropTargetTables,
  FIXTURE_EXPECTATION,
  isPartial,
  isTruthful,
  median,
  openAdmin,
  REFERENCE_BYTES,
  REFERENCE_PATH,
  REFERENCE_SHA256,
  round,
  targetTablesIn,
} from "./fault-support.js";
import { recordCase } from "./record.js";

const MAJOR = 18;
const DATABASE = "cutter_prod";
const WORKFLOW_ADMIN_PASSWORD = FIXTURE_ROLES.find((role) => role.name === "workflow_admin")?.password ?? "";

interface Run {
  point: string;
  outcome: Outcome;
  tables: number;
  /** Stop signalled until the server accepted connections again. */
  restartMs: number;
}
const runs: Run[] = [];

describe(`fault: server stopped (immediate shutdown) during the apply, then restarted (own PostgreSQL ${MAJOR})`, () => {
  let cluster: Cluster;
  let systemIdentifier = "";

  beforeAll(async () => {
    cluster = await startCluster({ major: MAJOR });
    const admin = await openAdmin(cluster.url());
    try {
      for (const role of FIXTURE_ROLES) await admin.query(`create role ${role.name} login password '${role.password}'`);
      await admin.query(`create database ${DATABASE}`);
      const [row] = (await admin.query<{ id: string }>("select system_identifier::text as id from pg_control_system()")).rows;
      systemIdentifier = String(row?.id);
    } finally {
      await admin.end();
    }
    const setup = new pg.Client({ connectionString: cluster.url({ database: DATABASE }) });
    await setup.connect();
    await setup.query(readFileSync(join(FIXTURE_DIR, "bootstrap.sql"), "utf8"));
    // With synchronous_commit = off the fixture itself would not survive the first immediate stop.
    await setup.query("checkpoint");
    await setup.end();
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  const applyWith = (hooks: {
    onBeforeStatement?: (event: StatementEvent) => Promise<void>;
    onStatement?: (event: StatementEvent) => void;
  }): Promise<ApplyLog> =>
    apply(
      { url: cluster.url({ database: DATABASE, user: "workflow_admin", password: WORKFLOW_ADMIN_PASSWORD }), env: {} },
      { path: REFERENCE_PATH, bytes: REFERENCE_BYTES },
      {
        role: "workflow_admin",
        expectSystemIdentifier: systemIdentifier,
        sha256: REFERENCE_SHA256,
        verifyBeforeCommit: FIXTURE_EXPECTATION,
        ...hooks,
      },
    );

  const checkpoint = async () => {
    const admin = await openAdmin(cluster.url());
    await admin.query("checkpoint");
    await admin.end();
  };

  /** After the run: the catalog, the run recorded, and the database back to the fixture's state. */
  const settle = async (point: string, log: ApplyLog, restartMs: number) => {
    const tables = await targetTablesIn(cluster.url({ database: DATABASE }));
    runs.push({ point, outcome: log.outcome, tables, restartMs });
    if (tables > 0) {
      await dropTargetTables(cluster.url({ database: DATABASE }));
      await checkpoint();
    }
    return tables;
  };

  for (const k of [1, 7, 14]) {
    it(`stopped and restarted right before statement ${k}: rolled_back, nothing created`, async () => {
      let restartMs = 0;
      const log = await applyWith({
        onBeforeStatement: async (event) => {
          if (event.index !== k - 1) return;
          const started = performance.now();
          await cluster.restart({ mode: "immediate" });
          restartMs = performance.now() - started;
        },
      });
      const tables = await settle(`restarted before statement ${k}`, log, restartMs);
      expect(restartMs).toBeGreaterThan(0);
      expect(tables).toBe(0);
      expect(log.outcome).toBe("rolled_back");
      expect(log.error).toMatchObject({ connectionLost: true, statementIndex: k - 1 });
    });
  }

  for (const k of [2, 8, 13]) {
    it(`stopped as statement ${k} leaves: nothing partial, outcome truthful`, async () => {
      let restarting: Promise<void> | undefined;
      let started = 0;
      const log = await applyWith({
        onBeforeStatement: async (event) => {
          if (event.index !== k - 1) return;
          started = performance.now();
          // Not awaited: SIGQUIT is sent before the hook returns, the statement leaves right after.
          restarting = cluster.restart({ mode: "immediate" });
        },
      });
      await restarting;
      const tables = await settle(`stopped as statement ${k} left`, log, performance.now() - started);
      expect(isPartial(tables)).toBe(false);
      expect(tables).toBe(0);
      expect(["rolled_back", "unknown"]).toContain(log.outcome);
    });
  }

  it("stopped while COMMIT waits at synchronous replication: unknown; after restart the catalog shows all 12", async () => {
    const admin = await openAdmin(cluster.url());
    await admin.query(`alter database ${DATABASE} set synchronous_commit = on`);
    await admin.query("alter system set synchronous_standby_names = 'ghost'");
    await admin.query("select pg_reload_conf()");
    let log: ApplyLog | undefined;
    let restartMs = 0;
    try {
      const running = applyWith({});
      let waiting = false;
      for (let attempt = 0; attempt < 400 && !waiting; attempt += 1) {
        const { rowCount } = await admin.query(
          "select 1 from pg_stat_activity where datname = $1 and application_name = 'tx-apply' and wait_event = 'SyncRep'",
          [DATABASE],
        );
        waiting = (rowCount ?? 0) > 0;
        if (!waiting) await new Promise((resolve) => setTimeout(resolve, 25));
      }
      expect(waiting, "the apply's COMMIT waits at synchronous replication").toBe(true);
      await admin.end();
      const started = performance.now();
      await cluster.restart({ mode: "immediate" });
      restartMs = performance.now() - started;
      log = await running;
    } finally {
      await admin.end().catch(() => undefined);
      const reset = await openAdmin(cluster.url());
      await reset.query("alter system reset synchronous_standby_names");
      await reset.query(`alter database ${DATABASE} reset synchronous_commit`);
      await reset.query("select pg_reload_conf()");
      await reset.end();
    }
    const tables = await settle("stopped while COMMIT waited at synchronous replication", log as ApplyLog, restartMs);
    expect(tables).toBe(FIXTURE_TABLES.length);
    expect(log?.outcome).toBe("unknown");
  });

  it("stopped right after COMMIT was acknowledged: committed, and the restarted catalog shows all 12", async () => {
    let started = 0;
    let restarting: Promise<void> | undefined;
    const log = await applyWith({
      onStatement: (event) => {
        if (event.phase !== "end" || event.tag !== "COMMIT") return;
        started = performance.now();
        // SIGQUIT leaves synchronously, before anything else can flush the WAL.
        restarting = cluster.restart({ mode: "immediate" });
      },
    });
    await restarting;
    const tables = await settle("stopped right after COMMIT was acknowledged", log, performance.now() - started);
    expect(log.outcome).toBe("committed");
    expect(isTruthful(log.outcome, tables), `committed reported, ${tables} tables after the restart`).toBe(true);
  });
});

afterAll(() => {
  if (runs.length === 0) return;
  const partial = runs.filter((run) => isPartial(run.tables)).length;
  const truthful = runs.filter((run) => isTruthful(run.outcome, run.tables)).length;
  const falseCommits = runs.filter((run) => run.outcome === "committed" && run.tables === 0).length;
  recordCase({
    id: "fault-server-stop",
    title: "Server stopped (immediate shutdown) in the middle of the apply, then restarted",
    runs: runs.length,
    figures: [
      { label: "immediate shutdowns and restarts", value: runs.length, ok: true },
      { label: "partial commits found after restart", value: partial, required: "0", ok: partial === 0 },
      { label: "'committed' reported when nothing was", value: falseCommits, required: "0", ok: falseCommits === 0 },
      {
        label: "outcomes reported truthfully",
        value: `${truthful} of ${runs.length}`,
        required: `all ${runs.length}`,
        ok: truthful === runs.length,
      },
      {
        label: "median time from stop to accepting connections again (ms)",
        value: round(median(runs.map((run) => run.restartMs))),
        ok: true,
      },
    ],
    findings: [
      `Server: PostgreSQL ${MAJOR} started for this case (ephemeral-pg restart({ mode: "immediate" }), SIGQUIT to the postmaster), synchronous_commit = off.`,
      ...runs.map((run) => `${run.point}: ${run.outcome}, ${run.tables} target tables after the restart.`),
      "Defect found and fixed: on a server with synchronous_commit = off, tx-apply reported committed for a COMMIT the server acknowledged before flushing its WAL, and an immediate stop right after it left 0 of the 12 tables after the restart. tx-apply now sets synchronous_commit = local for its session when the server's is off (packages/tx-apply/src/apply.ts); the point 'right after COMMIT was acknowledged' is its regression test here, packages/tx-apply/test/durability.test.ts the package's own.",
    ],
  });
});
