import { describe, expect, it } from "vitest";
import { LintReportSchema, lint, toExpectedDelta } from "../src/index.js";
import { artifact, BASE, FIXTURE_POLICY, lintApproved, REFERENCE, REFERENCE_PATH, ruleIds, sha256 } from "./helpers.js";

describe("the reference artifact with the fixture policy", () => {
  it("passes, with 12 CREATE TABLE, 12 PK, 8 FK, 4 UNIQUE, 0 CHECK, 0 DEFAULT, 0 CREATE SCHEMA", async () => {
    const report = await lint(REFERENCE, FIXTURE_POLICY, { path: REFERENCE_PATH });
    expect(report.findings).toEqual([]);
    expect(report.pass).toBe(true);
    expect(() => LintReportSchema.parse(report)).not.toThrow();
    expect(report.artifact).toEqual({ path: REFERENCE_PATH, bytes: REFERENCE.length, sha256: sha256(REFERENCE) });
    const facts = report.facts;
    expect(facts.createTable).toBe(12);
    expect(facts.createSchema).toBe(0);
    expect(facts.statementCounts).toEqual({ BEGIN: 1, "CREATE TABLE": 12, COMMIT: 1 });
    expect(facts.transaction).toEqual({ wrapped: true, firstIsBegin: true, lastIsCommit: true, outside: [], extraControl: [] });
    expect(facts.onErrorStop).toEqual({ inFile: true, declared: false });
    expect(facts.tablesCreated).toHaveLength(12);
    expect(facts.tablesCreated[0]).toBe("cutter_governance.registry_namespace");
    expect(facts.statements[1]).toMatchObject({
      tag: "CREATE TABLE",
      target: "cutter_governance.registry_namespace",
      line: 9,
      column: 1,
    });
    const counts = facts.derivedDelta.counts;
    expect({
      pk: counts.primary_key,
      fk: counts.foreign_key,
      unique: counts.unique,
      check: counts.check,
      default: counts.default,
    }).toEqual({
      pk: 12,
      fk: 8,
      unique: 4,
      check: 0,
      default: 0,
    });
    expect(counts.index).toBe(0);
    expect(counts.sequence).toBe(0);
    expect(facts.derivedDelta.notDerived).toEqual([]);
    expect(facts.derivedDelta.changes).toEqual([]);
    expect(facts.derivedDelta.schemas).toEqual(["cutter_governance"]);
  });

  it("one byte changed fails on the sha256 rule, and only on it", async () => {
    const tampered = Buffer.from(REFERENCE);
    const at = tampered.indexOf("Do not edit");
    tampered[at] = "d".charCodeAt(0);
    const report = await lint(tampered, FIXTURE_POLICY);
    expect(report.pass).toBe(false);
    expect(report.findings.map((finding) => finding.ruleId)).toEqual(["approved-sha256"]);
    expect(report.findings[0]!.message).toContain(sha256(tampered));
  });

  it("emits the expected delta drift-diff checks", async () => {
    const report = await lint(REFERENCE, FIXTURE_POLICY, { path: "ddl.sql" });
    const expected = toExpectedDelta(report);
    expect(expected).toMatchObject({
      kind: "expected-delta",
      formatVersion: 1,
      scope: { schemas: ["cutter_governance"] },
      counts: { table: 12, primary_key: 12, foreign_key: 8, unique: 4 },
      nothingElse: true,
    });
    expect(expected.tablesAdded).toEqual([...FIXTURE_POLICY.tables!].sort());
    for (const kind of [
      "check",
      "trigger",
      "default",
      "enum",
      "index",
      "sequence",
      "function",
      "privilege",
      "ownership",
      "schema",
    ]) {
      expect(expected.mustNotChange).toContain(kind);
    }
    expect(expected.mustNotChange).not.toContain("table");
    expect(expected.mustNotChange).not.toContain("column");
    expect(toExpectedDelta(report, { scopeSchemas: ["a", "b"] }).scope.schemas).toEqual(["a", "b"]);
  });
});

