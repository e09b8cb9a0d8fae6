/**
 * Connection options from `--url`/`--dsn` or the standard libpq environment, resolved once and
 * handed both to node-postgres and (as environment variables, never argv) to libpq child processes.
 */
import { readFileSync } from "node:fs";
import { homedir, userInfo } from "node:os";
import { join } from "node:path";
import type { ClientConfig } from "pg";
import { InputError } from "./exit.js";
import { registerSecret } from "./redact.js";

export type SslMode = "disable" | "allow" | "prefer" | "require" | "verify-ca" | "verify-full";
const sslModes: readonly SslMode[] = ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"];

export interface ConnectionSpec {
  host: string;
  port: number;
  user: string;
  database: string;
  /** Absent when libpq should find it (pgpass) or none is needed. */
  password?: string;
  sslmode?: SslMode;
  applicationName?: string;
  connectTimeoutSeconds?: number;
}

export interface ConnectionOptions {
  /** A `postgres://` URL or a libpq `key=value` DSN. */
  url?: string;
  /** Defaults to process.env; tests pass their own. */
  env?: NodeJS.ProcessEnv;
  applicationName?: string;
}

type Params = Partial<Record<string, string>>;

function parseUrl(url: string): Params {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InputError("--url is not a valid postgres:// URL or key=value DSN");
  }
  if (parsed.protocol !== "postgres:" && parsed.protocol !== "postgresql:") {
    throw new InputError(`--url must start with postgres:// or postgresql://, not ${parsed.protocol}//`);
  }
  const params: Params = {};
  if (parsed.hostname) params.host = decodeURIComponent(parsed.hostname.replace(/^\[|\]$/g, ""));
  if (parsed.port) params.port = parsed.port;
  if (parsed.username) params.user = decodeURIComponent(parsed.username);
  if (parsed.password) params.password = decodeURIComponent(parsed.password);
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ""));
  if (database) params.dbname = database;
  for (const [key, value] of parsed.searchParams) params[key] = value;
  return params;
}

/** Parses a libpq `key=value key='quoted value'` connection string. */
function parseDsn(dsn: string): Params {
  const params: Params = {};
  const pattern = /\s*([a-z_]+)\s*=\s*(?:'((?:[^'\\]|\\.)*)'|(\S*))/gy;
  let match: RegExpExecArray | null = pattern.exec(dsn);
  let consumed = 0;
  while (match) {
    const key = match[1] as string;
    params[key] = match[2] !== undefined ? match[2].replace(/\\(.)/g, "$1") : (match[3] ?? "");
    consumed = pattern.lastIndex;
    match = pattern.exec(dsn);
  }
  if (dsn.slice(consumed).trim() !== "") throw new InputError("--url is not a valid postgres:// URL or key=value DSN");
  return params;
}

/** Reads one service's section from the pg_service.conf files libpq would read. */
function readService(name: string, env: NodeJS.ProcessEnv): Params {
  const candidates = [
    env.PGSERVICEFILE,
    join(env.HOME ?? homedir(), ".pg_service.conf"),
    env.PGSYSCONFDIR ? join(env.PGSYSCONFDIR, "pg_service.conf") : "/etc/postgresql-common/pg_service.conf",
  ].filter((file): file is string => Boolean(file));
  for (const file of candidates) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch {
      continue;
    }
    const params: Params = {};
    let inSection = false;
    let found = false;
    for (const raw of text.split(/\r?\n/)) {
      const line = raw.trim();
      if (!line || line.startsWith("#")) continue;
      const section = /^\[(.+)\]$/.exec(line);
      if (section) {
        inSection = section[1] === name;
        found ||= inSection;
        continue;
      }
      const eq = line.indexOf("=");
      if (inSection && eq > 0) params[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
    }
    if (found) return params;
  }
  throw new InputError(`PostgreSQL service "${name}" not found in any pg_service.conf`);
}

function fromEnv(env: NodeJS.ProcessEnv): Params {
  const params: Params = {};
  const map: Record<string, string> = {
    PGHOST: "host",
    PGPORT: "port",
    PGUSER: "user",
    PGDATABASE: "dbname",
    PGPASSWORD: "password",
    PGSSLMODE: "sslmode",
    PGAPPNAME: "application_name",
    PGCONNECT_TIMEOUT: "connect_timeout",
  };
  for (const [variable, key] of Object.entries(map)) {
    const value = env[variable];
    if (value) params[key] = value;
  }
  return params;
}

