/**
 * Text from the database or from errors cannot break the markdown: table pipes, backticks,
 * newlines and HTML in names and messages are escaped everywhere they are rendered.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { codeSpan, escapeMarkdown, fencedBlock, render, renderBundle, yamlScalar } from "../src/index.js";
import { copyEvidence, EVIDENCE, editDocument, mermaidBlock, readJson, tableProblems } from "./helpers.js";

const EVIL = "evil|`name`<script>alert(1)</script>";
const EVIL_MESSAGE = 'line one | with pipe\nline two `tick` <img src=x onerror="alert(1)"> **bold** [link](http://x)';

/** The line with code spans removed (CommonMark: a run of n backticks closes at the next run of exactly n). */
function outsideCodeSpans(line: string): string {
  let out = "";
  let i = 0;
  while (i < line.length) {
    if (line[i] === "\\") {
      out += line.slice(i, i + 2);
      i += 2;
      continue;
    }
    if (line[i] !== "`") {
      out += line[i];
      i++;
      continue;
    }
    let n = 0;
    while (line[i + n] === "`") n++;
    const fence = "`".repeat(n);
    let close = -1;
    for (let j = line.indexOf(fence, i + n); j !== -1; j = line.indexOf(fence, j + 1)) {
      if (line[j - 1] !== "`" && line[j + n] !== "`") {
        close = j;
        break;
      }
    }
    if (close === -1) throw new Error(`unclosed code span in: ${line}`);
    out += "CODE";
    i = close + n;
  }
  return out;
}