describe("rule approved-sha256", () => {
  it("passes when the sha256 matches and fails when the policy names none or another", async () => {
    expect((await lintApproved(BASE)).findings).toEqual([]);
    const none = await lint(BASE, { kind: "sql-lint-policy", formatVersion: 1 });
    expect(ruleIds(none)).toEqual(["approved-sha256"]);
    const other = await lint(BASE, { kind: "sql-lint-policy", formatVersion: 1, approvedSha256: sha256("x") });
    expect(ruleIds(other)).toEqual(["approved-sha256"]);
  });
});

describe("rule allowed-schema", () => {
  const policy = { allowedSchemas: ["app"] };
  it("passes for objects in the allowed schema", async () => {
    expect((await lintApproved(BASE, policy)).findings).toEqual([]);
  });
  it("fails for a table, a constraint or a change in another schema", async () => {
    const report = await lintApproved(
      artifact("CREATE TABLE other.c (id bigint PRIMARY KEY);", "ALTER TABLE other.d ADD CONSTRAINT d_u UNIQUE (id);"),
      policy,
    );
    expect(ruleIds(report)).toEqual(["allowed-schema"]);
    expect(report.findings.map((finding) => [finding.statementIndex, finding.line])).toEqual([
      [1, 3],
      [2, 4],
    ]);
    expect(report.findings[0]!.message).toContain('"other"');
  });
});

describe("rule allowed-tables", () => {
  const policy = { tables: ["app.a", "app.b"] };
  it("passes when exactly the allowed tables are created", async () => {
    expect((await lintApproved(BASE, policy)).findings).toEqual([]);
  });
  it("fails for an extra table, a missing table and a change to another table", async () => {
    const report = await lintApproved(
      artifact(
        "CREATE TABLE app.a (id bigint PRIMARY KEY);",
        "CREATE TABLE app.c (id bigint PRIMARY KEY);",
        "ALTER TABLE app.existing ADD CONSTRAINT e_fk FOREIGN KEY (a_id) REFERENCES app.a (id);",
      ),
      policy,
    );
    expect(ruleIds(report)).toEqual(["allowed-tables"]);
    const messages = report.findings.map((finding) => finding.message);
    expect(messages).toEqual(
      expect.arrayContaining([
        expect.stringContaining("table app.c is not one of"),
        expect.stringContaining("allowed table app.b is not created"),
        expect.stringContaining("foreign_key on table app.existing"),
      ]),
    );
  });
});

describe("rule statement-counts", () => {
  const policy = { statementCounts: { BEGIN: 1, "CREATE TABLE": 2, COMMIT: 1 }, onlyCountedStatements: true };
  it("passes with exactly the counted statements", async () => {
    expect((await lintApproved(BASE, policy)).findings).toEqual([]);
  });
  it("fails on a third CREATE TABLE (pointing at it) and on an uncounted statement", async () => {
    const report = await lintApproved(
      artifact(
        "CREATE TABLE app.a (id bigint PRIMARY KEY);",
        "CREATE TABLE app.b (id bigint PRIMARY KEY);",
        "CREATE TABLE app.c (id bigint PRIMARY KEY);",
        "COMMENT ON TABLE app.a IS 'registry';",
      ),
      policy,
    );
    expect(ruleIds(report)).toEqual(["statement-counts"]);
    expect(report.findings.map((finding) => [finding.message, finding.statementIndex])).toEqual([
      ["3 CREATE TABLE statements, the policy requires exactly 2", 3],
      ["COMMENT is not among the statements the policy allows (BEGIN, CREATE TABLE, COMMIT)", 4],
    ]);
  });
});

