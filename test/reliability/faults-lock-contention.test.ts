/**
 * Lock contention: another session holds a lock the apply needs. The apply must give up within
 * its lock_timeout (measured against the configured value), commit nothing, and leave the other
 * session unharmed: its transaction still open afterwards, and able to commit.
 *
 * - tx-apply, the reference artifact: another session has created one of the twelve tables in a
 *   transaction it has not finished (a concurrent deploy), so the apply's CREATE TABLE of that name
 *   waits on it.
 * - tx-apply, the reference artifact plus a table whose FOREIGN KEY references production's
 *   governance_law, which another session holds ACCESS EXCLUSIVE.
 * - dieu44 run with the plan's apply.lockTimeout: the concurrent deploy again (the apply fails,
 *   FAIL with the catalog verified unchanged); a production table of the schema held ACCESS
 *   EXCLUSIVE (P1 reads the committed catalog without waiting; P2's pg_dump gives up within the
 *   plan's backup.lockWaitTimeout); a table outside the schema held ACCESS EXCLUSIVE (P2 again).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  bootstrapFixture,
  catalogState,
  dropDatabase,
  dumpableServers,
  query,
  type ServerInfo,
  serverUrl,
  testServers,
} from "@dieu44/test-harness";
import { apply } from "@dieu44/tx-apply";
import type { ApplyLog } from "@dieu44/tx-apply/schema";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import {
  REFERENCE_BYTES,
  REFERENCE_PATH,
  REFERENCE_SHA256,
  round,
  runAsWorkflowAdmin,
  sha256Of,
  targetTablesIn,
  writePlan,
} from "./fault-support.js";
import { recordCase } from "./record.js";

interface Run {
  server: string;
  scenario: string;
  /** The wait limit configured, in ms. */
  limitMs: number;
  /** How long the blocked step waited before giving up, in ms. */
  waitedMs: number;
  gaveUpWithinLimit: boolean;
  nothingCommitted: boolean;
  otherSessionUnharmed: boolean;
}
const runs: Run[] = [];

/** Gave up no earlier than the limit (it did wait) and no later than the limit plus this slack. */
const SLACK_MS = 1000;
const within = (waitedMs: number, limitMs: number) => waitedMs >= limitMs * 0.9 && waitedMs <= limitMs + SLACK_MS;

/** Another session in an open transaction; `unharmed` checks it is the same transaction and commits it. */
async function otherSession(server: ServerInfo, database: string, sql: string) {
  const client = new pg.Client({ connectionString: serverUrl(server, { database }) });
  await client.connect();
  await client.query("begin");
  await client.query(sql);
  const [{ xid }] = (await client.query<{ xid: string }>("select txid_current()::text as xid")).rows as [{ xid: string }];
  return {
    async unharmed(): Promise<boolean> {
      try {
        const [row] = (await client.query<{ xid: string; state: string }>("select txid_current()::text as xid")).rows;
        const result = await client.query("commit");
        return row?.xid === xid && result.command === "COMMIT";
      } finally {
        await client.end();
      }
    },
    /** Runs `work` while the lock is held; a failure ends this session too, so the test never hangs on it. */
    async during<T>(work: () => Promise<T>): Promise<T> {
      try {
        return await work();
      } catch (error) {
        await client.end().catch(() => undefined);
        throw error;
      }
    },
  };
}

/** How long a step of a dieu44 run took (ms), or -1 when it did not run. */
function stepMs(
  outcome: { result: { steps: { id: string; startedAt?: string | null; finishedAt?: string | null }[] } },
  id: string,
) {
  const step = outcome.result.steps.find((entry) => entry.id === id);
  return step?.startedAt && step.finishedAt ? Date.parse(step.finishedAt) - Date.parse(step.startedAt) : -1;
}

/** The backup marker a dieu44 run wrote at P2. */
function backupMarker(evidenceDir: string): { status: string; failure: { message: string } | null } {
  return JSON.parse(readFileSync(join(evidenceDir, "backup-marker.json"), "utf8"));
}

function applyArtifact(server: ServerInfo, database: string, bytes: Buffer, lockTimeout: string): Promise<ApplyLog> {
  return apply(
    { url: serverUrl(server, { database, user: "workflow_admin" }), env: {} },
    { path: REFERENCE_PATH, bytes },
    {
      role: "workflow_admin",
      expectSystemIdentifier: server.systemIdentifier,
      sha256: bytes === REFERENCE_BYTES ? REFERENCE_SHA256 : sha256Of(bytes),
      lockTimeout,
    },
  );
}

