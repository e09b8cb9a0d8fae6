import { existsSync } from "node:fs";
import { availableMajors, startCluster } from "@dieu44/ephemeral-pg";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { clientTool, createRole, dumpableServers, processAlive, query, serverUrl, testServers } from "./index.js";

describe("test harness", () => {
  it("starts PostgreSQL 15 and 18 as separate clusters", () => {
    const servers = testServers();
    if (servers.some((server) => server.external)) return; // pointed at an existing server
    expect(servers.map((server) => server.major).sort()).toEqual([15, 18]);
    for (const server of servers) {
      expect(server.serverVersionNum).toBeGreaterThanOrEqual(server.major * 10000);
      expect(server.systemIdentifier).toMatch(/^\d{15,20}$/);
    }
    expect(new Set(servers.map((server) => server.systemIdentifier)).size).toBe(servers.length);
  });

  it("creates login roles that can connect with their own password", async () => {
    for (const server of testServers()) {
      const role = await createRole(server, { prefix: "harness" });
      const client = new pg.Client({ connectionString: serverUrl(server, { user: role.name, password: role.password }) });
      await client.connect();
      const me = await client.query<{ u: string }>("select current_user as u");
      await client.end();
      expect(me.rows[0]?.u).toBe(role.name);
      const [attrs] = await query<{ rolcanlogin: boolean }>(server, "select rolcanlogin from pg_roles where rolname = $1", {
        params: [role.name],
      });
      expect(attrs?.rolcanlogin).toBe(true);
    }
  });

  it("tells which servers the system pg_dump can dump", () => {
    const dump = clientTool("pg_dump");
    const dumpable = dumpableServers();
    if (!dump) return expect(dumpable).toEqual([]);
    for (const server of dumpable) expect(server.major).toBeLessThanOrEqual(dump.major);
  });

  it("leaves no server process and no folder behind after stop", async () => {
    const majors = availableMajors().filter((major) => major === 15 || major === 18);
    expect(majors.length).toBeGreaterThan(0);
    const clusters = await Promise.all(majors.map((major) => startCluster({ major })));
    const seen = clusters.map((cluster) => ({ pid: cluster.pid, dir: cluster.dataDir }));
    for (const cluster of clusters) expect(processAlive(cluster.pid)).toBe(true);
    await Promise.all(clusters.map((cluster) => cluster.stop()));
    for (const { pid, dir } of seen) {
      expect(processAlive(pid)).toBe(false);
      expect(existsSync(dir)).toBe(false);
    }
  });

  it("stops the server when its owner process dies without stopping it", async () => {
    const { spawn } = await import("node:child_process");
    const script = `import { startCluster } from "@dieu44/ephemeral-pg";
      const c = await startCluster({ major: ${availableMajors()[0]} });
      process.stdout.write(JSON.stringify({ pid: c.pid, dir: c.dataDir }) + "\\n");
      setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ["--input-type=module", "-e", script], { stdio: ["ignore", "pipe", "inherit"] });
    const line = await new Promise<string>((resolve) => child.stdout.once("data", (data: Buffer) => resolve(data.toString())));
    const { pid, dir } = JSON.parse(line) as { pid: number; dir: string };
    expect(processAlive(pid)).toBe(true);
    child.kill("SIGKILL");
    const deadline = Date.now() + 20_000;
    while (processAlive(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
    expect(processAlive(pid)).toBe(false);
    while (existsSync(dir) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
    expect(existsSync(dir)).toBe(false);
  });
});