describe("rule object-counts", () => {
  const policy = { objectCounts: { table: 2, primary_key: 2, foreign_key: 1, unique: 1, default: 0, sequence: 0, check: 0 } };
  it("passes when the derived objects match", async () => {
    expect((await lintApproved(BASE, policy)).findings).toEqual([]);
  });
  it("a serial column fails naming the DEFAULT and the sequence it implies", async () => {
    const sql = BASE.replace("CREATE TABLE app.b (id bigint PRIMARY KEY", "CREATE TABLE app.b (id bigserial PRIMARY KEY");
    const report = await lintApproved(sql, policy);
    expect(ruleIds(report)).toEqual(["object-counts"]);
    expect(report.findings.map((finding) => finding.message)).toEqual([
      "the artifact adds 1 default object, the policy requires exactly 0 (the 1st: default id on app.b (serial: DEFAULT nextval of its sequence))",
      "the artifact adds 1 sequence object, the policy requires exactly 0 (the 1st: sequence app.b_id_seq on app.b (serial: owned by app.b.id))",
    ]);
    expect(report.findings[0]).toMatchObject({ line: 4, statementIndex: 2 });
  });
  it("counts ALTER TABLE ... ADD CONSTRAINT FOREIGN KEY and table-level constraints", async () => {
    const sql = artifact(
      "CREATE TABLE app.a (id bigint, code text, CONSTRAINT a_pk PRIMARY KEY (id), CONSTRAINT a_code UNIQUE (code));",
      "CREATE TABLE app.b (id bigint PRIMARY KEY, a_id bigint NOT NULL);",
      "ALTER TABLE app.b ADD CONSTRAINT b_a_fk FOREIGN KEY (a_id) REFERENCES app.a (id);",
    );
    expect((await lintApproved(sql, policy)).findings).toEqual([]);
    const report = await lintApproved(sql, { objectCounts: { foreign_key: 0 } });
    expect(report.findings.map((finding) => [finding.ruleId, finding.statementIndex, finding.line])).toEqual([
      ["object-counts", 3, 5],
    ]);
    expect(report.findings[0]!.message).toContain("foreign_key b_a_fk on app.b (references app.a)");
  });
});

describe("rule forbidden-statement", () => {
  const cases: Array<[string, string]> = [
    ["GRANT SELECT ON app.a TO directus;", "GRANT"],
    ["REVOKE SELECT ON app.a FROM directus;", "REVOKE"],
    ["ALTER TABLE app.a OWNER TO directus;", "ALTER_OWNER"],
    ["ALTER SCHEMA app OWNER TO directus;", "ALTER_SCHEMA"],
    ["ALTER SCHEMA app RENAME TO app2;", "ALTER_SCHEMA"],
    ["SET ROLE workflow_admin;", "SET_ROLE"],
    ["SET LOCAL ROLE workflow_admin;", "SET_ROLE"],
    ["SET SESSION AUTHORIZATION workflow_admin;", "SET_SESSION_AUTHORIZATION"],
    ["INSERT INTO app.a (id, code) VALUES (1, 'x');", "DML"],
    ["UPDATE app.a SET code = 'y';", "DML"],
    ["DELETE FROM app.a;", "DML"],
    ["CREATE INDEX a_code_idx ON app.a (code);", "CREATE_INDEX"],
    ["DROP TABLE app.a;", "DROP"],
    ["ALTER TABLE app.a DROP COLUMN code;", "DROP"],
    ["TRUNCATE app.a;", "TRUNCATE"],
    ["CREATE TRIGGER a_t BEFORE INSERT ON app.a FOR EACH ROW EXECUTE FUNCTION app.f();", "CREATE_TRIGGER"],
    ["CREATE TYPE app.mood AS ENUM ('a', 'b');", "CREATE_TYPE"],
    ["CREATE FUNCTION app.f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;", "CREATE_FUNCTION"],
    ["DO $$ BEGIN EXECUTE 'GRANT ALL ON app.a TO directus'; END $$;", "DO"],
    ["COPY app.a FROM STDIN;", "COPY"],
    ["CREATE SCHEMA app2;", "CREATE_SCHEMA"],
    ["SELECT set_config('role', 'directus', false);", "SELECT"],
    ["CALL app.p();", "CALL"],
  ];
  it.each(cases)("%s is forbidden (%s)", async (statement, forbiddenClass) => {
    const report = await lintApproved(artifact(statement));
    const forbidden = report.findings.filter((finding) => finding.ruleId === "forbidden-statement");
    expect(forbidden).toHaveLength(1);
    expect(forbidden[0]!.message).toContain(forbiddenClass);
    expect(forbidden[0]).toMatchObject({ statementIndex: 1, line: 3, column: 1 });
  });
  it("passes for CREATE TABLE, and a class the policy does not forbid passes", async () => {
    expect((await lintApproved(BASE)).findings).toEqual([]);
    const report = await lintApproved(artifact("CREATE INDEX a_code_idx ON app.a (code);"), { forbiddenStatements: ["DROP"] });
    expect(report.findings).toEqual([]);
  });
});

