import { join } from "node:path";
import { cleanEnv, type NodeCliResult, REPO_ROOT, runNodeCli, type ServerInfo, serverUrl } from "@dieu44/test-harness";
import type pg from "pg";
import { type ColumnFacts, columnFactsOf, DefinitionComposer, definitionFactsOf, indexStructureOf } from "../src/definitions.js";
import { type CatalogSnapshot, type SnapshotOptions, snapshot, type Table } from "../src/index.js";
import * as queries from "../src/queries.js";

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

/**
 * How the package's own queries and composer split the indexes and constraints of `schemas`:
 * index names composed on the client, index names left to the server (by the query or by the
 * composer), and the constraint names the query leaves to the client. For tests that must show
 * the client path is taken, not only that the recorded texts are right.
 */
export async function definitionSplit(
  client: pg.Client,
  schemas: string[],
): Promise<{ composedIndexes: string[]; serverIndexes: string[]; clientConstraints: string[] }> {
  const version = Number((await client.query("show server_version_num")).rows[0].server_version_num);
  const composer = new DefinitionComposer(definitionFactsOf((await client.query(queries.definitionFactsQuery)).rows[0]));
  const namespaces = (await client.query("select array_agg(oid) as oids from pg_namespace where nspname = any($1)", [schemas]))
    .rows[0].oids as number[];
  const scope = [namespaces, 1, 0, []];
  const columns = new Map<number, ColumnFacts[]>();
  for (const row of (await client.query(queries.columnsQuery, scope)).rows) {
    const list = columns.get(row.table_oid) ?? [];
    list[row.position] = columnFactsOf(row);
    columns.set(row.table_oid, list);
  }
  const composedIndexes: string[] = [];
  const serverIndexes: string[] = [];
  for (const row of (await client.query(queries.indexesQuery(version), scope)).rows) {
    const text =
      row.definition === null
        ? composer.indexDefinition(indexStructureOf(row, "schema", "table"), columns.get(row.table_oid) ?? [])
        : null;
    (text === null ? serverIndexes : composedIndexes).push(row.name);
  }
  const clientConstraints = (await client.query(queries.constraintsQuery(version), scope)).rows
    .filter((row) => row.definition === null)
    .map((row) => row.name as string);
  return { composedIndexes, serverIndexes, clientConstraints };
}
