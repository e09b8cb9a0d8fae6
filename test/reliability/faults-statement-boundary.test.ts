/**
 * Fault injection at every statement boundary of the reference artifact: the apply's backend is
 * terminated (pg_terminate_backend from a superuser session) right before statement k, for every
 * k, through tx-apply's onBeforeStatement hook; then during COMMIT, twice over: racing the COMMIT
 * on the harness servers, and deterministically on a cluster of this file's own where COMMIT
 * waits for a synchronous standby that never comes (the commit record is written locally, the
 * answer never arrives: the one case where "unknown" is the only truthful outcome).
 *
 * Every run asks the catalog afterwards: 0 or 12 target tables, never between, and the outcome
 * tx-apply reported must agree with what the catalog shows.
 */

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { type Cluster, startCluster } from "@dieu44/ephemeral-pg";
import {
  bootstrapFixture,
  dropDatabase,
  FIXTURE_DIR,
  FIXTURE_ROLES,
  FIXTURE_TABLES,
  serverUrl,
  testServers,
} from "@dieu44/test-harness";
import { apply, planArtifact } from "@dieu44/tx-apply";
import type { ApplyLog, Outcome } from "@dieu44/tx-apply/schema";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  applyBackendPid,
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
  terminate,
} from "./fault-support.js";
import { recordCase } from "./record.js";

const STATEMENTS = (await planArtifact(REFERENCE_BYTES)).statements;
const RACE_RUNS_PER_SERVER = 6;
/**
 * When each pipelined run terminates the backend, in ms after it appeared: spread over the guards,
 * the statements and the COMMIT, on a fast machine and a slow one alike.
 */
const PIPELINED_DELAYS_MS = [0, 1, 2, 3, 5, 8, 12, 17, 23, 30, 40, 55];
const PIPELINED_RUNS_PER_SERVER = PIPELINED_DELAYS_MS.length;
const HELD_COMMIT_RUNS = 3;

interface Run {
  server: string;
  /** "before k" (1-based), "during COMMIT (race)" / "during COMMIT (held)", or "pipelined". */
  point: string;
  outcome: Outcome;
  tables: number;
  ms: number;
  /** Pipelined runs: statuses out of order (a success after a failure, a skip without one). */
  disordered?: boolean;
  /** Pipelined runs: statements sent behind the failed one and not run. */
  skipped?: number;
}

/**
 * Statuses in the order an apply can produce them: successes, at most one failed (or unknown),
 * then skipped ones (only after a failure), then ones never sent.
 */
function statusesInOrder(statuses: string[]): boolean {
  const rank: Record<string, number> = { succeeded: 0, failed: 1, unknown: 1, skipped: 2, not_sent: 3 };
  let last = 0;
  let failures = 0;
  for (const status of statuses) {
    const current = rank[status];
    if (current === undefined || current < last) return false;
    if (current === 1) failures += 1;
    if (current === 2 && failures === 0) return false;
    last = current;
  }
  return failures <= 1;
}

/** The tx-apply backend in a database, or undefined while there is none yet. */
async function findApplyBackend(admin: pg.Client, database: string): Promise<number | undefined> {
  const { rows } = await admin.query<{ pid: number }>(
    "select pid from pg_stat_activity where datname = $1 and application_name = 'tx-apply'",
    [database],
  );
  return rows[0]?.pid;
}
const runs: Run[] = [];

function applyReference(
  url: string,
  systemIdentifier: string,
  onBeforeStatement?: (event: { index: number; tag: string }) => Promise<void>,
): Promise<ApplyLog> {
  return apply(
    { url, env: {} },
    { path: REFERENCE_PATH, bytes: REFERENCE_BYTES },
    {
      role: "workflow_admin",
      expectSystemIdentifier: systemIdentifier,
      sha256: REFERENCE_SHA256,
      // As the procedure runs it: the expected delta is checked inside the transaction.
      verifyBeforeCommit: FIXTURE_EXPECTATION,
      onBeforeStatement,
    },
  );
}