describe("rule transaction-boundary", () => {
  it("passes for BEGIN ... COMMIT", async () => {
    expect((await lintApproved(BASE)).findings).toEqual([]);
  });
  it("statements after COMMIT run outside the transaction", async () => {
    const sql = `${BASE}CREATE TABLE app.c (id bigint PRIMARY KEY);\n`;
    const report = await lintApproved(sql);
    expect(ruleIds(report)).toEqual(["transaction-boundary"]);
    expect(report.facts.transaction).toMatchObject({ wrapped: false, lastIsCommit: false, outside: [4], extraControl: [3] });
    expect(report.findings.map((finding) => [finding.statementIndex, finding.line, finding.message])).toEqual([
      [
        3,
        5,
        "COMMIT inside the artifact; only the opening BEGIN and the final COMMIT are allowed: statements after it do not run in the artifact's single transaction",
      ],
      [4, 6, "the last statement is CREATE TABLE, not COMMIT"],
      [4, 6, "CREATE TABLE runs outside the BEGIN...COMMIT transaction (autocommitted on its own)"],
    ]);
  });
  it("fails without BEGIN, without COMMIT, with SAVEPOINT, ROLLBACK or COMMIT AND CHAIN", async () => {
    const noBegin = await lintApproved("\\set ON_ERROR_STOP on\nCREATE TABLE app.a (id bigint PRIMARY KEY);\nCOMMIT;\n");
    expect(noBegin.findings.map((finding) => finding.message)).toEqual([
      "the first statement is CREATE TABLE, not BEGIN",
      "CREATE TABLE runs outside the BEGIN...COMMIT transaction (autocommitted on its own)",
      "COMMIT inside the artifact; only the opening BEGIN and the final COMMIT are allowed",
    ]);
    const noCommit = await lintApproved("\\set ON_ERROR_STOP on\nBEGIN;\nCREATE TABLE app.a (id bigint PRIMARY KEY);\n");
    expect(noCommit.findings.map((finding) => finding.message)).toEqual(["the last statement is CREATE TABLE, not COMMIT"]);
    for (const inner of ["SAVEPOINT s1;", "ROLLBACK TO SAVEPOINT s1;", "RELEASE SAVEPOINT s1;", "BEGIN;"]) {
      const report = await lintApproved(artifact(inner, "CREATE TABLE app.a (id bigint PRIMARY KEY);"));
      expect(ruleIds(report)).toEqual(["transaction-boundary"]);
      expect(report.facts.transaction.extraControl).toEqual([1]);
    }
    const rollback = await lintApproved(
      "BEGIN;\nCREATE TABLE app.a (id bigint PRIMARY KEY);\nROLLBACK;\n",
      {},
      { onErrorStopDeclared: true },
    );
    expect(ruleIds(rollback)).toEqual(["transaction-boundary"]);
    const chain = await lintApproved(
      "BEGIN;\nCREATE TABLE app.a (id bigint PRIMARY KEY);\nCOMMIT AND CHAIN;\n",
      {},
      { onErrorStopDeclared: true },
    );
    expect(chain.facts.transaction.lastIsCommit).toBe(false);
    expect(ruleIds(chain)).toEqual(["transaction-boundary"]);
  });
});

