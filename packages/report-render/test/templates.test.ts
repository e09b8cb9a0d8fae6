/**
 * Templates: a custom folder changes the output without code changes (whole templates and
 * partials, library and CLI); generic templates render every document kind; template mistakes
 * are errors naming the field and the line.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ExitCode, exitCodeFor, InputError } from "@dieu44/plumbing/exit";
import { describe, expect, it } from "vitest";
import { defaultTemplatesDir, render, renderBundle } from "../src/index.js";
import { EVIDENCE, readJson, runCli, scratchDir, tableProblems } from "./helpers.js";

function customFolder(files: Record<string, string>): string {
  const dir = scratchDir("templates-");
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, ".."), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

function thrown(action: () => unknown): Error {
  try {
    action();
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected an error");
}

describe("default templates", () => {
  it("are the repository's top-level templates/ folder", () => {
    expect(defaultTemplatesDir()).toBe(join(EVIDENCE, "..", "..", "..", "..", "..", "templates"));
  });

  const documents = [
    ["pass", "snapshot-after.json", "# Catalog snapshot of cutter_prod"],
    ["pass", "diff.json", "# Catalog diff"],
    ["pass", "expectation-result.json", "# Expectation result: PASS"],
    ["pass", "backup-marker.json", "# Backup marker "],
    ["pass", "lint-report.json", "# SQL lint report: PASS"],
    ["blocked", "apply-log.json", "# Apply log: rolled_back"],
    ["pass", "procedure-result.json", "# dot-iu-cutter-v0.5-WS-Q5-production-apply-reauthorized: PASS"],
    ["pass", "manifest.json", "# Evidence manifest"],
  ] as const;
  it.each(documents)("render %s/%s by its kind", (scenario, file, heading) => {
    const markdown = render(null, readJson(join(EVIDENCE, scenario, file)));
    expect(markdown.startsWith(`${heading}`)).toBe(true);
    expect(markdown).not.toMatch(/undefined|\[object Object\]/);
    expect(tableProblems(markdown)).toEqual([]);
  });

  it("render an expected-delta", () => {
    const markdown = render(null, readJson(join(EVIDENCE, "pass", "expected-delta.json")));
    expect(markdown).toContain("| `foreign_key` | +8 |");
    expect(tableProblems(markdown)).toEqual([]);
  });

  it("render a failed expectation result (the rolled-back run's pre-commit check)", () => {
    const log = readJson(join(EVIDENCE, "rolled-back", "apply-log.json")) as { verification: { result: unknown } };
    const markdown = render(null, log.verification.result);
    expect(markdown.startsWith("# Expectation result: FAIL\n")).toBe(true);
    expect(markdown).toContain("| `privilege` | no change | 12 | 0 | 0 | **NO** |");
    expect(tableProblems(markdown)).toEqual([]);
  });
});

describe("a custom template folder", () => {
  it("replaces a whole template and leaves the others as they were", () => {
    const dir = customFolder({ "report.hbs": "Custom report for {{result.cycle}}: {{result.status}} as {{result.applyRole}}\n" });
    const standard = renderBundle(join(EVIDENCE, "pass"));
    const custom = renderBundle(join(EVIDENCE, "pass"), { templatesDir: dir });
    expect(custom.files[2]!.content).toBe(
      "Custom report for dot-iu-cutter-v0.5-WS-Q5-production-apply-reauthorized: PASS as workflow_admin\n",
    );
    expect(custom.files.slice(0, 2)).toEqual(standard.files.slice(0, 2));
  });

  it("replaces a partial everywhere the default templates use it", () => {
    const dir = customFolder({
      "partials/checks.hbs": "{{#each checks}}- [{{#if passed}}x{{else}} {{/if}}] {{name}}\n{{/each}}",
    });
    const log = renderBundle(join(EVIDENCE, "pass"), { templatesDir: dir }).files[0]!.content;
    expect(log).toContain("- [x] system_identifier\n- [x] schema cutter_governance exists\n");
    expect(log).not.toContain("| Check | Expected | Actual | Passed |");
  });

  it("escapes plain {{value}} output in custom templates too", () => {
    const dir = customFolder({ "catalog-snapshot.hbs": "{{#each tables}}| {{name}} | {{owner}} |\n{{/each}}" });
    const snapshot = readJson(join(EVIDENCE, "pass", "snapshot-after.json")) as { tables: { name: string }[] };
    snapshot.tables[0]!.name = "a|b<i>`c`\nd";
    const markdown = render(null, snapshot, { templatesDir: dir });
    expect(markdown.split("\n")[0]).toBe("| a\\|b&lt;i&gt;\\`c\\`<br>d | workflow_admin |");
  });

  it("is used by the CLI with --templates, and --template takes a file", () => {
    const dir = customFolder({ "verification-result.hbs": "{{length createdTables}} tables\n" });
    const out = scratchDir();
    const result = runCli(["bundle", join(EVIDENCE, "pass"), "--out", out, "--templates", dir]);
    expect(result.status).toBe(0);
    const written = JSON.parse(result.stdout) as { files: { path: string }[] };
    expect(readFileSync(written.files[1]!.path, "utf8")).toBe("12 tables\n");

    const file = join(dir, "one-line.hbs");
    writeFileSync(file, "{{server.database}} {{fingerprint}}\n");
    const single = runCli(["--template", file, "--data", join(EVIDENCE, "pass", "snapshot-after.json")]);
    expect(single.stderr).toBe("");
    expect(single.stdout).toMatch(/^cutter_prod [0-9a-f]{64}\n$/);
  });

  it("names the missing field and the template line when a template reads a field the data lacks", () => {
    const dir = customFolder({
      "report.hbs": "# {{result.cycle}}\n\nRole: {{result.aplyRole}}\n",
      "execution-log.hbs": "{{#each result.stepz}}x{{/each}}\n",
      "verification-result.hbs": "{{result.nothere.deeper}}\n",
    });
    const error = thrown(() => render("report", { result: { cycle: "c" } }, { templatesDir: dir }));
    expect(error).toBeInstanceOf(InputError);
    expect(exitCodeFor(error)).toBe(ExitCode.BadInput);
    expect(error.message).toBe("report.hbs:3:9: field result.aplyRole is missing");
    expect(thrown(() => render("execution-log", { result: {} }, { templatesDir: dir })).message).toBe(
      "execution-log.hbs:1:9: field result.stepz is missing",
    );
    expect(thrown(() => render("verification-result", { result: {} }, { templatesDir: dir })).message).toMatch(
      /^verification-result\.hbs:1:3: field result\.nothere\.deeper is missing$/,
    );
  });

  it("names the partial file when the missing field is read inside a partial", () => {
    const dir = customFolder({ "partials/checks.hbs": "{{#each checks}}\n- {{nmae}}\n{{/each}}\n" });
    const error = thrown(() => renderBundle(join(EVIDENCE, "pass"), { templatesDir: dir }));
    expect(error.message).toBe("partials/checks.hbs:2:5: field nmae is missing");
  });

  it("rejects a syntax error, an unknown template and a missing folder with exit 2", () => {
    const dir = customFolder({ "broken.hbs": "{{#each x}}\n" });
    expect(thrown(() => render("broken", {}, { templatesDir: dir })).message).toMatch(/^broken\.hbs: template syntax error/);
    expect(thrown(() => render("no-such-template", {})).message).toMatch(/no template no-such-template\.hbs/);
    expect(exitCodeFor(thrown(() => render("report", {}, { templatesDir: "/nonexistent" })))).toBe(ExitCode.BadInput);
  });
});
