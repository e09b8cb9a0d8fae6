import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { clientTool, type NodeCliResult, REPO_ROOT, runNodeCli } from "@dieu44/test-harness";

const created: string[] = [];

/** A fresh temporary folder, removed by removeTempDirs() (each test file's afterAll). */
export function tempDir(prefix = "bm-test-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  created.push(dir);
  return dir;
}

export function removeTempDirs(): void {
  for (const dir of created.splice(0)) rmSync(dir, { recursive: true, force: true });
}

export function realPgDump(): string {
  const tool = clientTool("pg_dump");
  if (!tool) throw new Error("pg_dump not found on PATH");
  return tool.path;
}

/** Writes an executable shell script and returns its path. */
export function script(dir: string, name: string, body: string): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

/** A pg_dump that answers --version like the real one, then runs `body` instead of dumping. */
export function fakePgDump(dir: string, body: string): string {
  return script(dir, "fake-pg_dump", `if [ "$1" = "--version" ]; then exec ${realPgDump()} --version; fi\n${body}`);
}

/** Every regular file under a folder, recursively. */
export function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...filesUnder(path));
    else if (statSync(path).isFile()) out.push(path);
  }
  return out;
}

export function fileContains(path: string, needle: string): boolean {
  const bytes = readFileSync(path);
  return bytes.includes(Buffer.from(needle)) || bytes.includes(Buffer.from(encodeURIComponent(needle)));
}

export const CLI = join(REPO_ROOT, "packages", "backup-marker", "bin", "backup-marker.js");

/** Runs the built CLI with a controlled environment (no PG* variables unless given). */
export function runCli(args: string[], env: Record<string, string> = {}, stdin?: string): Promise<NodeCliResult> {
  const base: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith("PG")) base[key] = value;
  return runNodeCli(CLI, args, { env: { ...base, ...env }, stdin });
}
