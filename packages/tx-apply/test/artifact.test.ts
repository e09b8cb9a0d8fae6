/** The artifact's shape and the options: refused before any connection (the URL points nowhere). */
import { InputError } from "@dieu44/plumbing/exit";
import { describe, expect, it } from "vitest";
import { apply, planArtifact } from "../src/index.js";
import { FIXTURE_EXPECTATION, REFERENCE_SQL, sha256 } from "./helpers.js";

// Nothing listens here: a refusal that tried to connect would throw instead of returning a log.
const NOWHERE = "postgres://workflow_admin@127.0.0.1:1/none";

async function applyText(sql: string, options: Record<string, unknown> = {}) {
  const bytes = Buffer.from(sql);
  return apply(
    { url: NOWHERE, env: {} },
    { path: "a.sql", bytes },
    { role: "workflow_admin", expectSystemIdentifier: "1", sha256: sha256(bytes), ...options },
  );
}

describe("artifact shape", () => {
  const refused: [string, string, RegExp][] = [
    [
      "another meta-command",
      "\\set ON_ERROR_STOP on\n\\i other.sql\nBEGIN;\nSELECT 1;\nCOMMIT;\n",
      /line 2: psql meta-command \\i other\.sql/,
    ],
    ["ON_ERROR_STOP turned off", "\\set ON_ERROR_STOP off\nBEGIN;\nSELECT 1;\nCOMMIT;\n", /ON_ERROR_STOP off/],
    ["no BEGIN", "CREATE TABLE t (id int);\nCOMMIT;\n", /first statement must be BEGIN/],
    ["no COMMIT", "BEGIN;\nCREATE TABLE t (id int);\n", /last statement must be a plain COMMIT/],
    ["ROLLBACK at the end", "BEGIN;\nCREATE TABLE t (id int);\nROLLBACK;\n", /last statement must be a plain COMMIT/],
    ["COMMIT AND CHAIN", "BEGIN;\nCREATE TABLE t (id int);\nCOMMIT AND CHAIN;\n", /plain COMMIT/],
    ["a second transaction", "BEGIN;\nSELECT 1;\nCOMMIT;\nBEGIN;\nSELECT 2;\nCOMMIT;\n", /line 3: COMMIT inside the transaction/],
    ["a savepoint", "BEGIN;\nSAVEPOINT s;\nSELECT 1;\nCOMMIT;\n", /line 2: SAVEPOINT inside the transaction/],
    ["SET ROLE", "BEGIN;\nSET ROLE workflow_admin;\nSELECT 1;\nCOMMIT;\n", /line 2: .* switches roles/],
    ["SET SESSION AUTHORIZATION", "BEGIN;\nSET SESSION AUTHORIZATION directus;\nCOMMIT;\n", /switches roles/],
    ["a quoted role setting", 'BEGIN;\nSET "role" TO postgres;\nCOMMIT;\n', /line 2: .* switches roles/],
    ["SET LOCAL ROLE", "BEGIN;\nSET LOCAL ROLE directus;\nCOMMIT;\n", /switches roles/],
    ["END AND CHAIN", "BEGIN;\nSELECT 1;\nEND AND CHAIN;\n", /plain COMMIT/],
    ["a syntax error", "BEGIN;\nCREATE TABLE t (id int;\nCOMMIT;\n", /does not parse: .* at line 2/],
    ["an empty file", "", /found 0 statement/],
  ];
  for (const [name, sql, problem] of refused) {
    it(`refuses ${name}: not_started, nothing sent`, async () => {
      const log = await applyText(sql);
      expect(log.outcome).toBe("not_started");
      expect(log.guards.at(-1)).toMatchObject({ name: "artifact", passed: false });
      expect(log.guards.at(-1)?.actual).toMatch(problem);
      expect(log.backendPid).toBeNull();
      expect(log.toolStatements).toEqual([]);
    });
  }

  it("splits the reference artifact at the parser's boundaries: BEGIN, 12 CREATE TABLE, COMMIT", async () => {
    const plan = await planArtifact(Buffer.from(REFERENCE_SQL));
    expect(plan.problems).toEqual([]);
    expect(plan.onErrorStop).toBe(true);
    expect(plan.metaCommands).toEqual([{ line: 5, text: "\\set ON_ERROR_STOP on" }]);
    expect(plan.statements.map((statement) => statement.tag)).toEqual(["BEGIN", ...Array(12).fill("CREATE TABLE"), "COMMIT"]);
    expect(plan.statements[1]).toMatchObject({ index: 1, line: 9, endLine: 16 });
    // The text sent is the artifact's own source, byte for byte.
    for (const statement of plan.statements) expect(REFERENCE_SQL).toContain(statement.text);
  });

  it("accepts START TRANSACTION ... END, no ON_ERROR_STOP line, and multi-byte names exactly", async () => {
    const sql =
      '-- Übersicht\nSTART TRANSACTION;\nCREATE TABLE "Übersicht" ("größe" text DEFAULT \'a;b\');\nCREATE TABLE t2 (x int);\nEND;\n';
    const plan = await planArtifact(Buffer.from(sql));
    expect(plan.problems).toEqual([]);
    expect(plan.onErrorStop).toBe(false);
    expect(plan.statements.map((statement) => statement.text)).toEqual([
      "START TRANSACTION",
      'CREATE TABLE "Übersicht" ("größe" text DEFAULT \'a;b\')',
      "CREATE TABLE t2 (x int)",
      "END",
    ]);
  });
});

describe("options", () => {
  const bad: [string, Record<string, unknown>][] = [
    ["no role", { role: "" }],
    ["a sha256 that is not hex", { sha256: "abc" }],
    ["a system identifier that is not digits", { expectSystemIdentifier: "prod" }],
    ["a lock timeout that is not a duration", { lockTimeout: "soon" }],
    ["a zero statement timeout", { statementTimeout: "0" }],
    ["a statement timeout beyond PostgreSQL's range", { statementTimeout: "30d" }],
    ["a timeout in microseconds", { lockTimeout: "500us" }],
    ["a fingerprint without schemas", { expectFingerprint: "ab" }],
    ["an advisory lock key out of range", { advisoryLockKey: "9223372036854775808" }],
    ["an invalid expectation", { verifyBeforeCommit: { ...FIXTURE_EXPECTATION, counts: { table: -1 } } }],
  ];
  for (const [name, options] of bad) {
    it(`throws InputError for ${name}`, async () => {
      await expect(applyText("BEGIN;\nCOMMIT;\n", options)).rejects.toBeInstanceOf(InputError);
    });
  }

  it("throws InputError for an unreadable artifact", async () => {
    await expect(
      apply(
        { url: NOWHERE, env: {} },
        { path: "/nonexistent/a.sql" },
        { role: "r", expectSystemIdentifier: "1", sha256: "a".repeat(64) },
      ),
    ).rejects.toThrow(/cannot read the artifact/);
  });
});
