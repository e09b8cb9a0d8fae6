/** Shared test helpers: the fixture evidence folders, editing a copy of one, running the CLI. */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const PACKAGE_DIR = join(dirname(fileURLToPath(import.meta.url)), "..");
export const EVIDENCE = join(PACKAGE_DIR, "test", "fixtures", "evidence");
export const GOLDEN = join(PACKAGE_DIR, "test", "golden");
export const SCENARIOS = ["pass", "blocked", "rolled-back"] as const;
export type Scenario = (typeof SCENARIOS)[number];
const BIN = join(PACKAGE_DIR, "bin", "report-render.js");

export function scratchDir(prefix = "report-render-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A writable copy of a fixture evidence folder. */
export function copyEvidence(scenario: Scenario): string {
  const dir = join(scratchDir(), scenario);
  cpSync(join(EVIDENCE, scenario), dir, { recursive: true });
  return dir;
}

export function readJson(path: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
}

/**
 * Edits one document of an evidence folder and re-records its sha256 and size in the manifest,
 * so the change reaches the schema validation instead of failing the hash check.
 */
export function editDocument(dir: string, name: string, edit: (document: Record<string, unknown>) => void): void {
  const path = join(dir, name);
  const document = readJson(path);
  edit(document);
  const text = `${JSON.stringify(document, null, 2)}\n`;
  writeFileSync(path, text);
  const manifest = readJson(join(dir, "manifest.json")) as { files: { name: string; sha256: string; bytes: number }[] };
  const entry = manifest.files.find((file) => file.name === name);
  if (!entry) throw new Error(`${name} is not in the manifest`);
  entry.sha256 = createHash("sha256").update(text).digest("hex");
  entry.bytes = Buffer.byteLength(text);
  writeFileSync(join(dir, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
}

export function runCli(args: string[], options: { input?: string; cwd?: string } = {}) {
  const result = spawnSync(process.execPath, [BIN, ...args], {
    encoding: "utf8",
    input: options.input ?? "",
    cwd: options.cwd,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Splits a markdown table row into cells on unescaped pipes (GFM's rule), outside nothing else. */
export function tableCells(line: string): string[] {
  const cells: string[] = [];
  let current = "";
  for (let i = 0; i < line.length; i++) {
    const char = line[i];
    if (char === "\\" && i + 1 < line.length) {
      current += char + line[i + 1];
      i++;
    } else if (char === "|") {
      cells.push(current);
      current = "";
    } else {
      current += char;
    }
  }
  cells.push(current);
  // A row starts and ends with a pipe: drop the empty edges.
  return cells.slice(1, -1).map((cell) => cell.trim());
}

/**
 * Checks every table of a markdown text: each row has as many cells as its header, and no cell
 * is empty. Returns the problems found (empty when the tables are sound).
 */
export function tableProblems(markdown: string): string[] {
  const problems: string[] = [];
  const lines = markdown.split("\n");
  let inFence: string | null = null;
  let columns: number | null = null;
  for (const [index, line] of lines.entries()) {
    const fence = /^(`{3,})/.exec(line)?.[1];
    if (fence && (inFence === null || fence.length >= inFence.length)) {
      inFence = inFence === null ? fence : null;
      continue;
    }
    if (inFence !== null) continue;
    if (!line.startsWith("|")) {
      columns = null;
      continue;
    }
    const cells = tableCells(line);
    if (columns === null) {
      columns = cells.length;
      continue;
    }
    if (cells.length !== columns) problems.push(`line ${index + 1}: ${cells.length} cells, header has ${columns}: ${line}`);
    if (cells.some((cell) => cell === "")) problems.push(`line ${index + 1}: empty cell: ${line}`);
  }
  return problems;
}

/** The body of the first ```mermaid block of a markdown text. */
export function mermaidBlock(markdown: string): string | null {
  const match = /^```mermaid\n([\s\S]*?)\n```$/m.exec(markdown);
  return match ? (match[1] ?? null) : null;
}