const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("fault: the apply's backend terminated at every statement boundary", () => {
  it("the reference artifact is planned as BEGIN, 12 CREATE TABLE, COMMIT", () => {
    expect(STATEMENTS.map((statement) => statement.tag)).toEqual([
      "BEGIN",
      ...FIXTURE_TABLES.map(() => "CREATE TABLE"),
      "COMMIT",
    ]);
  });

  for (const server of testServers()) {
    it(`PostgreSQL ${server.major}: before each of the ${STATEMENTS.length} statements; nothing partial, every outcome truthful`, async () => {
      const admin = await openAdmin(serverUrl(server));
      // One database for all k: a run that commits nothing leaves it as it was (checked after each run).
      const database = await bootstrapFixture(server, "rfb");
      try {
        for (let k = 1; k <= STATEMENTS.length; k += 1) {
          let terminated = false;
          const started = performance.now();
          const log = await applyReference(
            serverUrl(server, { database, user: "workflow_admin" }),
            server.systemIdentifier,
            async (event) => {
              if (event.index !== k - 1) return;
              terminated = await terminate(admin, await applyBackendPid(admin, database));
              // The server's FATAL and the closed socket reach the client before statement k is attempted.
              await settle(20);
            },
          );
          const ms = performance.now() - started;
          const tables = await targetTablesIn(serverUrl(server, { database }));
          runs.push({ server: server.label, point: `before ${k}`, outcome: log.outcome, tables, ms });

          expect(terminated, `k=${k}: the backend was terminated`).toBe(true);
          expect(tables, `k=${k}: target tables after the fault`).toBe(0);
          expect(log.outcome, `k=${k}`).toBe("rolled_back");
          expect(log.passed).toBe(false);
          expect(log.summary).toMatch(/nothing was committed/);
          expect(log.error).toMatchObject({ connectionLost: true, statementIndex: k - 1 });
          // Statement k and everything after it never reached the server.
          expect(log.statements.slice(k - 1).every((statement) => statement.status === "not_sent")).toBe(true);
          expect(log.statements.slice(0, k - 1).every((statement) => statement.status === "succeeded")).toBe(true);
        }
      } finally {
        await admin.end();
        await dropDatabase(server, database);
      }
    });

    it(`PostgreSQL ${server.major}: terminated racing the COMMIT (${RACE_RUNS_PER_SERVER} runs); every outcome truthful`, async () => {
      const admin = await openAdmin(serverUrl(server));
      const database = await bootstrapFixture(server, "rfc");
      const resetUrl = serverUrl(server, { database });
      try {
        for (let run = 0; run < RACE_RUNS_PER_SERVER; run += 1) {
          let pid = 0;
          let termination: Promise<unknown> = Promise.resolve();
          const started = performance.now();
          const log = await applyReference(
            serverUrl(server, { database, user: "workflow_admin" }),
            server.systemIdentifier,
            async (event) => {
              if (event.index === 0) pid = await applyBackendPid(admin, database);
              if (event.tag !== "COMMIT") return;
              // Not awaited: the termination and the COMMIT leave together, in varying order.
              const fire = () => {
                termination = terminate(admin, pid);
              };
              if (run % 3 === 0) fire();
              else if (run % 3 === 1) setImmediate(fire);
              else setTimeout(fire, 1);
            },
          );
          await termination;
          const ms = performance.now() - started;
          const tables = await targetTablesIn(serverUrl(server, { database }));
          runs.push({ server: server.label, point: "during COMMIT (race)", outcome: log.outcome, tables, ms });
          expect(isPartial(tables), `run ${run}: ${tables} tables`).toBe(false);
          expect(isTruthful(log.outcome, tables), `run ${run}: outcome ${log.outcome} with ${tables} tables`).toBe(true);
          // Back to the fixture's state for the next run (a committed run created the twelve tables).
          if (tables > 0) await dropTargetTables(resetUrl);
        }
      } finally {
        await admin.end();
        await dropDatabase(server, database);
      }
    });
  }
});

