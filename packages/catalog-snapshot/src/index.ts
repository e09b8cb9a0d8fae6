/**
 * @dieu44/catalog-snapshot: a consistent, read-only, deterministic snapshot of a PostgreSQL catalog.
 *
 * Everything is read inside one REPEATABLE READ, READ ONLY transaction (or, on request, inside the
 * caller's open transaction), with one set-based query per object kind. Large results are streamed
 * row by row straight into the document, so no second copy of the rows is held.
 */
import { type ConnectionOptions, describeConnection, resolveConnection, toPgConfig } from "@dieu44/plumbing/connection";
import { EnvironmentError, InputError } from "@dieu44/plumbing/exit";
import { redact } from "@dieu44/plumbing/redact";
import pg from "pg";
import QueryStream from "pg-query-stream";
import { compareText, computeFingerprint } from "./fingerprint.js";
import * as queries from "./queries.js";
import {
  type AclEntry,
  type CatalogSnapshot,
  type Column,
  type CompositeType,
  type Constraint,
  type ConstraintType,
  type Domain,
  type EnumType,
  type Extension,
  type ForeignKey,
  type Index,
  type RoleFacts,
  type Routine,
  type SchemaEntry,
  type Sequence,
  type ServerInfo,
  SNAPSHOT_FORMAT_VERSION,
  SNAPSHOT_KIND,
  type Table,
  type Trigger,
  type View,
} from "./schema.js";

export { canonicalJson, compareText, computeFingerprint, FINGERPRINT_DOMAIN } from "./fingerprint.js";
export { MIN_SERVER_VERSION_NUM } from "./queries.js";
export * from "./schema.js";

/** Connection options resolved with @dieu44/plumbing/connection (URL/DSN, then the libpq environment). */
export interface SnapshotConnectionOptions {
  url?: string;
  env?: NodeJS.ProcessEnv;
}

export interface SnapshotOptions {
  /** Schemas to snapshot; default every non-system schema. Absent ones are recorded with exists: false. */
  schemas?: string[];
  /** Roles whose attributes, memberships and schema privileges are recorded. */
  privilegesFor?: string[];
  /** statement_timeout for the catalog reads. Default 60000. */
  statementTimeoutMs?: number;
  /** application_name of the connection this function opens. Default "catalog-snapshot". */
  applicationName?: string;
  /** Called after each catalog query: `done` of `total` steps. */
  onProgress?: (done: number, total?: number) => void;
  /**
   * Read inside the caller's already-open transaction (to see its own uncommitted DDL): no
   * BEGIN/COMMIT; the reads run under a savepoint that is rolled back afterwards, so the
   * transaction's settings are left as they were. Only with a pg.Client target.
   */
  useCurrentTransaction?: boolean;
}

export const DEFAULT_STATEMENT_TIMEOUT_MS = 60_000;
export const DEFAULT_APPLICATION_NAME = "catalog-snapshot";

/** Rows per fetch of a streamed query: large enough to be fast, small enough to keep memory flat. */
const STREAM_BATCH_SIZE = 2000;

/** Takes a snapshot through a connected client (caller owns it) or a connection it opens and closes. */
export async function snapshot(
  target: pg.Client | SnapshotConnectionOptions,
  options: SnapshotOptions = {},
): Promise<CatalogSnapshot> {
  const timeout = options.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS;
  if (!Number.isInteger(timeout) || timeout < 0) throw new InputError("statementTimeoutMs must be a non-negative integer");
  if (target instanceof pg.Client) return snapshotWithClient(target, options);
  if (options.useCurrentTransaction) {
    throw new InputError("useCurrentTransaction needs a connected pg.Client whose transaction is open");
  }
  const spec = resolveConnection({
    url: target.url,
    env: target.env,
    applicationName: options.applicationName ?? DEFAULT_APPLICATION_NAME,
  } satisfies ConnectionOptions);
  const client = new pg.Client(toPgConfig(spec));
  // A server that goes away mid-snapshot surfaces as the failing query's error, not as a crash.
  client.on("error", () => undefined);
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    throw new EnvironmentError(`cannot connect to ${describeConnection(spec)}: ${errorText(error)}`, { cause: error });
  }
  try {
    return await snapshotWithClient(client, options);
  } finally {
    await client.end().catch(() => undefined);
  }
}

