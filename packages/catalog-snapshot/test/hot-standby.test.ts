/**
 * A hot standby of the harness's PostgreSQL 15 (system binaries): the snapshot reads it, also over
 * several connections (an exported snapshot during recovery), and sees what the primary has.
 */
import { spawnSync } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createDatabase, dropDatabase, query, serverUrl, testServers } from "@dieu44/test-harness";
import { describe, expect, it } from "vitest";
import { snapshot } from "../src/index.js";

const BIN = "/usr/lib/postgresql/15/bin";
const primary = testServers().find((server) => server.major === 15 && !server.external);
const available = primary !== undefined && existsSync(join(BIN, "pg_basebackup")) && existsSync(join(BIN, "pg_ctl"));

/** As root, PostgreSQL must run as an unprivileged user (the harness uses postgres, else nobody). */
function runAs(): { uid: number; gid: number } | undefined {
  if (typeof process.getuid !== "function" || process.getuid() !== 0) return undefined;
  for (const name of ["postgres", "nobody"]) {
    const fields = readFileSync("/etc/passwd", "utf8")
      .split("\n")
      .find((line) => line.startsWith(`${name}:`))
      ?.split(":");
    if (fields && fields.length > 3) return { uid: Number(fields[2]), gid: Number(fields[3]) };
  }
  return undefined;
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

describe.runIf(available)("hot standby", () => {
  it("snapshots a standby in recovery with the primary's fingerprint", async () => {
    const server = primary!;
    const database = await createDatabase(server, "standby");
    const root = mkdtempSync(join(tmpdir(), "catalog-snapshot-standby-"));
    const user = runAs();
    const ids = user ? { uid: user.uid, gid: user.gid } : {};
    if (user) chownSync(root, user.uid, user.gid);
    const dataDir = join(root, "data");
    const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", PGPASSWORD: server.superuserPassword, LANG: "C" };
    let started = false;
    try {
      const tables = Array.from({ length: 12 }, (_, i) => `create table public.s${i} (id int primary key, v text unique);`);
      await query(server, tables.join("\n"), { database });
      const backup = spawnSync(
        join(BIN, "pg_basebackup"),
        ["-h", server.host, "-p", String(server.port), "-U", server.superuser, "-D", dataDir, "-R", "-X", "stream", "-c", "fast"],
        { ...ids, env, encoding: "utf8", cwd: root },
      );
      expect(backup.stderr).toBe("");
      const port = await freePort();
      const start = spawnSync(
        join(BIN, "pg_ctl"),
        [
          "-D",
          dataDir,
          "-l",
          join(root, "log"),
          "-w",
          "-o",
          `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${root} -c hot_standby=on`,
          "start",
        ],
        { ...ids, env, encoding: "utf8", cwd: root },
      );
      expect(start.status, start.stderr).toBe(0);
      started = true;
      const standby = { ...server, port };
      const options = { schemas: ["public"], maxConnections: 3, parallelMinTables: 1, privilegesFor: ["directus"] };
      const fromStandby = await snapshot({ url: serverUrl(standby, { database }), env: {} }, options);
      const fromPrimary = await snapshot({ url: serverUrl(server, { database }), env: {} }, options);
      expect(fromStandby.server.inRecovery).toBe(true);
      expect(fromPrimary.server.inRecovery).toBe(false);
      expect(fromStandby.tables).toHaveLength(12);
      expect(fromStandby.fingerprint).toBe(fromPrimary.fingerprint);
    } finally {
      if (started)
        spawnSync(join(BIN, "pg_ctl"), ["-D", dataDir, "-m", "fast", "-w", "stop"], { ...ids, env, encoding: "utf8", cwd: root });
      rmSync(root, { recursive: true, force: true });
      await dropDatabase(server, database);
    }
  });
});