describe("fault: the apply's backend terminated while statements are pipelined (no hook: the production path)", () => {
  for (const server of testServers()) {
    it(`PostgreSQL ${server.major}: terminated at points spread through the apply (${PIPELINED_RUNS_PER_SERVER} runs); nothing partial, statuses in order`, async () => {
      const admin = await openAdmin(serverUrl(server));
      const database = await bootstrapFixture(server, "rfp");
      const resetUrl = serverUrl(server, { database });
      try {
        for (let run = 0; run < PIPELINED_RUNS_PER_SERVER; run += 1) {
          const started = performance.now();
          // Without a verification, the statements are most of the apply; depth 4, the default.
          const applying = apply(
            { url: serverUrl(server, { database, user: "workflow_admin" }), env: {} },
            { path: REFERENCE_PATH, bytes: REFERENCE_BYTES },
            { role: "workflow_admin", expectSystemIdentifier: server.systemIdentifier, sha256: REFERENCE_SHA256 },
          );
          let pid: number | undefined;
          while (pid === undefined && performance.now() - started < 10_000) pid = await findApplyBackend(admin, database);
          await settle(PIPELINED_DELAYS_MS[run] as number);
          // The apply may be over already: then nothing is terminated and it committed.
          if (pid !== undefined) await terminate(admin, pid);
          const log = await applying;
          const ms = performance.now() - started;
          const tables = await targetTablesIn(serverUrl(server, { database }));
          const statuses = log.statements.map((statement) => statement.status);
          const disordered = !statusesInOrder(statuses);
          const skipped = statuses.filter((status) => status === "skipped").length;
          runs.push({ server: server.label, point: "pipelined", outcome: log.outcome, tables, ms, disordered, skipped });
          expect(log.settings.pipelineDepth).toBe(4);
          expect(isPartial(tables), `run ${run}: ${tables} tables`).toBe(false);
          expect(isTruthful(log.outcome, tables), `run ${run}: outcome ${log.outcome} with ${tables} tables`).toBe(true);
          expect(disordered, `run ${run}: ${statuses.join(" ")}`).toBe(false);
          if (log.outcome === "committed") expect(statuses.every((status) => status === "succeeded")).toBe(true);
          if (log.outcome === "rolled_back") expect(log.error?.connectionLost).toBe(true);
          if (tables > 0) await dropTargetTables(resetUrl);
        }
      } finally {
        await admin.end();
        await dropDatabase(server, database);
      }
    });
  }
});