/** The reference artifact with one more table, whose foreign key references production's governance_law. */
const WITH_PRODUCTION_FK = Buffer.from(
  REFERENCE_BYTES.toString("utf8").replace(
    /\nCOMMIT;/,
    "\nCREATE TABLE cutter_governance.registry_law_link (\n  link_id bigint PRIMARY KEY,\n" +
      "  law_id bigint NOT NULL REFERENCES cutter_governance.governance_law (law_id)\n);\n\nCOMMIT;",
  ),
);

describe("fault: another session holds a lock the apply needs (tx-apply)", () => {
  for (const server of testServers()) {
    it(`${server.label}: an unfinished concurrent CREATE TABLE of a target name; gives up within lock_timeout`, async () => {
      const database = await bootstrapFixture(server, "rlc");
      try {
        for (const lockTimeoutMs of [250, 1000]) {
          const other = await otherSession(
            server,
            database,
            "create table cutter_governance.registry_version (version_id bigint primary key)",
          );
          const log = await other.during(() => applyArtifact(server, database, REFERENCE_BYTES, `${lockTimeoutMs}ms`));
          const blocked = log.statements.find((statement) => statement.status === "failed");
          const tablesWhileHeld = await targetTablesIn(serverUrl(server, { database }));
          const unharmed = await other.unharmed();
          // The other session's table is now committed; the apply's own eleven never were.
          const tablesAfter = await targetTablesIn(serverUrl(server, { database }));
          const run: Run = {
            server: server.label,
            scenario: "tx-apply: unfinished concurrent CREATE TABLE of a target name",
            limitMs: lockTimeoutMs,
            waitedMs: blocked?.durationMs ?? -1,
            gaveUpWithinLimit: within(blocked?.durationMs ?? -1, lockTimeoutMs),
            nothingCommitted: log.outcome === "rolled_back" && tablesWhileHeld === 0 && tablesAfter === 1,
            otherSessionUnharmed: unharmed,
          };
          runs.push(run);
          expect(log.error).toMatchObject({ sqlstate: "55P03", connectionLost: false });
          expect(blocked?.tag).toBe("CREATE TABLE");
          expect(run.gaveUpWithinLimit, `waited ${run.waitedMs} ms for a ${lockTimeoutMs} ms lock_timeout`).toBe(true);
          expect(run.nothingCommitted).toBe(true);
          expect(run.otherSessionUnharmed).toBe(true);
          await query(server, "drop table cutter_governance.registry_version", { database });
        }
      } finally {
        await dropDatabase(server, database);
      }
    });

    it(`${server.label}: ACCESS EXCLUSIVE on the production table a new foreign key references; gives up within lock_timeout`, async () => {
      const database = await bootstrapFixture(server, "rlf");
      const lockTimeoutMs = 500;
      try {
        const other = await otherSession(
          server,
          database,
          "lock table cutter_governance.governance_law in access exclusive mode",
        );
        const log = await other.during(() => applyArtifact(server, database, WITH_PRODUCTION_FK, `${lockTimeoutMs}ms`));
        const blocked = log.statements.find((statement) => statement.status === "failed");
        const tables = await targetTablesIn(serverUrl(server, { database }));
        const run: Run = {
          server: server.label,
          scenario: "tx-apply: ACCESS EXCLUSIVE on a table a new foreign key references",
          limitMs: lockTimeoutMs,
          waitedMs: blocked?.durationMs ?? -1,
          gaveUpWithinLimit: within(blocked?.durationMs ?? -1, lockTimeoutMs),
          nothingCommitted: log.outcome === "rolled_back" && tables === 0,
          otherSessionUnharmed: await other.unharmed(),
        };
        runs.push(run);
        expect(log.error).toMatchObject({ sqlstate: "55P03", statementIndex: 13 });
        expect(run.gaveUpWithinLimit, `waited ${run.waitedMs} ms for a ${lockTimeoutMs} ms lock_timeout`).toBe(true);
        expect(run.nothingCommitted).toBe(true);
        expect(run.otherSessionUnharmed).toBe(true);
      } finally {
        await dropDatabase(server, database);
      }
    });
  }
});

