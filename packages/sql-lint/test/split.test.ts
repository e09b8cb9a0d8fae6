import { describe, expect, it } from "vitest";
import { SqlSyntaxError, splitScript } from "../src/index.js";
import { REFERENCE } from "./helpers.js";

const bytesOf = (text: string) => Buffer.from(text, "utf8");

describe("splitScript", () => {
  it("splits the reference artifact into BEGIN, 12 CREATE TABLE and COMMIT at their first tokens", async () => {
    const split = await splitScript(REFERENCE);
    expect(split.statements.map((statement) => statement.tag)).toEqual(["BEGIN", ...Array(12).fill("CREATE TABLE"), "COMMIT"]);
    expect(split.statements[0]).toMatchObject({ index: 0, line: 7, column: 1, kind: "TransactionStmt", text: "BEGIN" });
    expect(split.statements[1]).toMatchObject({ line: 9, column: 1, endLine: 16, kind: "CreateStmt" });
    expect(split.statements[1]!.text.startsWith("CREATE TABLE cutter_governance.registry_namespace (")).toBe(true);
    expect(split.statements[1]!.text.endsWith(")")).toBe(true);
    expect(split.statements.at(-1)).toMatchObject({ line: 104, column: 1, text: "COMMIT" });
    expect(split.metaCommands).toEqual([
      {
        line: 5,
        column: 1,
        text: "\\set ON_ERROR_STOP on",
        command: "set",
        args: ["ON_ERROR_STOP", "on"],
        insideStatement: false,
      },
    ]);
    expect(split.onErrorStop).toBe(true);
  });

  it("text is exactly the source bytes between byteStart and byteEnd", async () => {
    const split = await splitScript(REFERENCE);
    for (const statement of split.statements) {
      expect(REFERENCE.subarray(statement.byteStart, statement.byteEnd).toString("utf8")).toBe(statement.text);
    }
  });

  it("leading comments do not shift a statement's line and column (libpg_query issue 287)", async () => {
    const sql = "-- header\n/* block\n comment */   -- more\n\n   SELECT 1;\n/* c */ SELECT 2 /* trailing */ ;";
    const split = await splitScript(sql);
    expect(split.statements.map(({ line, column, text }) => ({ line, column, text }))).toEqual([
      { line: 5, column: 4, text: "SELECT 1" },
      { line: 6, column: 9, text: "SELECT 2" },
    ]);
  });

  it("keywords in comments, string literals and dollar quotes are not statements", async () => {
    const sql = [
      "-- CREATE TABLE app.hidden1 (id int);",
      "/* CREATE TABLE app.hidden2 (id int); /* nested; */ GRANT ALL ON app.a TO x; */",
      "CREATE TABLE app.a (code text CHECK (code <> 'CREATE TABLE app.hidden3 (id int); DROP TABLE app.a;'));",
      "COMMENT ON TABLE app.a IS $body$ CREATE TABLE app.hidden4 (id int); \\echo not a meta-command $body$;",
      "COMMENT ON TABLE app.a IS $$ ; CREATE TABLE app.hidden5 () $$;",
      'CREATE TABLE app."CREATE TABLE x; --" (id int);',
      "COMMENT ON TABLE app.a IS E'it\\'s \\\\echo ; CREATE TABLE app.hidden6 ()';",
    ].join("\n");
    const split = await splitScript(sql);
    expect(split.statements.map((statement) => statement.tag)).toEqual([
      "CREATE TABLE",
      "COMMENT",
      "COMMENT",
      "CREATE TABLE",
      "COMMENT",
    ]);
    expect(split.metaCommands).toEqual([]);
    expect(split.statements[3]!.line).toBe(6);
  });

  it("records psql meta-commands, blanks them and keeps every byte offset", async () => {
    const sql = [
      "\\set ON_ERROR_STOP on",
      "\\echo 'starting: CREATE TABLE; x' \\set X 1",
      "BEGIN;",
      "SELECT 'a \\echo inside a literal'; \\echo after \\\\ SELECT 2;",
      "\\qecho done",
      "COMMIT;",
    ].join("\n");
    const split = await splitScript(sql);
    expect(split.statements.map((statement) => [statement.tag, statement.line, statement.column])).toEqual([
      ["BEGIN", 3, 1],
      ["SELECT", 4, 1],
      ["SELECT", 4, 51],
      ["COMMIT", 6, 1],
    ]);
    expect(split.metaCommands.map(({ command, args, line, column }) => ({ command, args, line, column }))).toEqual([
      { command: "set", args: ["ON_ERROR_STOP", "on"], line: 1, column: 1 },
      { command: "echo", args: ["starting: CREATE TABLE; x"], line: 2, column: 1 },
      { command: "set", args: ["X", "1"], line: 2, column: 35 },
      { command: "echo", args: ["after"], line: 4, column: 36 },
      { command: "qecho", args: ["done"], line: 5, column: 1 },
    ]);
    const bytes = bytesOf(sql);
    for (const statement of split.statements) {
      expect(bytes.subarray(statement.byteStart, statement.byteEnd).toString("utf8")).toBe(statement.text);
    }
  });

  it("a meta-command inside a statement psql is still collecting is recorded as such", async () => {
    const split = await splitScript("CREATE TABLE app.t (\n\\echo hi\n id int);");
    expect(split.statements).toHaveLength(1);
    expect(split.statements[0]!.text).toBe("CREATE TABLE app.t (\n        \n id int)");
    expect(split.metaCommands[0]).toMatchObject({ command: "echo", insideStatement: true, line: 2 });
  });

  it("a multi-byte identifier does not shift later statements (byte offsets, not string indexes)", async () => {
    const sql = "CREATE TABLE app.\"Übersicht_€_𝄞\" (id int);\nCREATE TABLE app.after_it (id int);\n  SELECT 'ü', 3;";
    const split = await splitScript(sql);
    const bytes = bytesOf(sql);
    expect(split.statements.map(({ line, column, text }) => ({ line, column, text }))).toEqual([
      { line: 1, column: 1, text: 'CREATE TABLE app."Übersicht_€_𝄞" (id int)' },
      { line: 2, column: 1, text: "CREATE TABLE app.after_it (id int)" },
      { line: 3, column: 3, text: "SELECT 'ü', 3" },
    ]);
    expect(split.statements[1]!.byteStart).toBe(bytes.indexOf("CREATE TABLE app.after_it"));
    for (const statement of split.statements) {
      expect(bytes.subarray(statement.byteStart, statement.byteEnd).toString("utf8")).toBe(statement.text);
    }
    expect(split.statements[0]!.endColumn).toBe('CREATE TABLE app."Übersicht_€_𝄞" (id int)'.length + 1);
  });

  it("the last statement without a semicolon runs to the end of the file", async () => {
    const split = await splitScript("BEGIN;\nCOMMIT\n-- trailing comment\n");
    expect(split.statements.map((statement) => statement.text)).toEqual(["BEGIN", "COMMIT"]);
    expect(split.statements[1]).toMatchObject({ line: 2, endLine: 2 });
  });

  it("an empty or comment-only script has no statements", async () => {
    expect((await splitScript("")).statements).toEqual([]);
    expect((await splitScript("-- nothing\n/* here */\n")).statements).toEqual([]);
  });

  it("a syntax error is a SqlSyntaxError with the line and column of the original file", async () => {
    const sql = "\\set ON_ERROR_STOP on\nSELECT 'Ü';\nCREATE TABLE app.\"Ä\" (id int,);\n";
    const error = await splitScript(sql).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SqlSyntaxError);
    expect(error).toMatchObject({ line: 3, column: 30, message: 'syntax error at or near ")"' });
  });

  it("ON_ERROR_STOP must be on before the first statement and stay on", async () => {
    const on = async (prefix: string, suffix = "") => (await splitScript(`${prefix}\nSELECT 1;\n${suffix}SELECT 2;`)).onErrorStop;
    expect(await on("\\set ON_ERROR_STOP on")).toBe(true);
    expect(await on("\\set ON_ERROR_STOP 1")).toBe(true);
    expect(await on("\\set ON_ERROR_STOP true")).toBe(true);
    expect(await on("\\set ON_ERROR_STOP")).toBe(true);
    expect(await on("\\set ON_ERROR_STOP 'on'")).toBe(true);
    expect(await on("")).toBe(false);
    expect(await on("\\set ON_ERROR_STOP off")).toBe(false);
    expect(await on("\\set on_error_stop on")).toBe(false);
    expect(await on("\\set ON_ERROR_STOP o")).toBe(false);
    expect(await on("\\set ON_ERROR_STOP on", "\\set ON_ERROR_STOP off\n")).toBe(false);
    expect(await on("\\set ON_ERROR_STOP on", "\\unset ON_ERROR_STOP\n")).toBe(false);
    expect((await splitScript("SELECT 1;\n\\set ON_ERROR_STOP on\nSELECT 2;")).onErrorStop).toBe(false);
  });

  it("\\g and \\gexec send the query buffer, so they end a statement as `;` does", async () => {
    const split = await splitScript("SELECT 1 \\g\nSELECT 2 \\gexec\nSELECT 3;");
    expect(split.statements.map((statement) => statement.text)).toEqual(["SELECT 1", "SELECT 2", "SELECT 3"]);
    expect(split.metaCommands.map((meta) => meta.command)).toEqual(["g", "gexec"]);
  });

  it("psql's \\; escape keeps the semicolon for the server", async () => {
    const split = await splitScript("SELECT 1 \\; SELECT 2;");
    expect(split.statements.map((statement) => statement.text)).toEqual(["SELECT 1", "SELECT 2"]);
    expect(split.metaCommands).toEqual([]);
  });
});
