/** Facts about the server and session, read from the server itself. */
import { type ConnectionSpec, describeConnection, toPgConfig } from "@dieu44/plumbing/connection";
import { EnvironmentError } from "@dieu44/plumbing/exit";
import { redact } from "@dieu44/plumbing/redact";
import pg from "pg";
import type { ServerFacts } from "./schema.js";

export interface SessionFacts {
  server: ServerFacts;
  /** current_user of a session opened with the same connection settings. */
  role: string;
}

/** Opens a client; failing to connect or log in is an environment failure (exit 3), redacted. */
export async function connect(spec: ConnectionSpec): Promise<pg.Client> {
  const client = new pg.Client({ ...toPgConfig(spec), application_name: spec.applicationName ?? "backup-marker" });
  // An idle connection dropped by the server must not crash the process.
  client.on("error", () => undefined);
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    throw new EnvironmentError(`cannot connect to ${describeConnection(spec)}: ${redact((error as Error).message)}`, {
      cause: error,
    });
  }
  return client;
}

export async function readSessionFacts(client: pg.Client): Promise<SessionFacts> {
  const { rows } = await client.query<{
    version: string;
    num: string;
    ident: string;
    database: string;
    role: string;
  }>(
    `select current_setting('server_version') as version,
            current_setting('server_version_num') as num,
            (select system_identifier::text from pg_control_system()) as ident,
            current_database() as database,
            current_user as role`,
  );
  const row = rows[0];
  if (!row) throw new EnvironmentError("the server returned no facts about itself");
  return {
    server: {
      systemIdentifier: row.ident,
      version: row.version,
      versionNum: Number(row.num),
      database: row.database,
    },
    role: row.role,
  };
}

/** Relations and non-default schemas outside the system schemas: a scratch database has none. */
export async function countUserObjects(client: pg.Client): Promise<number> {
  const { rows } = await client.query<{ count: string }>(
    `select (select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace
             where n.nspname not in ('pg_catalog', 'information_schema')
               and n.nspname not like 'pg\\_toast%' and n.nspname not like 'pg\\_temp%')
          + (select count(*) from pg_namespace
             where nspname not in ('pg_catalog', 'information_schema', 'public')
               and nspname not like 'pg\\_toast%' and nspname not like 'pg\\_temp%') as count`,
  );
  return Number(rows[0]?.count ?? 0);
}
