import { join } from "node:path";
import { cleanEnv, type NodeCliResult, REPO_ROOT, runNodeCli, type ServerInfo, serverUrl } from "@dieu44/test-harness";
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

/** Runs the built CLI with a clean environment (plus `env`). */
export function runCli(args: string[], env: Record<string, string> = {}): Promise<NodeCliResult> {
  return runNodeCli(CLI, args, { env: cleanEnv(env) });
}
