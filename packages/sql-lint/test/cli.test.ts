import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO_ROOT } from "@dieu44/test-harness";
import { beforeAll, describe, expect, it } from "vitest";
import { LintReportSchema } from "../src/schema.js";
import { FIXTURE_POLICY_PATH, REFERENCE, REFERENCE_PATH, sha256 } from "./helpers.js";

const BIN = join(REPO_ROOT, "packages", "sql-lint", "bin", "sql-lint.js");

function run(args: string[], input?: string | Buffer) {
  const result = spawnSync(process.execPath, [BIN, ...args], { cwd: REPO_ROOT, input, encoding: "utf8" });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "sql-lint-cli-"));
});

describe("sql-lint CLI", () => {
  it("exit 0 and a JSON report for the reference artifact with the fixture policy", () => {
    const result = run([REFERENCE_PATH, "--policy", FIXTURE_POLICY_PATH]);
    expect(result.status).toBe(0);
    const report = LintReportSchema.parse(JSON.parse(result.stdout));
    expect(report.pass).toBe(true);
    expect(report.artifact.sha256).toBe(sha256(REFERENCE));
    expect(report.policy.source).toBe(FIXTURE_POLICY_PATH);
  });

  it("exit 1 with file:line:col: severity: rule: message lines for a tampered artifact", () => {
    const tampered = join(dir, "tampered.sql");
    writeFileSync(
      tampered,
      REFERENCE.toString("utf8").replace("COMMIT;", "COMMIT;\nGRANT SELECT ON cutter_governance.registry_entity TO directus;"),
    );
    const result = run([tampered, "--policy", FIXTURE_POLICY_PATH, "--format", "text"]);
    expect(result.status).toBe(1);
    const lines = result.stdout.trim().split("\n");
    expect(lines).toContain(
      `${tampered}:1:1: error: approved-sha256: the artifact's sha256 ${sha256(readFileSync(tampered))} differs from the approved efd35e51e4d2e353d17f7cd7179aa220e7198fcf3200732fe92409cdd2d682b4: it is not the approved artifact`,
    );
    expect(lines).toContain(`${tampered}:105:1: error: forbidden-statement: GRANT is forbidden by the policy (GRANT)`);
    expect(lines).toContain(
      `${tampered}:105:1: error: transaction-boundary: GRANT runs outside the BEGIN...COMMIT transaction (autocommitted on its own)`,
    );
    expect(lines.at(-1)).toMatch(/: FAIL: \d+ error\(s\), 0 warning\(s\); 15 statements, 12 CREATE TABLE, 12 PK, 8 FK, 4 UNIQUE/);
  });

  it("a syntax error is exit 1 with its position", () => {
    const broken = join(dir, "broken.sql");
    writeFileSync(broken, "\\set ON_ERROR_STOP on\nBEGIN;\nCREATE TABEL cutter_governance.x (id int);\nCOMMIT;\n");
    const result = run([broken, "--format", "text"]);
    expect(result.status).toBe(1);
    expect(result.stdout).toContain(`${broken}:3:8: error: syntax: syntax error at or near "TABEL"`);
  });

  it("SARIF 2.1.0 with rules, results and the artifact's hash", () => {
    const result = run(["-", "--format", "sarif"], "BEGIN;\nCREATE TABLE t (id int);\nCOMMIT;\n");
    expect(result.status).toBe(1);
    const sarif = JSON.parse(result.stdout);
    expect(sarif.version).toBe("2.1.0");
    const run0 = sarif.runs[0];
    expect(run0.tool.driver.name).toBe("sql-lint");
    expect(run0.tool.driver.rules.map((rule: { id: string }) => rule.id)).toContain("unqualified-name");
    expect(run0.artifacts[0].hashes["sha-256"]).toBe(sha256("BEGIN;\nCREATE TABLE t (id int);\nCOMMIT;\n"));
    const unqualified = run0.results.find((result: { ruleId: string }) => result.ruleId === "unqualified-name");
    expect(unqualified.level).toBe("error");
    expect(unqualified.locations[0].physicalLocation.region).toEqual({ startLine: 2, startColumn: 14 });
    expect(run0.tool.driver.rules[unqualified.ruleIndex].id).toBe("unqualified-name");
  });

  it("--emit-expect prints a drift-diff expected-delta document", () => {
    const result = run([REFERENCE_PATH, "--policy", FIXTURE_POLICY_PATH, "--emit-expect"]);
    expect(result.status).toBe(0);
    const expected = JSON.parse(result.stdout);
    expect(expected).toMatchObject({
      kind: "expected-delta",
      scope: { schemas: ["cutter_governance"] },
      counts: { table: 12, primary_key: 12, foreign_key: 8, unique: 4 },
      nothingElse: true,
    });
    expect(expected.tablesAdded).toHaveLength(12);
  });

  it("exit 2 for an unreadable file, an invalid policy, a wrong policy kind and bad usage", () => {
    const missing = run([join(dir, "nope.sql")]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain("nope.sql: cannot read file (ENOENT)");
    expect(missing.stderr).not.toMatch(/\n\s+at /);

    const badPolicy = join(dir, "bad-policy.json");
    writeFileSync(badPolicy, JSON.stringify({ kind: "sql-lint-policy", formatVersion: 1, forbiddenStatements: ["NUKE"] }));
    const invalid = run([REFERENCE_PATH, "--policy", badPolicy]);
    expect(invalid.status).toBe(2);
    expect(invalid.stderr).toContain(`${badPolicy}: invalid document: field forbiddenStatements[0]`);

    const wrongKind = join(dir, "wrong-kind.json");
    writeFileSync(wrongKind, JSON.stringify({ kind: "expected-delta", formatVersion: 1 }));
    expect(run([REFERENCE_PATH, "--policy", wrongKind]).status).toBe(2);

    const notJson = join(dir, "not-json.json");
    writeFileSync(notJson, "{");
    expect(run([REFERENCE_PATH, "--policy", notJson]).status).toBe(2);

    expect(run([]).status).toBe(2);
    expect(run([REFERENCE_PATH, "--format", "xml"]).status).toBe(2);
    expect(run([REFERENCE_PATH, "--no-such-option"]).status).toBe(2);
  });

  it("--on-error-stop-declared satisfies the rule for an artifact without \\set ON_ERROR_STOP", () => {
    const sql = "BEGIN;\nCREATE TABLE app.t (id int);\nCOMMIT;\n";
    const policy = join(dir, "approve.json");
    writeFileSync(policy, JSON.stringify({ kind: "sql-lint-policy", formatVersion: 1, approvedSha256: sha256(sql) }));
    expect(run(["-", "--policy", policy], sql).status).toBe(1);
    expect(run(["-", "--policy", policy, "--on-error-stop-declared"], sql).status).toBe(0);
  });
});