describe.skipIf(dumpableServers().length === 0)("fault: another session holds a lock dieu44 run needs", () => {
  const server = dumpableServers()[0] as ServerInfo;
  const limits = { apply: 750, backup: 500 };
  const planFor = (database: string) =>
    writePlan(server, database, (plan) => {
      plan.apply = { lockTimeout: `${limits.apply}ms` };
      plan.backup.lockWaitTimeout = `${limits.backup}ms`;
    });

  it("the apply waits on an unfinished concurrent CREATE TABLE: FAIL within the plan's lockTimeout, catalog unchanged", async () => {
    const database = await bootstrapFixture(server, "rlp");
    try {
      const before = await catalogState(server, database);
      const other = await otherSession(
        server,
        database,
        "create table cutter_governance.registry_namespace (namespace_id bigint primary key)",
      );
      const outcome = await other.during(() => runAsWorkflowAdmin(server, database, planFor(database)));
      const log = JSON.parse(readFileSync(join(outcome.evidenceDir, "apply-log.json"), "utf8")) as ApplyLog;
      const waitedMs = log.statements.find((statement) => statement.status === "failed")?.durationMs ?? -1;
      const unchanged = JSON.stringify(await catalogState(server, database)) === JSON.stringify(before);
      const run: Run = {
        server: server.label,
        scenario: "dieu44 run: apply blocked by an unfinished concurrent CREATE TABLE (plan apply.lockTimeout)",
        limitMs: limits.apply,
        waitedMs,
        gaveUpWithinLimit: within(waitedMs, limits.apply),
        nothingCommitted: log.outcome === "rolled_back" && unchanged,
        otherSessionUnharmed: await other.unharmed(),
      };
      runs.push(run);
      expect(outcome.result.status).toBe("FAIL");
      expect(outcome.exitCode).toBe(1);
      expect(outcome.result.verdict).toMatchObject({
        root_cause: "lock_timeout_waiting_for_production_lock",
        production_changed: false,
        tables_created: 0,
      });
      expect(log.guards.find((guard) => guard.name === "lock_timeout")?.actual).toBe(`${limits.apply} ms`);
      expect(run.gaveUpWithinLimit, `waited ${waitedMs} ms`).toBe(true);
      expect(run.nothingCommitted).toBe(true);
      expect(run.otherSessionUnharmed).toBe(true);
    } finally {
      await dropDatabase(server, database);
    }
  });

  // P1 reads the committed catalog (catalog-snapshot composes plain definitions from catalog rows,
  // so a locked table with nothing to deparse costs it no wait); the first step that needs the
  // table itself is P2's pg_dump, which gives up within the plan's backup.lockWaitTimeout.
  it("a production table of the schema held ACCESS EXCLUSIVE: P1 reads past it, P2's pg_dump gives up within the plan's lockWaitTimeout", async () => {
    const database = await bootstrapFixture(server, "rlp");
    try {
      const before = await catalogState(server, database);
      const other = await otherSession(
        server,
        database,
        "lock table cutter_governance.governance_article in access exclusive mode",
      );
      const outcome = await other.during(() => runAsWorkflowAdmin(server, database, planFor(database)));
      const p1 = outcome.result.steps.find((step) => step.id === "P1_preflight");
      const p2 = outcome.result.steps.find((step) => step.id === "P2_fresh_backup");
      const waitedMs = stepMs(outcome, "P2_fresh_backup");
      const marker = backupMarker(outcome.evidenceDir);
      const run: Run = {
        server: server.label,
        scenario:
          "dieu44 run: ACCESS EXCLUSIVE on a production table of the schema; P1 passes without waiting, P2 (pg_dump) gives up (plan backup.lockWaitTimeout)",
        limitMs: limits.backup,
        waitedMs,
        gaveUpWithinLimit: waitedMs >= 0 && waitedMs <= limits.backup + 2 * SLACK_MS,
        nothingCommitted: JSON.stringify(await catalogState(server, database)) === JSON.stringify(before),
        otherSessionUnharmed: await other.unharmed(),
      };
      runs.push(run);
      expect(outcome.result.status).toBe("BLOCKED");
      expect(outcome.exitCode).toBe(1);
      expect(p1?.status).toBe("passed");
      expect(stepMs(outcome, "P1_preflight")).toBeLessThan(limits.apply);
      expect(p2?.status).toBe("failed");
      expect(outcome.result.verdict?.root_cause).toBe("fresh_backup_failed");
      expect(marker.failure?.message).toMatch(/LOCK TABLE cutter_governance\.governance_article/);
      expect(run.gaveUpWithinLimit, `P2 took ${waitedMs} ms`).toBe(true);
      expect(run.nothingCommitted).toBe(true);
      expect(run.otherSessionUnharmed).toBe(true);
    } finally {
      await dropDatabase(server, database);
    }
  });

  it("a table outside the schema held ACCESS EXCLUSIVE: P2's pg_dump gives up within the plan's lockWaitTimeout", async () => {
    const database = await bootstrapFixture(server, "rlp");
    try {
      await query(server, "create table public.busy (id bigint primary key); grant select on public.busy to workflow_admin", {
        database,
      });
      const before = await catalogState(server, database);
      const other = await otherSession(server, database, "lock table public.busy in access exclusive mode");
      const outcome = await other.during(() => runAsWorkflowAdmin(server, database, planFor(database)));
      const waitedMs = stepMs(outcome, "P2_fresh_backup");
      const marker = backupMarker(outcome.evidenceDir);
      const unchanged = JSON.stringify(await catalogState(server, database)) === JSON.stringify(before);
      const run: Run = {
        server: server.label,
        scenario:
          "dieu44 run: P2 (pg_dump) blocked by ACCESS EXCLUSIVE on a table outside the schema (plan backup.lockWaitTimeout)",
        limitMs: limits.backup,
        // P2 also connects, exports a snapshot and starts pg_dump: its own time bounds the wait from above.
        waitedMs,
        gaveUpWithinLimit: waitedMs <= limits.backup + 2 * SLACK_MS,
        nothingCommitted: unchanged,
        otherSessionUnharmed: await other.unharmed(),
      };
      runs.push(run);
      expect(outcome.result.status).toBe("BLOCKED");
      expect(outcome.result.verdict?.root_cause).toBe("fresh_backup_failed");
      expect(marker.status).toBe("failed");
      expect(marker.failure?.message).toMatch(/LOCK TABLE public\.busy/);
      expect(run.gaveUpWithinLimit, `P2 took ${waitedMs} ms`).toBe(true);
      expect(run.nothingCommitted).toBe(true);
      expect(run.otherSessionUnharmed).toBe(true);
    } finally {
      await dropDatabase(server, database);
    }
  });
});

