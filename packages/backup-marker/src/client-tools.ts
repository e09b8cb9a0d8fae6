/**
 * The system's PostgreSQL client binaries (pg_dump, pg_restore): where they are, which major
 * version they are, and the environment they run with (connection and password via libpq
 * environment variables, never on the command line where `ps` shows it).
 */
import { execFile, spawn } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { delimiter, dirname, isAbsolute, join, resolve } from "node:path";
import { type ConnectionSpec, toLibpqEnv } from "@dieu44/plumbing/connection";
import { EnvironmentError } from "@dieu44/plumbing/exit";
import { redact } from "@dieu44/plumbing/redact";

export interface ClientBinary {
  path: string;
  /** First line of `--version`, e.g. "pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)". */
  version: string;
  /** Comparable like server_version_num's major part: 15 for 15.x; 9.6 counts as 9.6 (pre-10 scheme). */
  major: number;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Resolves a binary name on PATH (or checks an explicit path). */
export function findBinary(nameOrPath: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (nameOrPath.includes("/")) {
    const path = isAbsolute(nameOrPath) ? nameOrPath : resolve(nameOrPath);
    return isExecutable(path) ? path : undefined;
  }
  for (const dir of (env.PATH ?? "").split(delimiter)) {
    if (!dir) continue;
    const path = join(dir, nameOrPath);
    if (isExecutable(path)) return path;
  }
  return undefined;
}

/** Major version from a version string: "15.18" → 15, "9.6.24" → 9.6. */
export function majorOf(version: string): number | undefined {
  const match = /(\d+)(?:\.(\d+))?/.exec(version.replace(/^[^\d]*/, ""));
  if (!match) return undefined;
  const first = Number(match[1]);
  return first < 10 && match[2] !== undefined ? Number(`${first}.${match[2]}`) : first;
}

/** Major version of a server from server_version_num (150004 → 15, 90624 → 9.6). */
export function serverMajor(versionNum: number): number {
  const major = Math.floor(versionNum / 10000);
  return major >= 10 ? major : Number(`${major}.${Math.floor(versionNum / 100) % 100}`);
}

/** Finds a client binary and reads its version; a missing or broken binary is an environment failure. */
export async function locateClient(name: "pg_dump" | "pg_restore", explicit?: string): Promise<ClientBinary> {
  const wanted = explicit ?? name;
  const path = findBinary(wanted);
  if (!path) {
    throw new EnvironmentError(
      explicit
        ? `${name} not found or not executable at ${explicit}`
        : `${name} not found on PATH: install the PostgreSQL client (postgresql-client) or pass its path`,
    );
  }
  const output = await new Promise<string>((resolvePromise, reject) => {
    execFile(path, ["--version"], { timeout: 15_000 }, (error, stdout) => {
      if (error) reject(new EnvironmentError(`${path} --version failed: ${redact(error.message)}`));
      else resolvePromise(stdout);
    });
  });
  const version = output.trim().split("\n")[0] ?? "";
  const major = majorOf(version);
  if (major === undefined || !/postgres/i.test(version)) {
    throw new EnvironmentError(`${path} does not look like ${name}: --version printed "${redact(version)}"`);
  }
  return { path, version, major };
}

/** pg_restore beside the given pg_dump when there is one (same version), else from PATH. */
export function siblingPath(binaryPath: string, name: string): string | undefined {
  const sibling = join(dirname(binaryPath), name);
  return isExecutable(sibling) ? sibling : undefined;
}

/** libpq variables that are not connection targets and may pass through to the child unchanged. */
const passThrough = [
  "PGPASSFILE",
  "PGSSLROOTCERT",
  "PGSSLCERT",
  "PGSSLKEY",
  "PGSSLCRL",
  "PGSSLCRLDIR",
  "PGSSLSNI",
  "PGREQUIRESSL",
  "PGGSSENCMODE",
  "PGKRBSRVNAME",
  "PGTARGETSESSIONATTRS",
  "PGCLIENTENCODING",
  "PGOPTIONS",
];

/**
 * The child's environment: the caller's environment without any PG* variable (they were already
 * resolved into `spec`, possibly overridden by --url), a few non-target libpq settings, then the
 * resolved connection including the password as PGPASSWORD.
 */
export function childEnv(spec: ConnectionSpec, connectionEnv: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith("PG")) env[key] = value;
  for (const key of passThrough) if (connectionEnv[key]) env[key] = connectionEnv[key];
  return { ...env, ...toLibpqEnv(spec) };
}

export interface RunResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  /** The last few KiB of stderr, redacted. */
  stderr: string;
}

/** Keeps only the tail of a stream's text (errors are at the end; memory stays bounded). */
export class TailBuffer {
  private text = "";
  constructor(private readonly limit = 8192) {}
  push(chunk: Buffer | string): void {
    this.text += chunk.toString();
    if (this.text.length > this.limit * 2) this.text = this.text.slice(-this.limit);
  }
  toString(): string {
    return redact(this.text.slice(-this.limit).trim());
  }
}

/** Runs a client binary to completion, collecting stdout and the tail of stderr. */
export function runClient(path: string, args: string[], env: NodeJS.ProcessEnv): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(path, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    const stdout: Buffer[] = [];
    const stderr = new TailBuffer();
    child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
    child.once("error", (error) => reject(new EnvironmentError(`cannot run ${path}: ${redact(error.message)}`)));
    child.once("close", (exitCode, signal) =>
      resolvePromise({ exitCode, signal, stdout: Buffer.concat(stdout).toString("utf8"), stderr: stderr.toString() }),
    );
  });
}

/** The last meaningful line of a client's stderr, for a one-line check detail. */
export function lastLines(text: string, count = 3): string {
  const lines = text
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean);
  return lines.slice(-count).join(" | ") || "(no message)";
}
