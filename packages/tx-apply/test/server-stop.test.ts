/**
 * The server stopped while COMMIT is in flight, on a throwaway cluster of this test's own.
 *
 * COMMIT is held at the one point where a client can least know the outcome: synchronous
 * replication to a standby that does not exist. The commit record is already written locally
 * when the server is stopped, so the transaction IS committed, yet the client never gets an answer.
 * A tool that reported "rolled_back" would be lying; tx-apply must say "unknown", and the catalog
 * after a restart must show the artifact whole (never part of it).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync, renameSync, rmSync, statSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { type Cluster, startCluster } from "@dieu44/ephemeral-pg";
import { FIXTURE_DIR, FIXTURE_ROLES } from "@dieu44/test-harness";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apply } from "../src/index.js";
import { REFERENCE_SQL, sha256, waitFor } from "./helpers.js";

const DATABASE = "cutter_prod";
const password = (role: string) => FIXTURE_ROLES.find((entry) => entry.name === role)?.password ?? "";

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

async function sql(url: string, text: string): Promise<pg.QueryResultRow[]> {
  const client = new pg.Client({ connectionString: url });
  client.on("error", () => undefined);
  await client.connect();
  try {
    return (await client.query(text)).rows;
  } finally {
    await client.end().catch(() => undefined);
  }
}

describe("server stopped during COMMIT", () => {
  let cluster: Cluster;
  let keptRoot: string | undefined;
  let restarted: ChildProcess | undefined;

  beforeAll(async () => {
    cluster = await startCluster({ major: 15 });
  });

  afterAll(async () => {
    if (restarted && restarted.exitCode === null) {
      const exited = new Promise((resolve) => restarted?.once("exit", resolve));
      restarted.kill("SIGINT");
      await exited;
    }
    if (keptRoot) rmSync(keptRoot, { recursive: true, force: true });
    await cluster?.stop();
  });

  it("reports unknown (never committed, never rolled_back), and the catalog after restart is all or nothing", async () => {
    const superuser = cluster.url();
    for (const role of FIXTURE_ROLES) await sql(superuser, `CREATE ROLE ${role.name} LOGIN PASSWORD '${role.password}'`);
    await sql(superuser, `CREATE DATABASE ${DATABASE}`);
    await sql(cluster.url({ database: DATABASE }), readFileSync(join(FIXTURE_DIR, "bootstrap.sql"), "utf8"));
    const [identity] = await sql(superuser, "SELECT system_identifier::text AS id FROM pg_control_system()");
    // Every commit in this database now waits for a standby that never comes.
    await sql(superuser, `ALTER DATABASE ${DATABASE} SET synchronous_commit = on`);
    await sql(superuser, "ALTER SYSTEM SET synchronous_standby_names = 'ghost'");
    await sql(superuser, "SELECT pg_reload_conf()");

    const bytes = Buffer.from(REFERENCE_SQL);
    const running = apply(
      { url: cluster.url({ database: DATABASE, user: "workflow_admin", password: password("workflow_admin") }), env: {} },
      { path: "ws-q5-registry-substrate-ddl.sql", bytes },
      { role: "workflow_admin", expectSystemIdentifier: String(identity?.id), sha256: sha256(bytes) },
    );
    let settled: unknown;
    running.then(
      (value) => (settled = value),
      (error) => (settled = error),
    );
    await waitFor(async () => {
      if (settled) throw new Error(`apply ended before COMMIT was held: ${JSON.stringify(settled)}`);
      const rows = await sql(
        superuser,
        "SELECT 1 FROM pg_stat_activity WHERE application_name = 'tx-apply' AND wait_event = 'SyncRep'",
      );
      return rows.length > 0;
    });
    // startCluster removes its folder once the postmaster exits; keep the data for the restart by
    // moving the folder away first (the postmaster works relative to its data directory, and the
    // shutdown checkpoint is written relative to it too).
    const root = dirname(cluster.dataDir);
    keptRoot = `${root}-kept`;
    renameSync(root, keptRoot);
    process.kill(cluster.pid, "SIGINT");
    const log = await running;

    expect(log.outcome).toBe("unknown");
    expect(log.passed).toBe(false);
    expect(log.statements.at(-1)).toMatchObject({ tag: "COMMIT", status: "unknown" });
    expect(log.statements.slice(0, -1).every((statement) => statement.status === "succeeded")).toBe(true);
    expect(log.error).toMatchObject({ phase: "commit", connectionLost: true, statementIndex: 13 });
    // The server's own last word is kept in the log for whoever verifies.
    expect(log.notices).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ severity: "WARNING", statementIndex: 13, detail: expect.stringMatching(/committed locally/) }),
      ]),
    );

    // Restart on the kept data directory and look at the catalog.
    const dataDir = join(keptRoot, "data");
    const owner = statSync(dataDir);
    const port = await freePort();
    const asOwner = process.getuid?.() === 0 ? { uid: owner.uid, gid: owner.gid } : {};
    restarted = spawn(
      join(cluster.binDir, "postgres"),
      ["-D", dataDir, "-p", String(port), "-c", "listen_addresses=127.0.0.1", "-c", `unix_socket_directories=${keptRoot}`],
      { ...asOwner, stdio: "ignore", env: { PATH: process.env.PATH ?? "/usr/bin:/bin", LANG: "C", LC_ALL: "C" } },
    );
    const url = `postgres://${cluster.superuser}:${encodeURIComponent(cluster.superuserPassword)}@127.0.0.1:${port}/${DATABASE}`;
    const rows = await waitFor(async () => {
      try {
        return await sql(
          url,
          "SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'cutter_governance' AND tablename LIKE 'registry%'",
        );
      } catch {
        return undefined;
      }
    }, 30_000);
    const tables = Number(rows[0]?.n);
    // All or nothing; here the commit record was written before the stop, so all of it.
    expect([0, 12]).toContain(tables);
    expect(tables).toBe(12);
  });
});
