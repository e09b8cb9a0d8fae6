/**
 * Test-side helpers over the servers the global setup started: per-test databases and roles,
 * the ws-q5 fixture, and the system pg_dump/psql client.
 */
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { inject } from "vitest";
import { rolePassword, type ServerInfo } from "./servers.js";

export { FIXTURE_ROLES, rolePassword, type ServerInfo } from "./servers.js";

/** The repository root (for sql/ and templates/). */
export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const FIXTURE_DIR = join(REPO_ROOT, "sql", "fixtures", "ws-q5");

/** Every server the harness started (15 and 18 by default). */
export function testServers(): ServerInfo[] {
  return inject("dieu44Servers");
}

/** URL to a database on a server as a role (the role's fixture password unless given). */
export function serverUrl(server: ServerInfo, options: { database?: string; user?: string; password?: string } = {}): string {
  const user = options.user ?? server.superuser;
  const password = options.password ?? (user === server.superuser ? server.superuserPassword : rolePassword(user));
  const auth = password ? `${encodeURIComponent(user)}:${encodeURIComponent(password)}` : encodeURIComponent(user);
  return `postgres://${auth}@${server.host}:${server.port}/${encodeURIComponent(options.database ?? "postgres")}`;
}

/** Runs SQL as superuser in a database and returns the rows. */
export async function query<R extends pg.QueryResultRow = pg.QueryResultRow>(
  server: ServerInfo,
  sql: string,
  options: { database?: string; user?: string; params?: unknown[] } = {},
): Promise<R[]> {
  const client = new pg.Client({ connectionString: serverUrl(server, options) });
  await client.connect();
  try {
    const result = await client.query<R>(sql, options.params);
    return result.rows;
  } finally {
    await client.end();
  }
}

/** Whether a process with this id exists (signal 0 checks without sending anything). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function uniqueName(prefix: string): string {
  return `${prefix}_${randomBytes(4).toString("hex")}`;
}

/** Creates an empty database for one test. */
export async function createDatabase(server: ServerInfo, prefix = "t"): Promise<string> {
  const name = uniqueName(prefix);
  await query(server, `create database ${name}`);
  return name;
}

export async function dropDatabase(server: ServerInfo, name: string): Promise<void> {
  await query(server, `drop database if exists ${name} with (force)`);
}

/** Creates a cluster-wide login role with a random password; returns its name and password. */
export async function createRole(
  server: ServerInfo,
  options: { prefix?: string; login?: boolean; superuser?: boolean; password?: string } = {},
): Promise<{ name: string; password: string }> {
  const name = uniqueName(options.prefix ?? "role");
  const password = options.password ?? randomBytes(9).toString("hex");
  const attributes = [options.login === false ? "nologin" : "login", options.superuser ? "superuser" : ""].join(" ");
  await query(server, `create role ${name} ${attributes} password '${password}'`);
  return { name, password };
}

/** A database bootstrapped as the simulated ws-q5 production (schema, roles, existing tables). */
export async function bootstrapFixture(server: ServerInfo, prefix = "wsq5"): Promise<string> {
  const database = await createDatabase(server, prefix);
  await query(server, readFileSync(join(FIXTURE_DIR, "bootstrap.sql"), "utf8"), { database });
  return database;
}

export interface ClientTool {
  path: string;
  major: number;
}

/** The system's PostgreSQL client binary (pg_dump, pg_restore, psql) and its major version. */
export function clientTool(name: "pg_dump" | "pg_restore" | "psql"): ClientTool | undefined {
  const which = spawnSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" });
  const path = which.stdout.trim();
  if (which.status !== 0 || !path || !existsSync(path)) return undefined;
  const version = spawnSync(path, ["--version"], { encoding: "utf8" });
  const match = /(\d+)(?:\.\d+)?/.exec(version.stdout);
  return match ? { path, major: Number(match[1]) } : undefined;
}

/** Servers the system pg_dump can dump (pg_dump refuses servers newer than itself). */
export function dumpableServers(): ServerInfo[] {
  const dump = clientTool("pg_dump");
  return dump ? testServers().filter((server) => server.major <= dump.major) : [];
}

/** Runs psql as a role against a database with libpq env (password via PGPASSWORD, not argv). */
export function runPsql(
  server: ServerInfo,
  args: string[],
  options: { database: string; user?: string },
): { status: number | null; stdout: string; stderr: string } {
  const psql = clientTool("psql");
  if (!psql) throw new Error("psql not found on PATH");
  const user = options.user ?? server.superuser;
  const password = user === server.superuser ? server.superuserPassword : rolePassword(user);
  const result = spawnSync(psql.path, ["-X", ...args], {
    encoding: "utf8",
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      PGHOST: server.host,
      PGPORT: String(server.port),
      PGUSER: user,
      PGDATABASE: options.database,
      ...(password ? { PGPASSWORD: password } : {}),
    },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

export interface NodeCliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a built CLI (its bin script) with exactly the given environment and stdin, asynchronously
 * so test files stay parallel. Callers choose the environment: a CLI test must not inherit PG*.
 */
export function runNodeCli(
  bin: string,
  args: string[],
  options: { env: NodeJS.ProcessEnv; stdin?: string; cwd?: string },
): Promise<NodeCliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], {
      env: options.env,
      cwd: options.cwd,
      stdio: ["pipe", "pipe", "pipe"],
    });
    child.stdin.end(options.stdin ?? "");
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    child.once("error", reject);
    child.once("close", (status) => resolve({ status, stdout, stderr }));
  });
}

/** The environment a CLI test starts from: PATH and an empty HOME (no ~/.pgpass), nothing else. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: "/nonexistent", ...extra };
}

/** The twelve tables the ws-q5 artifact creates, as the fixture plan names them. */
export const FIXTURE_TABLES: readonly string[] = (
  JSON.parse(readFileSync(join(FIXTURE_DIR, "plan.json"), "utf8")) as { target: { tables: string[] } }
).target.tables;

/** Every relation, constraint and column in cutter_governance: equal lists mean an unchanged catalog. */
export async function catalogState(server: ServerInfo, database: string): Promise<string[]> {
  const rows = await query<{ item: string }>(
    server,
    `select c.relname || ':' || c.relkind::text as item from pg_class c
       where c.relnamespace = 'cutter_governance'::regnamespace
     union all select conname || ':' || contype::text from pg_constraint where connamespace = 'cutter_governance'::regnamespace
     union all select attrelid::regclass::text || '.' || attname from pg_attribute
       where attrelid in (select oid from pg_class where relnamespace = 'cutter_governance'::regnamespace) and attnum > 0
     order by 1`,
    { database },
  );
  return rows.map((row) => row.item);
}