/** Raw HTML tags or unbalanced code spans outside fenced blocks. */
function unsafeLines(markdown: string): string[] {
  const problems: string[] = [];
  let fence: string | null = null;
  for (const line of markdown.split("\n")) {
    const marker = /^(`{3,})/.exec(line)?.[1];
    if (marker && (fence === null || marker.length >= fence.length)) {
      fence = fence === null ? marker : null;
      continue;
    }
    if (fence !== null) continue;
    const text = outsideCodeSpans(line).replace(/<br>/g, "");
    if (/<[A-Za-z/!]/.test(text)) problems.push(line);
  }
  return problems;
}

describe("escaping helpers", () => {
  it("escape pipes, backticks, HTML and newlines in inline text", () => {
    expect(escapeMarkdown(EVIL)).toBe("evil\\|\\`name\\`&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(escapeMarkdown("a\nb\r\nc")).toBe("a<br>b<br>c");
    expect(escapeMarkdown("")).toBe('""');
    expect(escapeMarkdown("registry_entity_type")).toBe("registry_entity_type");
    expect(escapeMarkdown("_private_")).toBe("\\_private\\_");
    expect(escapeMarkdown("# not a heading")).toBe("\\# not a heading");
    expect(escapeMarkdown("cost $5 and $6")).toBe("cost \\$5 and \\$6");
  });

  it("make code spans that no backtick run can close, safe in table cells", () => {
    expect(codeSpan("plain")).toBe("`plain`");
    expect(codeSpan("a`b")).toBe("``a`b``");
    expect(codeSpan("`edge")).toBe("`` `edge ``");
    expect(codeSpan("a|b\nc")).toBe("`a\\|b c`");
  });

  it("make fenced blocks that the content cannot close", () => {
    expect(fencedBlock("select 1;", "sql")).toBe("```sql\nselect 1;\n```");
    expect(fencedBlock("a\n```\nb")).toBe("````\na\n```\nb\n````");
  });

  it("quote YAML scalars that would change meaning", () => {
    expect(yamlScalar("workflow_admin")).toBe("workflow_admin");
    expect(yamlScalar("DML seed execution")).toBe("DML seed execution");
    expect(yamlScalar("no")).toBe('"no"');
    expect(yamlScalar("12")).toBe('"12"');
    expect(yamlScalar("PASS: +12 tables")).toBe('"PASS: +12 tables"');
    expect(yamlScalar("a\nb # c")).toBe('"a\\nb # c"');
    expect(yamlScalar(12)).toBe("12");
    expect(yamlScalar(false)).toBe("false");
    expect(yamlScalar(null)).toBe("null");
  });
});

describe("hostile names and messages", () => {
  it("render safely in a catalog snapshot summary", () => {
    const snapshot = readJson(join(EVIDENCE, "pass", "snapshot-after.json")) as {
      tables: { name: string; owner: string; columns: { name: string }[] }[];
    };
    snapshot.tables[0]!.name = EVIL;
    snapshot.tables[0]!.owner = `owner\n${EVIL}`;
    const markdown = render(null, snapshot);
    expect(tableProblems(markdown)).toEqual([]);
    expect(unsafeLines(markdown)).toEqual([]);
    // In a code span the name stays literal (CommonMark never reads HTML there); its pipe is escaped for the table.
    expect(markdown).toContain("``cutter_governance.evil\\|`name`<script>alert(1)</script>``");
  });

  it("render safely in the three procedure files and the Mermaid diagram", () => {
    const dir = copyEvidence("blocked");
    editDocument(dir, "procedure-result.json", (document) => {
      const result = document as {
        steps: { title: string; summary: string; checks: { name: string; actual: string }[] }[];
        reportFields: { verification_summary: string; downstream_not_executed: string[] };
        verdict: { basis: string[] };
        createdTables?: string[];
        foreignKeys?: unknown[];
      };
      result.steps[0]!.title = EVIL;
      result.steps[0]!.summary = EVIL_MESSAGE;
      result.steps[0]!.checks[0]!.name = EVIL;
      result.steps[0]!.checks[0]!.actual = EVIL_MESSAGE;
      result.reportFields.verification_summary = EVIL_MESSAGE;
      result.reportFields.downstream_not_executed.push(EVIL);
      result.verdict.basis.push(EVIL_MESSAGE);
      result.createdTables = [`cutter_governance.${EVIL}`, "cutter_governance.plain"];
      result.foreignKeys = [
        {
          name: `fk ${EVIL}`,
          from: `cutter_governance.${EVIL}`,
          fromColumns: [EVIL],
          to: "cutter_governance.plain",
          toColumns: ["id"],
        },
      ];
    });
    editDocument(dir, "apply-log.json", (document) => {
      (document.error as { message: string }).message = EVIL_MESSAGE;
      (document.error as { detail: string }).detail = EVIL;
    });
    const { files } = renderBundle(dir);
    for (const file of files) {
      expect(tableProblems(file.content), file.name).toEqual([]);
      expect(unsafeLines(file.content), file.name).toEqual([]);
    }
    const log = files[0]!.content;
    expect(log).toContain("## 1. evil\\|\\`name\\`&lt;script&gt;alert(1)&lt;/script&gt;\n");
    expect(log).toContain(
      "line one \\| with pipe<br>line two \\`tick\\` &lt;img src=x onerror=&quot;alert(1)&quot;&gt; \\*\\*bold\\*\\* \\[link\\](http://x)",
    );
    const report = files[2]!.content;
    const yaml = /^```yaml\n([\s\S]*?)\n```$/m.exec(report)![1]!;
    expect(yaml).toContain(`verification_summary: ${JSON.stringify(EVIL_MESSAGE)}`);
    expect(yaml.split("\n").every((line) => /^([A-Za-z_]+: .+|[A-Za-z_]+:| {2}- .+)$/.test(line))).toBe(true);
    const diagram = mermaidBlock(files[1]!.content)!;
    expect(diagram).toContain('"cutter_governance.evil__name__script_alert_1___script_"');
    expect(diagram).not.toMatch(/[|`<>](?![|o{]|--)/);
  });

  it("never carry a password that reached a document", () => {
    const secret = "Hunter2-secret-pw";
    const dir = copyEvidence("pass");
    editDocument(dir, "procedure-result.json", (document) => {
      document.connection = `postgres://workflow_admin:${secret}@db.cutter.internal:5432/cutter_prod`;
      (document.steps as { command: string }[])[0]!.command =
        `PGPASSWORD=${secret} catalog-snapshot --url 'host=db password=${secret}'`;
    });
    editDocument(dir, "apply-log.json", (document) => {
      document.psqlEquivalent = `psql 'postgres://workflow_admin:${secret}@db.cutter.internal/cutter_prod' -f x.sql`;
    });
    const { files } = renderBundle(dir);
    for (const file of files) expect(file.content, file.name).not.toContain(secret);
    expect(files[0]!.content).toContain("`postgres://workflow_admin:********@db.cutter.internal:5432/cutter_prod`");
    expect(files[0]!.content).toContain("PGPASSWORD=******** catalog-snapshot --url 'host=db password=********");
  });

  it("leave the fixture documents themselves untouched", () => {
    expect(readFileSync(join(EVIDENCE, "blocked", "procedure-result.json"), "utf8")).not.toContain("evil");
  });
});