describe("rule on-error-stop", () => {
  const withoutIt = BASE.replace("\\set ON_ERROR_STOP on\n", "");
  it("passes when set in the file or declared by the invocation", async () => {
    expect((await lintApproved(BASE)).findings).toEqual([]);
    expect((await lintApproved(withoutIt, {}, { onErrorStopDeclared: true })).findings).toEqual([]);
  });
  it("fails when missing, turned off, or declared but the policy wants it in the file", async () => {
    const missing = await lintApproved(withoutIt);
    expect(ruleIds(missing)).toEqual(["on-error-stop"]);
    const off = await lintApproved(BASE.replace("COMMIT;", "\\set ON_ERROR_STOP off\nCOMMIT;"));
    expect(ruleIds(off)).toEqual(["on-error-stop"]);
    const strict = await lintApproved(withoutIt, { acceptDeclaredOnErrorStop: false }, { onErrorStopDeclared: true });
    expect(ruleIds(strict)).toEqual(["on-error-stop"]);
  });
});

describe("rule unqualified-name", () => {
  it("passes for schema-qualified names, and CTE names are not relations", async () => {
    expect((await lintApproved(BASE)).findings).toEqual([]);
    const cte = await lintApproved(artifact("CREATE VIEW app.v AS WITH recent AS (SELECT id FROM app.a) SELECT id FROM recent;"));
    expect(ruleIds(cte)).toEqual([]);
  });
  it("fails at the unqualified table and at an unqualified reference, at their own positions", async () => {
    const sql = artifact(
      "CREATE TABLE a (id bigint PRIMARY KEY);",
      "CREATE TABLE app.b (id bigint PRIMARY KEY, a_id bigint REFERENCES a (id));",
    );
    const report = await lintApproved(sql);
    expect(ruleIds(report)).toEqual(["unqualified-name"]);
    expect(report.findings.map(({ line, column, message }) => ({ line, column, message }))).toEqual([
      { line: 3, column: 14, message: 'relation "a" is not schema-qualified: what it means depends on search_path' },
      { line: 4, column: 67, message: 'relation "a" is not schema-qualified: what it means depends on search_path' },
    ]);
  });
  it("positions stay right after a multi-byte identifier", async () => {
    const sql = artifact('CREATE TABLE app."Übersicht_€" (id bigint PRIMARY KEY);  CREATE TABLE x (id int);');
    const report = await lintApproved(sql);
    // 71 counts characters; had the parser's location been taken as characters instead of bytes, this would be 68.
    expect(report.findings.map(({ line, column }) => [line, column])).toEqual([[3, 71]]);
  });
  it("flags unqualified functions, types and dropped objects", async () => {
    const sql = artifact("CREATE TYPE mood AS ENUM ('a');", "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;");
    const report = await lintApproved(sql, { forbiddenStatements: [] });
    expect(report.findings.map((finding) => finding.message)).toEqual([
      'type "mood" is not schema-qualified: what it means depends on search_path',
      'function "f" is not schema-qualified: what it means depends on search_path',
    ]);
  });
});

describe("rule if-not-exists", () => {
  it("passes without IF NOT EXISTS", async () => {
    expect((await lintApproved(BASE)).findings).toEqual([]);
  });
  it("fails on CREATE TABLE IF NOT EXISTS and ADD COLUMN IF NOT EXISTS", async () => {
    const report = await lintApproved(
      artifact(
        "CREATE TABLE IF NOT EXISTS app.a (id bigint PRIMARY KEY);",
        "ALTER TABLE app.a ADD COLUMN IF NOT EXISTS note text;",
      ),
    );
    expect(ruleIds(report)).toEqual(["if-not-exists"]);
    expect(report.findings.map((finding) => finding.statementIndex)).toEqual([1, 2]);
  });
});

