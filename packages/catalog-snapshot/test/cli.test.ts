/** The catalog-snapshot command: output, files, exit codes and what never appears in its output. */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bootstrapFixture, dropDatabase, rolePassword, serverUrl, testServers } from "@dieu44/test-harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CatalogSnapshotSchema } from "../src/index.js";
import { runCli } from "./helpers.js";

function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 1;
      server.close(() => resolve(port));
    });
  });
}

describe("catalog-snapshot CLI", () => {
  it("exits 3 with a clear message and no password when the server is unreachable", async () => {
    const port = await closedPort();
    const secret = "Url-Secret-9931";
    const viaUrl = await runCli(["--url", `postgres://someone:${secret}@127.0.0.1:${port}/db`]);
    expect(viaUrl.status).toBe(3);
    expect(viaUrl.stdout).toBe("");
    expect(viaUrl.stderr).toMatch(
      new RegExp(`^catalog-snapshot: cannot connect to postgres://someone@127\\.0\\.0\\.1:${port}/db: .*ECONNREFUSED`),
    );
    expect(viaUrl.stderr).not.toContain(secret);
    expect(viaUrl.stderr.split("\n").length).toBeLessThanOrEqual(2);

    const envSecret = "Env-Secret-5517";
    const viaEnv = await runCli([], {
      PGHOST: "127.0.0.1",
      PGPORT: String(port),
      PGUSER: "someone",
      PGDATABASE: "db",
      PGPASSWORD: envSecret,
    });
    expect(viaEnv.status).toBe(3);
    expect(viaEnv.stderr).toContain("cannot connect to postgres://someone@127.0.0.1");
    expect(viaEnv.stderr + viaEnv.stdout).not.toContain(envSecret);
  });

  it("exits 2 on bad arguments", async () => {
    for (const args of [
      ["--bogus"],
      ["--schema"],
      ["--schema", "a", "stray"],
      ["--statement-timeout-ms", "soon"],
      ["--privileges-for="],
      ["--jobs", "0"],
    ]) {
      const result = await runCli(args);
      expect(result.status, args.join(" ")).toBe(2);
      expect(result.stdout).toBe("");
      expect(result.stderr).toMatch(/^catalog-snapshot: /);
    }
    const help = await runCli(["--help"]);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain("--privileges-for");
  });
});

describe.each(testServers().map((server) => [server.label, server] as const))("catalog-snapshot CLI on %s", (_label, server) => {
  let database: string;
  let dir: string;
  beforeAll(async () => {
    database = await bootstrapFixture(server, "cli");
    dir = mkdtempSync(join(tmpdir(), "catalog-snapshot-cli-"));
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    if (database) await dropDatabase(server, database);
  });

  it("prints a valid snapshot on stdout telling directus (no CREATE) from workflow_admin (owner)", async () => {
    const result = await runCli([
      "--url",
      serverUrl(server, { database }),
      "--schema",
      "cutter_governance",
      "--schema",
      "missing_schema",
      "--privileges-for",
      "directus",
      "--privileges-for",
      "workflow_admin",
    ]);
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    const doc = CatalogSnapshotSchema.parse(JSON.parse(result.stdout));
    expect(doc.schemas.map((s) => [s.name, s.exists])).toEqual([
      ["cutter_governance", true],
      ["missing_schema", false],
    ]);
    expect(doc.roles.map((r) => [r.name, r.schemaPrivileges])).toEqual([
      ["directus", [{ schema: "cutter_governance", usage: true, create: false }]],
      ["workflow_admin", [{ schema: "cutter_governance", usage: true, create: true }]],
    ]);
    expect(result.stdout).not.toContain(server.superuserPassword);
  });

  it("writes --out as the library would, connecting through the libpq environment as a non-superuser", async () => {
    const out = join(dir, "snapshot.json");
    const password = rolePassword("directus") ?? "";
    const result = await runCli(["--schema", "cutter_governance", "--out", out], {
      PGHOST: server.host,
      PGPORT: String(server.port),
      PGUSER: "directus",
      PGDATABASE: database,
      PGPASSWORD: password,
    });
    expect(result.status).toBe(0);
    expect(result.stdout).toBe("");
    const text = readFileSync(out, "utf8");
    expect(text).not.toContain(password);
    const doc = CatalogSnapshotSchema.parse(JSON.parse(text));
    // Compact by default (one line); --pretty indents the same document.
    expect(text).toBe(`${JSON.stringify(JSON.parse(text))}\n`);
    expect(doc.server.currentUser).toBe("directus");
    expect(doc.tables.map((t) => t.name)).toEqual(["cutter_run", "governance_article", "governance_law"]);
    // The same catalog as seen by the superuser: same fingerprint.
    const again = await runCli(["--url", serverUrl(server, { database }), "--schema", "cutter_governance"]);
    expect(JSON.parse(again.stdout).fingerprint).toBe(doc.fingerprint);
    const pretty = await runCli(["--url", serverUrl(server, { database }), "--schema", "cutter_governance", "--pretty"]);
    expect(pretty.status).toBe(0);
    expect(pretty.stdout).toBe(`${JSON.stringify(JSON.parse(pretty.stdout), null, 2)}\n`);
    expect(JSON.parse(pretty.stdout).fingerprint).toBe(doc.fingerprint);
  });

  it("exits 3 without the password when the password is wrong", async () => {
    const wrong = "Wrong-Password-2024";
    const result = await runCli(["--url", serverUrl(server, { database, user: "directus", password: wrong })]);
    expect(result.status).toBe(3);
    expect(result.stderr).toMatch(/cannot connect to .*password authentication failed/);
    expect(result.stderr).not.toContain(wrong);
  });
});
