import { spawn } from "node:child_process";
import { join } from "node:path";
import { REPO_ROOT, type ServerInfo, serverUrl } from "@dieu44/test-harness";
import { type CatalogSnapshot, type SnapshotOptions, snapshot, type Table } from "../src/index.js";

/** Snapshot of one database as the superuser (or `user`), through the library. */
export function snapshotOf(
  server: ServerInfo,
  database: string,
  options: SnapshotOptions & { user?: string } = {},
): Promise<CatalogSnapshot> {
  const { user, ...snapshotOptions } = options;
  return snapshot({ url: serverUrl(server, { database, user }), env: {} }, snapshotOptions);
}

export function table(doc: CatalogSnapshot, schema: string, name: string): Table {
  const found = doc.tables.find((entry) => entry.schema === schema && entry.name === name);
  if (!found) throw new Error(`table ${schema}.${name} not in snapshot`);
  return found;
}

export const CLI = join(REPO_ROOT, "packages", "catalog-snapshot", "bin", "catalog-snapshot.js");

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI with a clean environment (plus `env`), asynchronously so tests stay parallel. */
export function runCli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: "/nonexistent", ...env },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    child.on("error", reject);
    child.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}