describe("rule or-replace", () => {
  it("passes for CREATE VIEW and fails for CREATE OR REPLACE VIEW", async () => {
    expect((await lintApproved(artifact("CREATE VIEW app.v AS SELECT 1 AS one;"))).findings).toEqual([]);
    const report = await lintApproved(artifact("CREATE OR REPLACE VIEW app.v AS SELECT 1 AS one;"));
    expect(ruleIds(report)).toEqual(["or-replace"]);
  });
});

describe("rule meta-command", () => {
  it("passes for the allowed meta-commands", async () => {
    expect((await lintApproved(BASE.replace("BEGIN;", "\\echo applying\nBEGIN;"))).findings).toEqual([]);
  });
  it("fails on \\i, \\c and \\gexec, at their positions", async () => {
    const sql = BASE.replace("BEGIN;", "\\i other.sql\n\\c cutter_prod directus\nBEGIN;").replace(
      "COMMIT;",
      "SELECT 1 \\gexec\nCOMMIT;",
    );
    const report = await lintApproved(sql, { forbiddenStatements: [] });
    expect(ruleIds(report)).toEqual(["meta-command"]);
    expect(report.findings.map(({ line, column, message }) => [line, column, message.split(" is ")[0]])).toEqual([
      [2, 1, "psql meta-command \\i"],
      [3, 1, "psql meta-command \\c"],
      [7, 10, "psql meta-command \\gexec"],
    ]);
  });
});

describe("severities", () => {
  it("a rule switched to warning keeps the finding but passes; off drops it", async () => {
    const sql = artifact("CREATE TABLE a (id bigint PRIMARY KEY);");
    const warning = await lintApproved(sql, { rules: { "unqualified-name": "warning" } });
    expect(warning.pass).toBe(true);
    expect(warning.summary).toEqual({ errors: 0, warnings: 1 });
    const off = await lintApproved(sql, { rules: { "unqualified-name": "off" } });
    expect(off.findings).toEqual([]);
  });
  it("an invalid policy is refused, naming the field", async () => {
    await expect(lint(BASE, { kind: "sql-lint-policy", formatVersion: 1, approvedSha256: "XYZ" })).rejects.toThrow(
      /approvedSha256/,
    );
    await expect(
      lint(BASE, { kind: "sql-lint-policy", formatVersion: 1, rules: { "no-such-rule": "off" } } as never),
    ).rejects.toThrow(/rules/);
  });
});

describe("syntax errors", () => {
  it("are an error finding with the position in the original file, and the report still names the artifact", async () => {
    const sql = "\\set ON_ERROR_STOP on\nBEGIN;\nCREATE TABLE app.a (id bigint PRIMARY KEY,);\nCOMMIT;\n";
    const report = await lintApproved(sql);
    expect(report.pass).toBe(false);
    expect(report.findings).toEqual([
      { ruleId: "syntax", severity: "error", message: 'syntax error at or near ")"', line: 3, column: 43, statementIndex: null },
    ]);
    expect(report.facts.parsed).toBe(false);
    expect(report.artifact.sha256).toBe(sha256(sql));
    expect(() => toExpectedDelta(report)).toThrow(/does not parse/);
  });
  it("invalid UTF-8 is reported at its line", async () => {
    const bytes = Buffer.concat([Buffer.from("BEGIN;\nSELECT '"), Buffer.from([0xff]), Buffer.from("';\n")]);
    const report = await lint(bytes, { kind: "sql-lint-policy", formatVersion: 1, approvedSha256: sha256(bytes) });
    expect(report.findings).toEqual([
      { ruleId: "syntax", severity: "error", message: "the file is not valid UTF-8", line: 2, column: 9, statementIndex: null },
    ]);
  });
  it("a NUL byte is refused at its line, so nothing after it goes unchecked (the parser would stop there)", async () => {
    const sql = "BEGIN;\nCREATE TABLE t (id int);\0\nDROP TABLE production;\nCOMMIT;\n";
    const report = await lint(Buffer.from(sql), { kind: "sql-lint-policy", formatVersion: 1, approvedSha256: sha256(sql) });
    expect(report.pass).toBe(false);
    expect(report.facts.parsed).toBe(false);
    expect(report.findings).toEqual([
      {
        ruleId: "syntax",
        severity: "error",
        message: "the file contains a NUL byte (0x00), which no SQL text may hold",
        line: 2,
        column: 25,
        statementIndex: null,
      },
    ]);
  });
});

