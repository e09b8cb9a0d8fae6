import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { CatalogDiffSchema, ExpectationResultSchema } from "../src/schema.js";
import { column, governanceLaw, snapshot, wsq5Tables } from "./documents.js";

const BIN = fileURLToPath(new URL("../bin/drift-diff.js", import.meta.url));
const EXPECT = fileURLToPath(new URL("./fixtures/ws-q5.expected-delta.json", import.meta.url));

function run(args: string[], input?: string) {
  const result = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", input });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

let dir: string;
const file = (name: string) => join(dir, name);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "drift-diff-cli-"));
  const before = snapshot({ tables: [governanceLaw()] });
  const tables = wsq5Tables();
  const withDefault = wsq5Tables();
  withDefault[2]!.columns[1] = column(2, "label", "text", { default: "'x'::text" });
  writeFileSync(file("before.json"), JSON.stringify(before));
  writeFileSync(file("after.json"), JSON.stringify(snapshot({ tables: [governanceLaw(), ...tables] })));
  writeFileSync(file("after-default.json"), JSON.stringify(snapshot({ tables: [governanceLaw(), ...withDefault] })));
  writeFileSync(file("other-cluster.json"), JSON.stringify(snapshot({ systemIdentifier: "1", tables: [governanceLaw()] })));
  writeFileSync(file("bad-version.json"), JSON.stringify({ ...before, formatVersion: 7 }));
  writeFileSync(file("wrong-kind.json"), JSON.stringify({ ...before, kind: "expected-delta" }));
  writeFileSync(file("bad-field.json"), JSON.stringify({ ...before, tables: [{ ...before.tables[0], owner: 3 }] }));
  writeFileSync(file("not-json.json"), "{ nope");
});

describe("drift-diff CLI", () => {
  it("exits 0 with no changes for the same snapshot, reading one side from stdin", () => {
    const result = run(["-", file("before.json")], JSON.stringify(snapshot({ tables: [governanceLaw()] })));
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(CatalogDiffSchema.parse(JSON.parse(result.stdout)).identical).toBe(true);
  });

  it("exits 1 with the diff document when there are changes", () => {
    const result = run([file("before.json"), file("after.json")]);
    expect(result.status).toBe(1);
    const document = CatalogDiffSchema.parse(JSON.parse(result.stdout));
    expect(document.summary.byKind.table).toEqual({ added: 12, removed: 0, changed: 0 });
  });

  it("checks an expectation: 0 when met, 1 naming the violation", () => {
    const pass = run([file("before.json"), file("after.json"), "--expect", EXPECT]);
    expect(pass.status).toBe(0);
    expect(ExpectationResultSchema.parse(JSON.parse(pass.stdout)).pass).toBe(true);
    const fail = run([file("before.json"), file("after-default.json"), "--expect", EXPECT, "--format", "text"]);
    expect(fail.status).toBe(1);
    expect(fail.stdout).toContain("[must-not-change] cutter_governance.registry_entity.column:label.default");
  });

  it("scopes by schema and kind and renders text and markdown", () => {
    const text = run([file("before.json"), file("after.json"), "--scope-kind", "unique", "--format", "text"]);
    expect(text.status).toBe(1);
    expect(text.stdout).toContain(" unique +4\n");
    const empty = run([file("before.json"), file("after.json"), "--scope-schema", "public"]);
    expect(empty.status).toBe(0);
    const md = run([file("before.json"), file("after.json"), "--format", "markdown"]);
    expect(md.stdout).toContain("| primary_key | 12 | 0 | 0 |");
  });

  it("refuses different clusters unless allowed", () => {
    const refused = run([file("before.json"), file("other-cluster.json")]);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(/different clusters .*--allow-different-clusters/);
    expect(refused.stdout).toBe("");
    const allowed = run([file("before.json"), file("other-cluster.json"), "--allow-different-clusters"]);
    expect(allowed.status).toBe(0);
  });

  it("exits 2 naming the file and field of bad input, without a stack trace", () => {
    const cases: [string[], RegExp][] = [
      [[file("bad-version.json"), file("after.json")], /bad-version\.json: invalid document: field formatVersion/],
      [[file("wrong-kind.json"), file("after.json")], /wrong-kind\.json: invalid document: field kind/],
      [[file("before.json"), file("bad-field.json")], /bad-field\.json: invalid document: field tables\[0\]\.owner/],
      [[file("not-json.json"), file("after.json")], /not-json\.json: not valid JSON/],
      [[file("before.json"), file("after.json"), "--expect", file("before.json")], /before\.json: invalid document: field kind/],
      [[file("before.json"), file("missing.json")], /missing\.json: cannot read file/],
      [["-", "-"], /only one of BEFORE and AFTER/],
      [[file("before.json")], /Not enough non-option arguments/],
      [[file("before.json"), file("after.json"), "--scope-kind", "gadget"], /Invalid values/],
    ];
    for (const [args, message] of cases) {
      const result = run(args, "");
      expect(result.status, args.join(" ")).toBe(2);
      expect(result.stderr).toMatch(message);
      expect(result.stderr).not.toMatch(/\n\s+at /);
    }
  });
});