function errorText(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return errorText(error.errors[0]);
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return redact(error.message || (typeof code === "string" ? code : error.name));
  }
  return redact(String(error));
}

async function snapshotWithClient(client: pg.Client, options: SnapshotOptions): Promise<CatalogSnapshot> {
  const settings = queries.sessionSettingsSql(options.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS);
  if (options.useCurrentTransaction) {
    // A savepoint scopes our SET LOCALs: rolling back to it restores the caller's settings and
    // leaves its transaction (and its uncommitted DDL) exactly as it was, even if a read fails.
    try {
      await client.query("SAVEPOINT catalog_snapshot");
    } catch (error) {
      if ((error as { code?: unknown }).code === "25P01") {
        throw new InputError("useCurrentTransaction: the client has no open transaction", { cause: error });
      }
      throw error;
    }
    let doc: CatalogSnapshot;
    try {
      await client.query(settings);
      doc = await readCatalog(client, options);
    } catch (error) {
      await client.query("ROLLBACK TO SAVEPOINT catalog_snapshot; RELEASE SAVEPOINT catalog_snapshot").catch(() => undefined);
      throw error;
    }
    await client.query("ROLLBACK TO SAVEPOINT catalog_snapshot; RELEASE SAVEPOINT catalog_snapshot");
    return doc;
  }
  await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY");
  try {
    await client.query(settings);
    const doc = await readCatalog(client, options);
    await client.query("COMMIT");
    return doc;
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  }
}

/** Runs a query and hands each row to `onRow` as it arrives (a portal, fetched in batches). */
async function streamRows<R>(client: pg.Client, text: string, values: unknown[], onRow: (row: R) => void): Promise<void> {
  const stream = client.query(new QueryStream(text, values, { batchSize: STREAM_BATCH_SIZE }));
  for await (const row of stream) onRow(row as R);
}

function uniqueSorted(values: readonly string[]): string[] {
  return [...new Set(values)].sort(compareText);
}

const byQualifiedName = (a: { schema: string; name: string }, b: { schema: string; name: string }) =>
  compareText(a.schema, b.schema) || compareText(a.name, b.name);
const byName = (a: { name: string }, b: { name: string }) => compareText(a.name, b.name);

type RawAcl = { grantee: string; grantor: string; privileges: string[]; grantable: string[] };
function acl(raw: RawAcl[]): AclEntry[] {
  return raw
    .map((entry) => ({
      grantee: entry.grantee,
      grantor: entry.grantor,
      privileges: uniqueSorted(entry.privileges),
      grantable: uniqueSorted(entry.grantable),
    }))
    .sort((a, b) => compareText(a.grantee, b.grantee) || compareText(a.grantor, b.grantor));
}

const tableKinds: Record<string, Table["kind"]> = { r: "table", p: "partitioned_table", f: "foreign_table" };
const constraintTypes: Record<string, ConstraintType> = {
  p: "primary_key",
  f: "foreign_key",
  u: "unique",
  c: "check",
  x: "exclusion",
  t: "trigger",
};
const fkActions: Record<string, ForeignKey["onDelete"]> = {
  a: "no_action",
  r: "restrict",
  c: "cascade",
  n: "set_null",
  d: "set_default",
};
const fkMatch: Record<string, ForeignKey["match"]> = { s: "simple", f: "full", p: "partial" };
const routineKinds: Record<string, Routine["kind"]> = { f: "function", p: "procedure", a: "aggregate", w: "window" };
const volatilities: Record<string, Routine["volatility"]> = { i: "immutable", s: "stable", v: "volatile" };

function mapped<T>(table: Record<string, T>, code: string, what: string): T {
  const value = table[code];
  if (value === undefined) throw new EnvironmentError(`unexpected ${what} code "${code}" in the catalog`);
  return value;
}