describe("derived delta", () => {
  it("covers serial, identity, defaults, checks, indexes, triggers, enums, grants and ownership", async () => {
    const sql = artifact(
      "CREATE TABLE app.t (id serial PRIMARY KEY, n int GENERATED ALWAYS AS IDENTITY, s text DEFAULT 'x' CHECK (s <> ''), g int GENERATED ALWAYS AS (n * 2) STORED, EXCLUDE USING gist (n WITH =));",
      "CREATE UNIQUE INDEX t_s_idx ON app.t (s);",
      "CREATE TRIGGER t_trg BEFORE INSERT ON app.t FOR EACH ROW EXECUTE FUNCTION app.f();",
      "CREATE TYPE app.mood AS ENUM ('a', 'b');",
      "CREATE SEQUENCE app.seq;",
      "ALTER TABLE app.t ADD COLUMN extra bigserial, ALTER COLUMN s SET DEFAULT 'y', OWNER TO directus;",
      "GRANT SELECT ON app.t TO directus, workflow_admin;",
      "INSERT INTO app.t (s) VALUES ('a');",
      "DO $$ BEGIN END $$;",
    );
    const report = await lintApproved(sql, { forbiddenStatements: [] });
    const delta = report.facts.derivedDelta;
    expect(delta.counts).toMatchObject({
      table: 1,
      column: 1,
      primary_key: 1,
      identity: 1,
      default: 4,
      check: 1,
      exclusion: 1,
      index: 1,
      trigger: 1,
      enum: 1,
      sequence: 4,
      unique: 0,
    });
    expect(delta.objects.filter((object) => object.implicit).map((object) => `${object.kind} ${object.name}`)).toEqual([
      "default id",
      "sequence app.t_id_seq",
      "sequence app.t_n_seq",
      "default extra",
      "sequence app.t_extra_seq",
    ]);
    expect(delta.changes.map((change) => [change.kind, change.description])).toEqual([
      ["ownership", "OWNER TO"],
      ["privilege", "GRANT on TABLE"],
    ]);
    expect(delta.dml).toBe(1);
    expect(delta.notDerived).toEqual([
      { statementIndex: 9, reason: "a DO block runs code whose catalog effect cannot be derived" },
    ]);
    const expected = toExpectedDelta(report);
    expect(expected.counts).toMatchObject({ default: 4, sequence: 4, identity: 1 });
    expect(expected.mustNotChange).not.toContain("ownership");
    expect(expected.mustNotChange).not.toContain("privilege");
    expect(expected.mustNotChange).toContain("view");
  });
  it("CREATE SCHEMA elements land in the new schema", async () => {
    const report = await lintApproved(artifact("CREATE SCHEMA reg CREATE TABLE t (id bigint PRIMARY KEY);"));
    expect(report.facts.createSchema).toBe(1);
    expect(report.facts.tablesCreated).toEqual(["reg.t"]);
    expect(report.facts.derivedDelta.counts).toMatchObject({ schema: 1, table: 1, primary_key: 1 });
    expect(ruleIds(report)).toEqual(["forbidden-statement"]);
  });
  it("temporary tables are not part of the catalog afterwards", async () => {
    const report = await lintApproved(artifact("CREATE TEMPORARY TABLE scratch (id int);"));
    expect(report.facts.tablesCreated).toEqual([]);
    expect(ruleIds(report)).toEqual([]);
  });
});
