import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { cleanEnv, rolePassword, runNodeCli, serverUrl, testServers } from "@dieu44/test-harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApplyLogSchema } from "../src/index.js";
import { FIXTURE_EXPECTATION, fixtureDatabase, REFERENCE_PATH, REFERENCE_SQL, sha256, tablesIn } from "./helpers.js";

const CLI = join(dirname(fileURLToPath(import.meta.url)), "..", "bin", "tx-apply.js");
const REFERENCE_SHA = sha256(REFERENCE_SQL);

function runCli(args: string[], env: Record<string, string> = {}) {
  return runNodeCli(CLI, args, { env: cleanEnv(env) });
}

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

describe("tx-apply CLI", () => {
  const server = testServers()[0]!;
  let dir: string;
  beforeAll(() => {
    if (!existsSync(join(dirname(CLI), "..", "dist", "cli.js")))
      throw new Error("build first: npx tsc -p packages/tx-apply/tsconfig.build.json");
    dir = mkdtempSync(join(tmpdir(), "tx-apply-cli-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("exits 1 as directus (rolled back), then 0 as workflow_admin (committed); the password appears nowhere", async () => {
    const database = await fixtureDatabase(server);
    const common = ["--expect-system-identifier", server.systemIdentifier, "--sha256", REFERENCE_SHA];

    // Password in the URL.
    const blocked = await runCli([
      REFERENCE_PATH,
      "--role",
      "directus",
      ...common,
      "--url",
      serverUrl(server, { database, user: "directus" }),
    ]);
    expect(blocked.status).toBe(1);
    const blockedLog = ApplyLogSchema.parse(JSON.parse(blocked.stdout));
    expect(blockedLog).toMatchObject({ outcome: "rolled_back", error: { sqlstate: "42501", statementIndex: 1 } });
    expect(blocked.stdout + blocked.stderr).not.toContain(rolePassword("directus"));

    // Password in PGPASSWORD, the rest from the URL without it; the log also goes to --out.
    const out = join(dir, "apply-log.json");
    const password = rolePassword("workflow_admin") ?? "";
    const committed = await runCli(
      [
        REFERENCE_PATH,
        "--role",
        "workflow_admin",
        ...common,
        "--url",
        `postgres://${server.host}:${server.port}/${database}`,
        "--out",
        out,
      ],
      { PGPASSWORD: password },
    );
    expect(committed.stderr).toBe("");
    expect(committed.status).toBe(0);
    const log = ApplyLogSchema.parse(JSON.parse(committed.stdout));
    expect(log.outcome).toBe("committed");
    expect(log.connection).toBe(`postgres://workflow_admin@${server.host}:${server.port}/${database}`);
    expect(readFileSync(out, "utf8")).toBe(committed.stdout);
    expect(committed.stdout).not.toContain(password);
    expect(await tablesIn(server, database)).toHaveLength(12);
  });

  it("--verify-before-commit with --dry-run and --format text: exit 0, nothing committed", async () => {
    const database = await fixtureDatabase(server);
    const expectation = join(dir, "expect.json");
    writeFileSync(expectation, JSON.stringify(FIXTURE_EXPECTATION));
    const result = await runCli([
      REFERENCE_PATH,
      "--role=workflow_admin",
      `--expect-system-identifier=${server.systemIdentifier}`,
      `--sha256=${REFERENCE_SHA}`,
      "--verify-before-commit",
      expectation,
      "--dry-run",
      "--format",
      "text",
      "--url",
      serverUrl(server, { database, user: "workflow_admin" }),
    ]);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(
      /^ROLLED_BACK \(dry run\): dry run: all 12 statements succeeded and the pre-commit verification passed/,
    );
    expect(result.stdout).toContain("pre-commit verification: passed");
    expect(await tablesIn(server, database)).toEqual([]);
  });

  it("exits 1 and sends nothing on a sha256 mismatch", async () => {
    const database = await fixtureDatabase(server);
    const result = await runCli([
      REFERENCE_PATH,
      "--role",
      "workflow_admin",
      "--expect-system-identifier",
      server.systemIdentifier,
      "--sha256",
      "0".repeat(64),
      "--url",
      serverUrl(server, { database, user: "workflow_admin" }),
    ]);
    expect(result.status).toBe(1);
    expect(JSON.parse(result.stdout)).toMatchObject({ outcome: "not_started", backendPid: null });
  });

  it("exits 2 on bad usage and bad input", async () => {
    const required = ["--role", "workflow_admin", "--expect-system-identifier", "1", "--sha256", REFERENCE_SHA];
    for (const args of [
      [],
      [REFERENCE_PATH],
      [REFERENCE_PATH, "--expect-system-identifier", "1", "--sha256", REFERENCE_SHA],
      [REFERENCE_PATH, ...required, "--bogus"],
      [REFERENCE_PATH, ...required, "--lock-timeout", "forever"],
      [REFERENCE_PATH, ...required, "--pipeline-depth", "0"],
      [REFERENCE_PATH, ...required, "--pipeline-depth", "many"],
      [REFERENCE_PATH, "--role", "workflow_admin", "--expect-system-identifier", "1", "--sha256", "xyz"],
      ["/nonexistent/a.sql", ...required],
      [REFERENCE_PATH, ...required, "--verify-before-commit", REFERENCE_PATH],
      [REFERENCE_PATH, ...required, "--expect-fingerprint", "ab"],
    ]) {
      const result = await runCli(args);
      expect(result.status, args.join(" ")).toBe(2);
      expect(result.stdout).toBe("");
      expect(result.stderr).toMatch(/^tx-apply: /);
      expect(result.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it("exits 3 when the server is unreachable, without the password", async () => {
    const port = await closedPort();
    const secret = "Url-Secret-2718";
    const result = await runCli([
      REFERENCE_PATH,
      "--role",
      "workflow_admin",
      "--expect-system-identifier",
      "1",
      "--sha256",
      REFERENCE_SHA,
      "--url",
      `postgres://workflow_admin:${secret}@127.0.0.1:${port}/db`,
    ]);
    expect(result.status).toBe(3);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(
      new RegExp(`^tx-apply: cannot connect to postgres://workflow_admin@127\\.0\\.0\\.1:${port}/db: .*ECONNREFUSED`),
    );
    expect(result.stderr).not.toContain(secret);
  });

  it("exits 3 on a wrong password, which appears nowhere", async () => {
    const database = await fixtureDatabase(server);
    const secret = "Wrong-Secret-3141";
    const result = await runCli(
      [
        REFERENCE_PATH,
        "--role",
        "workflow_admin",
        "--expect-system-identifier",
        server.systemIdentifier,
        "--sha256",
        REFERENCE_SHA,
      ],
      { PGHOST: server.host, PGPORT: String(server.port), PGDATABASE: database, PGPASSWORD: secret },
    );
    expect(result.status).toBe(3);
    expect(result.stderr).toMatch(/28P01/);
    expect(result.stdout + result.stderr).not.toContain(secret);
  });
});