async function readCatalog(client: pg.Client, options: SnapshotOptions): Promise<CatalogSnapshot> {
  const requestedSchemas = options.schemas ? uniqueSorted(options.schemas) : null;
  const roleNames = uniqueSorted(options.privilegesFor ?? []);
  const totalSteps = 15;
  let stepsDone = 0;
  const step = () => {
    stepsDone += 1;
    options.onProgress?.(stepsDone, totalSteps);
  };

  const serverRow = (await client.query(queries.serverInfoQuery)).rows[0] as Record<string, unknown>;
  const server: ServerInfo = {
    systemIdentifier: String(serverRow.system_identifier),
    serverVersion: String(serverRow.server_version),
    serverVersionNum: Number(serverRow.server_version_num),
    database: String(serverRow.database),
    currentUser: String(serverRow.current_user),
    sessionUser: String(serverRow.session_user),
    inRecovery: Boolean(serverRow.in_recovery),
    takenAt: String(serverRow.taken_at),
  };
  const version = server.serverVersionNum;
  if (version < queries.MIN_SERVER_VERSION_NUM) {
    throw new EnvironmentError(`PostgreSQL ${server.serverVersion} is not supported: catalog-snapshot needs 13 or newer`);
  }
  step();

  // Schemas: found ones with owner and ACL; requested but missing ones recorded as absent.
  const namespaceOids: number[] = [];
  const schemas: SchemaEntry[] = [];
  await streamRows<{ oid: number; name: string; owner: string; acl: RawAcl[] }>(
    client,
    queries.namespacesQuery,
    [requestedSchemas],
    (row) => {
      namespaceOids.push(row.oid);
      schemas.push({ name: row.name, exists: true, owner: row.owner, acl: acl(row.acl) });
    },
  );
  for (const name of requestedSchemas ?? []) {
    if (!schemas.some((schema) => schema.name === name)) schemas.push({ name, exists: false, owner: null, acl: [] });
  }
  schemas.sort(byName);
  step();
  const scope = [namespaceOids];

  const tablesByOid = new Map<number, Table>();
  await streamRows<{
    oid: number;
    schema: string;
    name: string;
    kind: string;
    persistence: string;
    owner: string;
    row_security: boolean;
    force_row_security: boolean;
    partition_of: string | null;
    acl: RawAcl[];
  }>(client, queries.tablesQuery, scope, (row) => {
    tablesByOid.set(row.oid, {
      schema: row.schema,
      name: row.name,
      kind: mapped(tableKinds, row.kind, "relkind"),
      persistence: row.persistence === "u" ? "unlogged" : "permanent",
      owner: row.owner,
      rowSecurity: row.row_security,
      forceRowSecurity: row.force_row_security,
      partitionOf: row.partition_of,
      columns: [],
      constraints: [],
      indexes: [],
      triggers: [],
      acl: acl(row.acl),
    });
  });
  step();

  await streamRows<{
    table_oid: number;
    position: number;
    name: string;
    type: string;
    not_null: boolean;
    default: string | null;
    identity: string;
    generated: string | null;
    generated_kind: string;
    collation: string | null;
  }>(client, queries.columnsQuery, scope, (row) => {
    const column: Column = {
      position: row.position,
      name: row.name,
      type: row.type,
      notNull: row.not_null,
      default: row.default,
      identity: row.identity === "a" ? "always" : row.identity === "d" ? "by_default" : null,
      generated: row.generated,
      generatedKind: row.generated_kind === "s" ? "stored" : row.generated_kind === "v" ? "virtual" : null,
      collation: row.collation,
    };
    tablesByOid.get(row.table_oid)?.columns.push(column);
  });
  step();

  await streamRows<{
    table_oid: number;
    name: string;
    type: string;
    definition: string;
    columns: string[];
    deferrable: boolean;
    initially_deferred: boolean;
    validated: boolean;
    nulls_not_distinct: boolean;
    ref_schema: string | null;
    ref_table: string | null;
    ref_columns: string[] | null;
    on_update: string;
    on_delete: string;
    match: string;
    index_name: string | null;
  }>(client, queries.constraintsQuery(version), scope, (row) => {
    const type = mapped(constraintTypes, row.type, "contype");
    const constraint: Constraint = {
      name: row.name,
      type,
      definition: row.definition,
      columns: row.columns,
      deferrable: row.deferrable,
      initiallyDeferred: row.initially_deferred,
      validated: row.validated,
      nullsNotDistinct: row.nulls_not_distinct,
      foreignKey:
        type === "foreign_key"
          ? {
              referencedSchema: row.ref_schema ?? "",
              referencedTable: row.ref_table ?? "",
              referencedColumns: row.ref_columns ?? [],
              onDelete: mapped(fkActions, row.on_delete, "confdeltype"),
              onUpdate: mapped(fkActions, row.on_update, "confupdtype"),
              match: mapped(fkMatch, row.match, "confmatchtype"),
            }
          : null,
      index: row.index_name,
    };
    tablesByOid.get(row.table_oid)?.constraints.push(constraint);
  });
  step();

  await streamRows<{
    table_oid: number;
    name: string;
    definition: string;
    unique: boolean;
    primary: boolean;
    valid: boolean;
    constraint_name: string | null;
  }>(client, queries.indexesQuery, scope, (row) => {
    const index: Index = {
      name: row.name,
      definition: row.definition,
      unique: row.unique,
      primary: row.primary,
      constraint: row.constraint_name,
      valid: row.valid,
    };
    tablesByOid.get(row.table_oid)?.indexes.push(index);
  });
  step();

  await streamRows<{ table_oid: number; name: string; definition: string; enabled: string }>(
    client,
    queries.triggersQuery,
    scope,
    (row) => {
      const trigger: Trigger = { name: row.name, definition: row.definition, enabled: row.enabled };
      tablesByOid.get(row.table_oid)?.triggers.push(trigger);
    },
  );
  step();

  const tables = [...tablesByOid.values()].sort(byQualifiedName);
  tablesByOid.clear();
  for (const table of tables) {
    table.columns.sort((a, b) => a.position - b.position);
    table.constraints.sort(
      (a, b) => compareText(a.name, b.name) || compareText(a.type, b.type) || compareText(a.definition, b.definition),
    );
    table.indexes.sort(byName);
    table.triggers.sort(byName);
  }

  const views: View[] = [];
  await streamRows<{ schema: string; name: string; kind: string; owner: string; definition: string; acl: RawAcl[] }>(
    client,
    queries.viewsQuery,
    scope,
    (row) => {
      views.push({
        schema: row.schema,
        name: row.name,
        kind: row.kind === "m" ? "materialized_view" : "view",
        owner: row.owner,
        definition: row.definition,
        acl: acl(row.acl),
      });
    },
  );
  views.sort(byQualifiedName);
  step();

  const sequences: Sequence[] = [];
  await streamRows<{
    schema: string;
    name: string;
    owner: string;
    data_type: string;
    start: string;
    increment: string;
    min: string;
    max: string;
    cycle: boolean;
    owned_schema: string | null;
    owned_table: string | null;
    owned_column: string | null;
    acl: RawAcl[];
  }>(client, queries.sequencesQuery, scope, (row) => {
    sequences.push({
      schema: row.schema,
      name: row.name,
      owner: row.owner,
      dataType: row.data_type,
      start: row.start,
      increment: row.increment,
      min: row.min,
      max: row.max,
      cycle: row.cycle,
      ownedBy:
        row.owned_schema !== null && row.owned_table !== null && row.owned_column !== null
          ? { schema: row.owned_schema, table: row.owned_table, column: row.owned_column }
          : null,
      acl: acl(row.acl),
    });
  });
  sequences.sort(byQualifiedName);
  step();

  const enums: EnumType[] = [];
  await streamRows<EnumType>(client, queries.enumsQuery, scope, (row) => {
    enums.push({ schema: row.schema, name: row.name, owner: row.owner, labels: row.labels });
  });
  enums.sort(byQualifiedName);
  step();

  const domains: Domain[] = [];
  await streamRows<{
    schema: string;
    name: string;
    owner: string;
    base_type: string;
    not_null: boolean;
    default: string | null;
    checks: { name: string; definition: string }[];
  }>(client, queries.domainsQuery, scope, (row) => {
    domains.push({
      schema: row.schema,
      name: row.name,
      owner: row.owner,
      baseType: row.base_type,
      notNull: row.not_null,
      default: row.default,
      checks: row.checks
        .map((check) => ({ name: check.name, definition: check.definition }))
        .sort((a, b) => compareText(a.name, b.name) || compareText(a.definition, b.definition)),
    });
  });
  domains.sort(byQualifiedName);
  step();

  const compositeTypes: CompositeType[] = [];
  await streamRows<CompositeType>(client, queries.compositeTypesQuery, scope, (row) => {
    compositeTypes.push({
      schema: row.schema,
      name: row.name,
      owner: row.owner,
      attributes: row.attributes.map((attribute) => ({ name: attribute.name, type: attribute.type })),
    });
  });
  compositeTypes.sort(byQualifiedName);
  step();

  const routines: Routine[] = [];
  await streamRows<{
    schema: string;
    name: string;
    identity_arguments: string;
    kind: string;
    returns: string | null;
    language: string;
    volatility: string;
    security_definer: boolean;
    owner: string;
    body_sha256: string;
    acl: RawAcl[];
  }>(client, queries.routinesQuery(version), scope, (row) => {
    routines.push({
      schema: row.schema,
      name: row.name,
      identityArguments: row.identity_arguments,
      kind: mapped(routineKinds, row.kind, "prokind"),
      returns: row.returns,
      language: row.language,
      volatility: mapped(volatilities, row.volatility, "provolatile"),
      securityDefiner: row.security_definer,
      owner: row.owner,
      bodySha256: row.body_sha256,
      acl: acl(row.acl),
    });
  });
  routines.sort((a, b) => byQualifiedName(a, b) || compareText(a.identityArguments, b.identityArguments));
  step();

  const extensions: Extension[] = [];
  await streamRows<Extension>(client, queries.extensionsQuery, [namespaceOids, requestedSchemas === null], (row) => {
    extensions.push({ name: row.name, version: row.version, schema: row.schema });
  });
  extensions.sort(byName);
  step();

  const roles: RoleFacts[] = [];
  if (roleNames.length > 0) {
    await streamRows<{
      name: string;
      exists: boolean;
      can_login: boolean;
      superuser: boolean;
      member_of: string[];
      schema_privileges: { schema: string; usage: boolean; create: boolean }[];
    }>(client, queries.rolesQuery, [roleNames, namespaceOids], (row) => {
      roles.push({
        name: row.name,
        exists: row.exists,
        canLogin: row.can_login,
        superuser: row.superuser,
        memberOf: uniqueSorted(row.member_of),
        schemaPrivileges: row.schema_privileges
          .map((privilege) => ({ schema: privilege.schema, usage: privilege.usage, create: privilege.create }))
          .sort((a, b) => compareText(a.schema, b.schema)),
      });
    });
  }
  roles.sort(byName);
  step();

  const content: Omit<CatalogSnapshot, "fingerprint"> = {
    kind: SNAPSHOT_KIND,
    formatVersion: SNAPSHOT_FORMAT_VERSION,
    server,
    scope: { schemas: requestedSchemas, privilegesFor: roleNames },
    schemas,
    tables,
    views,
    sequences,
    enums,
    domains,
    compositeTypes,
    routines,
    extensions,
    roles,
  };
  const fingerprint = computeFingerprint(content);
  // Key order of the output: kind, formatVersion, fingerprint, server, then the content.
  const { kind, formatVersion, server: header, ...rest } = content;
  return { kind, formatVersion, fingerprint, server: header, ...rest };
}