/**
 * Resolves connection parameters as libpq would: explicit URL/DSN first, then the service
 * (PGSERVICE or service=), then PG* environment variables, then defaults.
 */
export function resolveConnection(options: ConnectionOptions = {}): ConnectionSpec {
  const env = options.env ?? process.env;
  const explicit: Params = options.url
    ? /^[a-z]+:\/\//i.test(options.url.trim())
      ? parseUrl(options.url.trim())
      : parseDsn(options.url)
    : {};
  const environment = fromEnv(env);
  const serviceName = explicit.service ?? env.PGSERVICE;
  const service = serviceName ? readService(serviceName, env) : {};
  const pick = (key: string): string | undefined => explicit[key] ?? environment[key] ?? service[key];

  const user = pick("user") ?? safeUsername();
  const portText = pick("port") ?? "5432";
  const port = Number(portText);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new InputError(`invalid port "${portText}"`);
  const sslmode = pick("sslmode");
  if (sslmode !== undefined && !sslModes.includes(sslmode as SslMode)) {
    throw new InputError(`invalid sslmode "${sslmode}" (expected one of ${sslModes.join(", ")})`);
  }
  const password = pick("password");
  // Every password in sight is a secret, also those that lost to a higher-priority source.
  for (const secret of [explicit.password, environment.password, service.password]) registerSecret(secret);
  const timeout = pick("connect_timeout");
  const spec: ConnectionSpec = {
    host: pick("host") ?? "localhost",
    port,
    user,
    database: pick("dbname") ?? user,
  };
  if (password !== undefined) spec.password = password;
  if (sslmode !== undefined) spec.sslmode = sslmode as SslMode;
  const applicationName = options.applicationName ?? pick("application_name");
  if (applicationName) spec.applicationName = applicationName;
  if (timeout && Number(timeout) > 0) spec.connectTimeoutSeconds = Number(timeout);
  return spec;
}

function safeUsername(): string {
  try {
    return userInfo().username;
  } catch {
    return "postgres";
  }
}

/** node-postgres configuration. With no password, node-postgres reads ~/.pgpass (PGPASSFILE) itself. */
export function toPgConfig(spec: ConnectionSpec): ClientConfig {
  const config: ClientConfig = {
    host: spec.host,
    port: spec.port,
    user: spec.user,
    database: spec.database,
    connectionTimeoutMillis: (spec.connectTimeoutSeconds ?? 10) * 1000,
  };
  if (spec.password !== undefined) config.password = spec.password;
  if (spec.applicationName) config.application_name = spec.applicationName;
  // node-postgres cannot fall back from TLS to plain, so allow/prefer connect without TLS.
  if (spec.sslmode === "require") config.ssl = { rejectUnauthorized: false };
  if (spec.sslmode === "verify-ca" || spec.sslmode === "verify-full") config.ssl = { rejectUnauthorized: true };
  return config;
}

/** Environment for libpq child processes (pg_dump, pg_restore, psql): the password never goes on argv. */
export function toLibpqEnv(spec: ConnectionSpec): Record<string, string> {
  const env: Record<string, string> = {
    PGHOST: spec.host,
    PGPORT: String(spec.port),
    PGUSER: spec.user,
    PGDATABASE: spec.database,
  };
  if (spec.password !== undefined) env.PGPASSWORD = spec.password;
  if (spec.sslmode) env.PGSSLMODE = spec.sslmode;
  if (spec.applicationName) env.PGAPPNAME = spec.applicationName;
  if (spec.connectTimeoutSeconds) env.PGCONNECT_TIMEOUT = String(spec.connectTimeoutSeconds);
  return env;
}

/** A URL for display: never carries the password. */
export function describeConnection(spec: ConnectionSpec): string {
  const host = spec.host.startsWith("/") ? `?host=${encodeURIComponent(spec.host)}` : "";
  const authority = spec.host.startsWith("/") ? "" : `${spec.host.includes(":") ? `[${spec.host}]` : spec.host}:${spec.port}`;
  const query = [host.slice(1), spec.sslmode ? `sslmode=${spec.sslmode}` : ""].filter(Boolean).join("&");
  return `postgres://${encodeURIComponent(spec.user)}@${authority}/${encodeURIComponent(spec.database)}${query ? `?${query}` : ""}`;
}

/** The same connection as another role or database (roles are never switched inside a session). */
export function withOverrides(spec: ConnectionSpec, overrides: Partial<ConnectionSpec>): ConnectionSpec {
  return { ...spec, ...overrides };
}