describe("fault: the apply's backend terminated while COMMIT waits (own PostgreSQL 18 cluster)", () => {
  let cluster: Cluster;

  beforeAll(async () => {
    cluster = await startCluster({ major: 18 });
    const admin = await openAdmin(cluster.url());
    try {
      for (const role of FIXTURE_ROLES) await admin.query(`create role ${role.name} login password '${role.password}'`);
      // Every commit in this cluster now waits for a standby that never comes; the admin session
      // (database postgres) keeps the cluster default (off) through ALTER DATABASE below.
      await admin.query("alter system set synchronous_standby_names = 'ghost'");
      await admin.query("select pg_reload_conf()");
    } finally {
      await admin.end();
    }
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  it(`COMMIT held at synchronous replication, backend terminated (${HELD_COMMIT_RUNS} runs): unknown, and the catalog shows all 12`, async () => {
    const admin = await openAdmin(cluster.url());
    const [identity] = (await admin.query<{ id: string }>("select system_identifier::text as id from pg_control_system()")).rows;
    try {
      for (let run = 0; run < HELD_COMMIT_RUNS; run += 1) {
        const database = `held_${run}`;
        await admin.query(`create database ${database}`);
        const setup = new pg.Client({ connectionString: cluster.url({ database }) });
        await setup.connect();
        await setup.query(readFileSync(join(FIXTURE_DIR, "bootstrap.sql"), "utf8"));
        await setup.end();
        await admin.query(`alter database ${database} set synchronous_commit = on`);

        const started = performance.now();
        const running = applyReference(
          cluster.url({ database, user: "workflow_admin", password: FIXTURE_ROLES[0].password }),
          String(identity?.id),
        );
        let pid: number | undefined;
        for (let attempt = 0; attempt < 400 && pid === undefined; attempt += 1) {
          const { rows } = await admin.query<{ pid: number }>(
            "select pid from pg_stat_activity where datname = $1 and application_name = 'tx-apply' and wait_event = 'SyncRep'",
            [database],
          );
          pid = rows[0]?.pid;
          if (pid === undefined) await settle(25);
        }
        expect(pid, "the apply's COMMIT waits at synchronous replication").toBeDefined();
        expect(await terminate(admin, pid as number)).toBe(true);
        const log = await running;
        const ms = performance.now() - started;
        const tables = await targetTablesIn(cluster.url({ database }));
        runs.push({
          server: `PostgreSQL ${cluster.major} (own)`,
          point: "during COMMIT (held)",
          outcome: log.outcome,
          tables,
          ms,
        });

        // The commit record was written before the wait: the transaction IS committed, yet the
        // client never heard so. Only "unknown" is the truth here; "rolled_back" would be a lie.
        expect(tables).toBe(FIXTURE_TABLES.length);
        expect(log.outcome).toBe("unknown");
        expect(log.statements.at(-1)).toMatchObject({ tag: "COMMIT", status: "unknown" });
        expect(log.notices.some((notice) => /committed locally/.test(notice.detail ?? notice.message))).toBe(true);
      }
    } finally {
      await admin.end();
    }
  });
});

afterAll(() => {
  if (runs.length === 0) return;
  const partial = runs.filter((run) => isPartial(run.tables)).length;
  const truthful = runs.filter((run) => isTruthful(run.outcome, run.tables)).length;
  const boundary = runs.filter((run) => run.point.startsWith("before"));
  const race = runs.filter((run) => run.point === "during COMMIT (race)");
  const held = runs.filter((run) => run.point === "during COMMIT (held)");
  const pipelined = runs.filter((run) => run.point === "pipelined");
  const disordered = pipelined.filter((run) => run.disordered).length;
  const tally = (list: Run[]) => {
    const counts = new Map<string, number>();
    for (const run of list) {
      const key = `${run.outcome} with ${run.tables} tables`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    return [...counts].map(([key, count]) => `${count} ${key}`).join(", ") || "none";
  };
  const servers = [...new Set(runs.map((run) => run.server))].join(", ");
  recordCase({
    id: "fault-statement-boundary",
    title: "Fault injection at every statement boundary (backend terminated before each statement and during COMMIT)",
    runs: runs.length,
    figures: [
      { label: "statements in the reference artifact (as tx-apply plans it)", value: STATEMENTS.length, ok: true },
      {
        label: "runs terminated before statement k (every k, every harness server)",
        value: boundary.length,
        required: `${STATEMENTS.length * testServers().length}`,
        ok: boundary.length === STATEMENTS.length * testServers().length,
      },
      { label: "runs terminated racing the COMMIT", value: race.length, ok: true },
      { label: "runs terminated while COMMIT was held at synchronous replication", value: held.length, ok: true },
      { label: "runs terminated at spread points of a pipelined apply (no hook)", value: pipelined.length, ok: true },
      {
        label: "pipelined runs whose statement statuses were out of order",
        value: disordered,
        required: "0",
        ok: disordered === 0,
      },
      { label: "partial commits found in the catalog", value: partial, required: "0", ok: partial === 0 },
      {
        label: "outcomes reported truthfully",
        value: `${truthful} of ${runs.length}`,
        required: `all ${runs.length}`,
        ok: truthful === runs.length,
      },
      { label: "median wall time of one faulted apply (ms)", value: round(median(runs.map((run) => run.ms))), ok: true },
    ],
    findings: [
      `Servers: ${servers}.`,
      `Before statement k: ${tally(boundary)}.`,
      `Racing the COMMIT: ${tally(race)}.`,
      `COMMIT held at synchronous replication, then terminated: ${tally(held)} (the commit record was written before the wait, so the transaction committed while the client got no answer).`,
      `Pipelined (depth 4, no hook), terminated ${PIPELINED_DELAYS_MS.join(", ")} ms after the backend appeared: ${tally(pipelined)}; ${pipelined.filter((run) => (run.skipped ?? 0) > 0).length} of them with statements sent behind the lost one and logged skipped.`,
      "Faults are injected through tx-apply's onBeforeStatement hook (added for this case): pg_terminate_backend(pid, 5000) from a superuser session, then 20 ms for the client to see its session end before statement k is attempted. The COMMIT race fires the termination with the COMMIT (immediately, on setImmediate or after 1 ms).",
      "No defect found: every faulted statement was reported not_sent, the outcome rolled_back with the lost session named; a COMMIT whose answer was lost was reported unknown, never rolled_back, also when the catalog showed it committed. Pipelined, the statuses stayed in order (successes, the statement the session was lost on, the ones sent behind it as skipped, then not sent).",
    ],
  });
});