afterAll(() => {
  if (runs.length === 0) return;
  const all = runs.length;
  const count = (test: (run: Run) => boolean) => runs.filter(test).length;
  recordCase({
    id: "fault-lock-contention",
    title: "Lock contention: another session holds a lock the apply needs",
    runs: all,
    figures: [
      {
        label: `gave up within the configured limit (blocked statement: ≥ 0.9 × limit and ≤ limit + ${SLACK_MS} ms; whole P2 step: ≤ limit + ${2 * SLACK_MS} ms)`,
        value: `${count((run) => run.gaveUpWithinLimit)} of ${all}`,
        required: `all ${all}`,
        ok: count((run) => run.gaveUpWithinLimit) === all,
      },
      {
        label: "runs that committed anything",
        value: count((run) => !run.nothingCommitted),
        required: "0",
        ok: count((run) => !run.nothingCommitted) === 0,
      },
      {
        label: "other session unharmed (same transaction still open, then committed)",
        value: `${count((run) => run.otherSessionUnharmed)} of ${all}`,
        required: `all ${all}`,
        ok: count((run) => run.otherSessionUnharmed) === all,
      },
      {
        label: "largest wait beyond the limit (ms)",
        value: round(Math.max(...runs.map((run) => run.waitedMs - run.limitMs))),
        ok: true,
      },
    ],
    findings: [
      ...runs.map((run) => `${run.server}, ${run.scenario}: limit ${run.limitMs} ms, waited ${round(run.waitedMs)} ms.`),
      "The lock timeout is configurable end to end: tx-apply's lockTimeout (default 5s), and now the plan's apply.lockTimeout / apply.statementTimeout and backup.lockWaitTimeout (default 30s), passed by dieu44 run to tx-apply and backup-marker.",
      "Defects found and fixed: (1) P2 had no lock wait limit: pg_dump waited forever for a table another session held exclusively, so dieu44 run hung; backup-marker gained lockWaitTimeoutMs (pg_dump --lock-wait-timeout, and lock_timeout for its catalog fingerprint) and the procedure passes the plan's backup.lockWaitTimeout. (2) P1's catalog snapshot waited up to its 60 s statement timeout on such a lock (catalog-snapshot's pg_get_indexdef takes the table's lock) and then failed as an environment failure (exit 3); the procedure now reads P1 through a session with the apply's lock_timeout and reports BLOCKED lock_timeout_waiting_for_production_lock (exit 1).",
    ],
  });
});
