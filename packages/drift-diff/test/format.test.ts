import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { check, diff, ExpectedDeltaSchema, formatMarkdown, formatText } from "../src/index.js";
import { column, governanceLaw, snapshot, table, wsq5Tables } from "./documents.js";

const expectation = ExpectedDeltaSchema.parse(
  JSON.parse(readFileSync(new URL("./fixtures/ws-q5.expected-delta.json", import.meta.url), "utf8")),
);
const before = snapshot({ tables: [governanceLaw()] });

describe("formatText", () => {
  it("prints one stat line per object and the counts per kind", () => {
    const law = governanceLaw();
    law.columns[2] = column(3, "title", "character varying(200)");
    const text = formatText(diff(before, snapshot({ tables: [law, ...wsq5Tables()] })));
    expect(text).toMatch(/^before: [0-9a-f]{12} cutter_prod at /);
    expect(text).toMatch(/^ A cutter_governance\.registry_entity\s+\|\s+6 \+{6}$/m);
    expect(text).toMatch(/^ M cutter_governance\.governance_law\s+\|\s+1 ~$/m);
    expect(text).toContain("13 objects affected, 72 additions(+), 0 removals(-), 1 changes(~)");
    expect(text).toContain("table +12, column +36 ~1, primary_key +12, foreign_key +8, unique +4");
  });

  it("says so when nothing changed", () => {
    expect(formatText(diff(before, before))).toMatch(/\nno changes\n$/);
  });

  it("lists violations of an expectation result", () => {
    const tables = wsq5Tables();
    tables[0]!.columns[1] = column(2, "label", "text", { default: "'x'::text" });
    const text = formatText(check(diff(before, snapshot({ tables: [governanceLaw(), ...tables] })), expectation));
    expect(text).toMatch(/^expectation: FAIL/);
    expect(text).toContain("[must-not-change] cutter_governance.registry_namespace.column:label.default");
  });
});

describe("formatMarkdown", () => {
  it("renders counts and changes with before and after", () => {
    const law = governanceLaw();
    law.columns[2] = column(3, "title", "character varying(200)");
    const md = formatMarkdown(diff(before, snapshot({ tables: [law] })));
    expect(md).toContain("## Catalog diff");
    expect(md).toContain("| column | 0 | 0 | 1 |");
    expect(md).toContain(
      "| changed | column | `cutter_governance.governance_law.column:title` | type: text | type: character varying(200) |",
    );
  });

  it("renders a result with expected against found per kind and each violation", () => {
    const pass = formatMarkdown(check(diff(before, snapshot({ tables: [governanceLaw(), ...wsq5Tables()] })), expectation));
    expect(pass).toContain("## Expected delta: PASS");
    expect(pass).toContain("| primary_key | exactly 12 added | 12 | 0 | 0 |");
    expect(pass).toContain("| default | no change | 0 | 0 | 0 |");
    expect(pass).toContain("No violations.");
    const fail = formatMarkdown(check(diff(before, before), expectation));
    expect(fail).toContain("## Expected delta: FAIL");
    expect(fail).toContain("| table-missing | table | `cutter_governance.registry_entity` | added | not added |");
  });
});

describe("names with pipes, newlines and other control characters", () => {
  // PostgreSQL accepts any character in a quoted identifier; a name must never break the output.
  const hostile = table("cutter_governance", "a|b\nc\td");
  const changes = diff(before, snapshot({ tables: [governanceLaw(), hostile] }));

  it("keep every markdown table row to its header's cells", () => {
    const lines = formatMarkdown(changes).split("\n");
    const cells = (line: string) => line.replace(/\\\|/g, "").split("|").length;
    for (const [index, line] of lines.entries()) {
      if (!/^\|(\s*:?-+:?\s*\|)+\s*$/.test(line)) continue;
      const header = lines[index - 1] as string;
      for (let row = index + 1; row < lines.length && lines[row]!.startsWith("|"); row++) {
        expect(cells(lines[row]!), lines[row]).toBe(cells(header));
      }
    }
    expect(formatMarkdown(changes)).toContain("a\\|b\\nc\\td");
  });

  it("keep text lines whole, the control characters shown as escapes", () => {
    const text = formatText(changes);
    expect(text).toMatch(/^ A cutter_governance\."a\|b\\nc\\td"\s+\|/m);
    expect(text.split("\n").every((line) => !line.startsWith("c"))).toBe(true);
  });
});
