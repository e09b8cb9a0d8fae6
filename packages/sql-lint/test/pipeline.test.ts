/**
 * `sql-lint --emit-expect` feeds `drift-diff --expect`: the artifact's own content is the
 * post-apply check, on real before/after snapshots (catalog-snapshot) of PostgreSQL 15 and 18.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  bootstrapFixture,
  dropDatabase,
  REPO_ROOT,
  runPsql,
  type ServerInfo,
  serverUrl,
  testServers,
} from "@dieu44/test-harness";
import { beforeAll, describe, expect, it } from "vitest";
import { FIXTURE_POLICY_PATH, REFERENCE, REFERENCE_PATH } from "./helpers.js";

const bin = (tool: string) => join(REPO_ROOT, "packages", tool, "bin", `${tool}.js`);

function node(args: string[]) {
  const result = spawnSync(process.execPath, args, { cwd: REPO_ROOT, encoding: "utf8" });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "sql-lint-pipeline-"));
});

function snapshot(server: ServerInfo, database: string, out: string): void {
  const result = node([
    bin("catalog-snapshot"),
    "--url",
    serverUrl(server, { database }),
    "--schema",
    "cutter_governance",
    "--out",
    out,
  ]);
  expect(result.status, result.stderr).toBe(0);
}

/** Snapshots before, applies the SQL as workflow_admin with psql, snapshots after. */
async function applyBetweenSnapshots(server: ServerInfo, sql: string, name: string): Promise<{ before: string; after: string }> {
  const database = await bootstrapFixture(server);
  try {
    const before = join(dir, `${name}-${server.major}-before.json`);
    const after = join(dir, `${name}-${server.major}-after.json`);
    const file = join(dir, `${name}.sql`);
    writeFileSync(file, sql);
    snapshot(server, database, before);
    const applied = runPsql(server, ["-q", "-f", file], { database, user: "workflow_admin" });
    expect(applied.status, applied.stderr).toBe(0);
    snapshot(server, database, after);
    return { before, after };
  } finally {
    await dropDatabase(server, database);
  }
}

function emitExpect(artifact: string, out: string, policy?: string): void {
  const result = node([
    bin("sql-lint"),
    artifact,
    "--emit-expect",
    ...(policy ? ["--policy", policy] : ["--scope-schema", "cutter_governance"]),
  ]);
  expect([0, 1]).toContain(result.status);
  writeFileSync(out, result.stdout);
}

const SERIAL_VARIANT = REFERENCE.toString("utf8").replace(
  "registry_version (\n  version_id bigint PRIMARY KEY",
  "registry_version (\n  version_id bigserial PRIMARY KEY",
);

describe.each(testServers())("sql-lint --emit-expect | drift-diff --expect on $label", (server) => {
  it("the reference artifact's expectation holds for its apply", async () => {
    const { before, after } = await applyBetweenSnapshots(server, REFERENCE.toString("utf8"), "reference");
    const expectation = join(dir, `reference-${server.major}-expect.json`);
    emitExpect(REFERENCE_PATH, expectation, FIXTURE_POLICY_PATH);
    const checked = node([bin("drift-diff"), before, after, "--expect", expectation]);
    expect(checked.status, checked.stdout + checked.stderr).toBe(0);
    expect(JSON.parse(checked.stdout)).toMatchObject({ kind: "expectation-result", pass: true, violations: [] });
  });

  it("applying a variant with a serial column fails it, naming the DEFAULT and the sequence", async () => {
    expect(SERIAL_VARIANT).not.toBe(REFERENCE.toString("utf8"));
    const { before, after } = await applyBetweenSnapshots(server, SERIAL_VARIANT, "serial");
    const expectation = join(dir, `serial-${server.major}-reference-expect.json`);
    emitExpect(REFERENCE_PATH, expectation, FIXTURE_POLICY_PATH);
    const checked = node([bin("drift-diff"), before, after, "--expect", expectation]);
    expect(checked.status).toBe(1);
    const result = JSON.parse(checked.stdout) as {
      pass: boolean;
      violations: Array<{ objectKind: string; identity: string | null }>;
    };
    expect(result.pass).toBe(false);
    expect(result.violations.map((violation) => violation.objectKind).sort()).toEqual(["default", "sequence"]);
    expect(result.violations.map((violation) => violation.identity).join(" ")).toContain("registry_version");

    // The variant's own SQL explains its apply: its derived expectation holds.
    const variantFile = join(dir, "serial.sql");
    const ownExpectation = join(dir, `serial-${server.major}-own-expect.json`);
    emitExpect(variantFile, ownExpectation);
    const own = node([bin("drift-diff"), before, after, "--expect", ownExpectation]);
    expect(own.status, own.stdout).toBe(0);
  });
});
