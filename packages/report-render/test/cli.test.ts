/** The report-render command line: data in from files or stdin, exit codes, output files. */
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { copyEvidence, EVIDENCE, editDocument, readJson, runCli, scratchDir } from "./helpers.js";

const SNAPSHOT = join(EVIDENCE, "pass", "snapshot-after.json");
const BACKUP = join(EVIDENCE, "pass", "backup-marker.json");

describe("report-render", () => {
  it("renders a document from stdin with the template of its kind", () => {
    const result = runCli([], { input: readFileSync(SNAPSHOT, "utf8") });
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(result.stdout.startsWith("# Catalog snapshot of cutter_prod\n")).toBe(true);
  });

  it("renders each --data document in turn, and writes --out", () => {
    const out = join(scratchDir(), "out.md");
    const result = runCli(["--data", SNAPSHOT, "--data", BACKUP, "--out", out]);
    expect(result.status).toBe(0);
    expect(result.stdout).toBe("");
    const markdown = readFileSync(out, "utf8");
    expect(markdown.indexOf("# Catalog snapshot")).toBe(0);
    expect(markdown).toContain("\n# Backup marker ");
  });

  it("exits 2 naming the field when a document lacks a required one", () => {
    const document = JSON.parse(readFileSync(BACKUP, "utf8")) as Record<string, unknown>;
    delete document.sha256;
    const result = runCli(["--data", "-"], { input: JSON.stringify(document) });
    expect(result.status).toBe(2);
    expect(result.stderr).toBe(
      "report-render: stdin: invalid document: field sha256: Invalid input: expected string, received undefined\n",
    );
    expect(result.stdout).toBe("");
  });

  it("exits 2 for a document of unknown kind without --template, and renders it with one", () => {
    const data = JSON.stringify({ kind: "something-else", formatVersion: 1, name: "x|y" });
    const refused = runCli([], { input: data });
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(/^report-render: stdin: no template for document kind "something-else"/);
    const file = join(scratchDir(), "t.hbs");
    writeFileSync(file, "{{kind}}: {{name}}\n");
    const rendered = runCli(["--template", file], { input: data });
    expect(rendered.stdout).toBe("something-else: x\\|y\n");
  });

  it("exits 2 for bad usage, unreadable or non-JSON data, and a missing template", () => {
    expect(runCli(["--bogus"]).status).toBe(2);
    expect(runCli(["bundle"]).status).toBe(2);
    expect(runCli(["bundle", EVIDENCE, "extra"]).status).toBe(2);
    expect(runCli(["--data", "/nonexistent.json"]).status).toBe(2);
    expect(runCli([], { input: "not json" }).stderr).toMatch(/^report-render: stdin: not valid JSON/);
    expect(runCli(["--template", "nope", "--data", SNAPSHOT]).stderr).toMatch(/no template nope\.hbs/);
    expect(runCli(["--help"]).status).toBe(0);
  });

  it("bundle exits 2 when a file's sha256 differs from the manifest, naming the file", () => {
    const dir = copyEvidence("pass");
    const path = join(dir, "diff.json");
    writeFileSync(path, readFileSync(path, "utf8").replace('"identical": false', '"identical": true '));
    const result = runCli(["bundle", dir]);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/diff\.json: sha256 [0-9a-f]{64} does not match manifest\.json/);
  });

  it("bundle exits 2 on a document that is not valid UTF-8, even when the manifest lists its hash", () => {
    const dir = copyEvidence("pass");
    const path = join(dir, "diff.json");
    // A byte that is not UTF-8 inside a string: decoded lossily it would have passed validation.
    const bytes = Buffer.from(
      readFileSync(path, "utf8").replace('"kind": "catalog-diff"', '"kind": "catalog-diff", "x": "\uFFFD"'),
    );
    const bad = Buffer.from(bytes.toString("latin1").replace("\u00ef\u00bf\u00bd", "\u00ff"), "latin1");
    writeFileSync(path, bad);
    const manifestPath = join(dir, "manifest.json");
    const manifest = readJson(manifestPath) as { files: { name: string; sha256: string; bytes: number }[] };
    const entry = manifest.files.find((file) => file.name === "diff.json")!;
    entry.sha256 = createHash("sha256").update(bad).digest("hex");
    entry.bytes = bad.length;
    writeFileSync(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
    const result = runCli(["bundle", dir]);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/diff\.json: not valid UTF-8 \(byte 0xFF/);
  });

  it("bundle exits 2 when a document's kind differs from the manifest, or a step names an unlisted file", () => {
    const dir = copyEvidence("pass");
    editDocument(dir, "diff.json", (document) => {
      document.kind = "catalog-snapshot";
    });
    expect(runCli(["bundle", dir]).stderr).toMatch(
      /diff\.json: field kind is "catalog-snapshot", but manifest\.json lists catalog-diff/,
    );
    const other = copyEvidence("pass");
    editDocument(other, "procedure-result.json", (document) => {
      (document.steps as { documents: string[] }[])[0]!.documents.push("not-there.json");
    });
    expect(runCli(["bundle", other]).stderr).toMatch(
      /step P1_preflight names not-there\.json, which manifest\.json does not list/,
    );
  });

  it("bundle exits 2 when an output name would overwrite an evidence file", () => {
    const dir = copyEvidence("pass");
    editDocument(dir, "procedure-result.json", (document) => {
      (document.files as { report: string }).report = "diff.json";
    });
    const result = runCli(["bundle", dir]);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/field files: diff\.json would overwrite another file/);
  });

  it("bundle re-renders a folder whose manifest lists the markdown rendered before, and says whether it matches", () => {
    const dir = copyEvidence("pass");
    // As the dieu44 app does: render, write the three files, list them as markdown-report.
    const first = runCli(["bundle", dir]);
    expect(first.status).toBe(0);
    const manifest = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")) as { files: object[] };
    for (const file of (JSON.parse(first.stdout) as { files: { name: string; bytes: number; sha256: string }[] }).files) {
      manifest.files.push({ name: file.name, kind: "markdown-report", sha256: file.sha256, bytes: file.bytes });
    }
    writeFileSync(join(dir, "manifest.json"), JSON.stringify(manifest));
    const again = runCli(["bundle", dir]);
    expect(again.stderr).toBe("");
    expect(again.status).toBe(0);
    const files = (JSON.parse(again.stdout) as { files: { matchesListed: boolean | null }[] }).files;
    expect(files.map((file) => file.matchesListed)).toEqual([true, true, true]);

    // A different rendering never overwrites the listed file in the evidence folder (exit 1) ...
    const reportPath = (JSON.parse(first.stdout) as { files: { path: string }[] }).files[2]!.path;
    const reportBefore = readFileSync(reportPath, "utf8");
    const templates = scratchDir();
    writeFileSync(join(templates, "report.hbs"), "changed\n");
    const refused = runCli(["bundle", dir, "--templates", templates]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(
      /report-2026-05-18\.md: the rendering differs from the file manifest\.json lists; not overwritten/,
    );
    expect(readFileSync(reportPath, "utf8")).toBe(reportBefore);
    // ... and elsewhere it is written, with the mismatch reported.
    const out = scratchDir();
    const elsewhere = runCli(["bundle", dir, "--templates", templates, "--out", out]);
    expect(elsewhere.status).toBe(0);
    const written = (JSON.parse(elsewhere.stdout) as { files: { matchesListed: boolean | null }[] }).files;
    expect(written.map((file) => file.matchesListed)).toEqual([true, true, false]);
  });

  it("bundle writes into the evidence folder by default", () => {
    const dir = copyEvidence("blocked");
    const result = runCli(["bundle", dir]);
    expect(result.status).toBe(0);
    const { files } = JSON.parse(result.stdout) as { files: { name: string; path: string }[] };
    expect(files.map((file) => file.path)).toEqual(files.map((file) => join(dir, file.name)));
    expect(readFileSync(files[2]!.path, "utf8")).toContain("root_cause: apply_role_lacks_CREATE_on_schema");
  });
});
