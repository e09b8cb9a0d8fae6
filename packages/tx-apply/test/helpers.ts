import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { ExpectedDelta } from "@dieu44/drift-diff/schema";
import { bootstrapFixture, FIXTURE_DIR, FIXTURE_TABLES, query, type ServerInfo, serverUrl } from "@dieu44/test-harness";
import { type ApplyLog, ApplyLogSchema, type ApplyOptions, apply } from "../src/index.js";

export const REFERENCE_PATH = join(FIXTURE_DIR, "ws-q5-registry-substrate-ddl.sql");
export const ROLLBACK_PATH = join(FIXTURE_DIR, "ws-q5-registry-substrate-rollback.sql");
export const REFERENCE_SQL = readFileSync(REFERENCE_PATH, "utf8");

export const REGISTRY_TABLES = FIXTURE_TABLES;

/** The fixture's expected delta: the 12 tables and their constraints, nothing else. */
export const FIXTURE_EXPECTATION: ExpectedDelta = {
  kind: "expected-delta",
  formatVersion: 1,
  source: "plan ws-q5",
  scope: { schemas: ["cutter_governance"] },
  tablesAdded: REGISTRY_TABLES.map((name) => `cutter_governance.${name}`),
  counts: { table: 12, primary_key: 12, foreign_key: 8, unique: 4 },
  mustNotChange: ["check", "trigger", "default", "enum", "index", "sequence", "function", "privilege", "ownership"],
  nothingElse: true,
};

export function sha256(text: string | Uint8Array): string {
  return createHash("sha256").update(text).digest("hex");
}

/**
 * The ws-q5 fixture database plus a DDL witness: an event trigger that bumps a sequence on every
 * ddl_command_start. nextval is not transactional, so the count survives a rollback: it proves
 * whether any DDL reached the server at all, not only whether it was committed.
 */
export async function fixtureDatabase(server: ServerInfo): Promise<string> {
  const database = await bootstrapFixture(server, "txa");
  await query(
    server,
    `CREATE SEQUENCE public.ddl_seen;
     CREATE FUNCTION public.count_ddl() RETURNS event_trigger LANGUAGE plpgsql SECURITY DEFINER
       SET search_path = pg_catalog AS $$ BEGIN PERFORM nextval('public.ddl_seen'); END $$;
     CREATE EVENT TRIGGER count_ddl ON ddl_command_start EXECUTE FUNCTION public.count_ddl();`,
    { database },
  );
  return database;
}

/** DDL statements the server has seen in the database (committed or not). */
export async function ddlSeen(server: ServerInfo, database: string): Promise<number> {
  const rows = await query<{ n: string }>(
    server,
    "SELECT CASE WHEN is_called THEN last_value ELSE 0 END AS n FROM public.ddl_seen",
    {
      database,
    },
  );
  return Number(rows[0]?.n);
}

/** Tables in cutter_governance whose name starts with a prefix, from the catalog. */
export async function tablesIn(server: ServerInfo, database: string, prefix = "registry_"): Promise<string[]> {
  const rows = await query<{ name: string }>(
    server,
    `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = 'cutter_governance' AND c.relkind IN ('r', 'p') AND starts_with(c.relname, $1) ORDER BY 1`,
    { database, params: [prefix] },
  );
  return rows.map((row) => row.name);
}

export async function tableExists(server: ServerInfo, database: string, qualified: string): Promise<boolean> {
  const rows = await query<{ found: boolean }>(server, "SELECT to_regclass($1) IS NOT NULL AS found", {
    database,
    params: [qualified],
  });
  return rows[0]?.found === true;
}

/** Applies SQL text as a role with the right guards, unless the options say otherwise. */
export async function applyAs(
  server: ServerInfo,
  database: string,
  role: string,
  sql: string,
  options: Partial<ApplyOptions> & { path?: string } = {},
): Promise<ApplyLog> {
  const bytes = Buffer.from(sql, "utf8");
  const { path, ...rest } = options;
  const log = await apply(
    { url: serverUrl(server, { database, user: role }), env: {} },
    { path: path ?? "artifact.sql", bytes },
    { role, expectSystemIdentifier: server.systemIdentifier, sha256: sha256(bytes), ...rest },
  );
  // Every log the library returns is a valid document.
  ApplyLogSchema.parse(log);
  return log;
}

/** Waits until a condition holds (polling), or fails after timeoutMs. */
export async function waitFor<T>(probe: () => Promise<T | undefined | null | false>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error("condition not reached in time");
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** The tx-apply backend in a database whose current query matches a pattern. */
export async function applyBackend(server: ServerInfo, database: string, queryLike: string, waitEvent?: string): Promise<number> {
  return waitFor(async () => {
    const rows = await query<{ pid: number }>(
      server,
      `SELECT pid FROM pg_stat_activity WHERE datname = $1 AND application_name = 'tx-apply' AND state = 'active'
         AND query LIKE $2 AND ($3::text IS NULL OR wait_event = $3)`,
      { params: [database, queryLike, waitEvent ?? null] },
    );
    return rows[0]?.pid;
  });
}

/** Replaces exactly one occurrence of a fragment (fails loudly if the fixture changed). */
export function variant(sql: string, fragment: string, replacement: string): string {
  const at = sql.indexOf(fragment);
  if (at < 0 || sql.indexOf(fragment, at + 1) >= 0) throw new Error(`fragment not found exactly once: ${fragment}`);
  return sql.slice(0, at) + replacement + sql.slice(at + fragment.length);
}
