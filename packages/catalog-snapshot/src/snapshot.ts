/**
 * Taking a snapshot: transactions, connections and the assembly of the document.
 *
 * Everything is read inside one REPEATABLE READ, READ ONLY transaction (or, on request, inside the
 * caller's open transaction), with one set-based query per object kind. Large results are streamed
 * row by row straight into the document, so no second copy of the rows is held. When this module
 * opens the connection itself and the scope holds many tables, the per-table queries are split
 * over a few extra connections that import the same exported snapshot: the same consistent view,
 * read by several backends at once.
 *
 * No zod here: the CLI loads only this module, and the schema is used for types alone.
 */
import { describeConnection, resolveConnection, toPgConfig } from "@dieu44/plumbing/connection";
import { EnvironmentError, errorMessage, InputError } from "@dieu44/plumbing/exit";
import { redact } from "@dieu44/plumbing/redact";
import pg from "pg";
import { AclReader, parseAcl } from "./acl.js";
import {
  DEFAULT_APPLICATION_NAME,
  DEFAULT_LOCK_TIMEOUT_MS,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_STATEMENT_TIMEOUT_MS,
} from "./defaults.js";
import {
  type ColumnFacts,
  type ColumnFactsRow,
  type ColumnsByPosition,
  columnFactsOf,
  DefinitionComposer,
  type DefinitionFactsRow,
  definitionFactsOf,
  type IndexStructureRow,
  indexStructureOf,
  vectorOf,
} from "./definitions.js";
import { compareText, fingerprintOfBuiltDocument, type SnapshotContent, withFingerprint } from "./fingerprint.js";
import * as queries from "./queries.js";
import type {
  CatalogSnapshot,
  CompositeType,
  Constraint,
  ConstraintType,
  Domain,
  EnumType,
  Extension,
  ForeignKey,
  RoleFacts,
  Routine,
  SchemaEntry,
  Sequence,
  ServerInfo,
  Table,
  View,
} from "./schema.js";
import { StringPool } from "./string-pool.js";

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
  /**
   * lock_timeout for the catalog reads: pg_get_indexdef and its kin wait while another session
   * holds a table in ACCESS EXCLUSIVE mode. Default 10000 on connections this function opens; on
   * a caller's client, the session's own setting unless given.
   */
  lockTimeoutMs?: number;
  /** application_name of the connections this function opens. Default "catalog-snapshot". */
  applicationName?: string;
  /** Called after each catalog query: `done` of `total` steps. */
  onProgress?: (done: number, total?: number) => void;
  /**
   * Read inside the caller's already-open transaction (to see its own uncommitted DDL): no
   * BEGIN/COMMIT; the reads run under a savepoint that is rolled back afterwards, so the
   * transaction's settings are left as they were. Only with a pg.Client target.
   */
  useCurrentTransaction?: boolean;
  /**
   * Most connections to read with when this function connects itself (default 2; 1 = never in
   * parallel). Extra connections are opened only for scopes of PARALLEL_MIN_TABLES tables or more.
   */
  maxConnections?: number;
  /** Fewest tables in scope for which extra connections are opened (default PARALLEL_MIN_TABLES). */
  parallelMinTables?: number;
}

export { DEFAULT_APPLICATION_NAME, DEFAULT_LOCK_TIMEOUT_MS, DEFAULT_MAX_CONNECTIONS, DEFAULT_STATEMENT_TIMEOUT_MS };
/** Below this many tables, extra connections cost more than they save. */
export const PARALLEL_MIN_TABLES = 1000;

const SNAPSHOT_KIND: CatalogSnapshot["kind"] = "catalog-snapshot";
const SNAPSHOT_FORMAT_VERSION: CatalogSnapshot["formatVersion"] = 1;

/** Takes a snapshot through a connected client (caller owns it) or connections it opens and closes. */
export async function snapshot(
  target: pg.Client | SnapshotConnectionOptions,
  options: SnapshotOptions = {},
): Promise<CatalogSnapshot> {
  const content = await snapshotContent(target, options);
  return withFingerprint(content, fingerprintOfBuiltDocument(content));
}

/**
 * `snapshot` without the fingerprint, for a writer that hashes the document while it writes it
 * (output.ts writeSnapshot) rather than serialising it once more beforehand.
 */
export async function snapshotContent(
  target: pg.Client | SnapshotConnectionOptions,
  options: SnapshotOptions = {},
): Promise<SnapshotContent> {
  const timeout = options.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS;
  if (!Number.isInteger(timeout) || timeout < 0) throw new InputError("statementTimeoutMs must be a non-negative integer");
  const lockTimeout = options.lockTimeoutMs;
  if (lockTimeout !== undefined && (!Number.isInteger(lockTimeout) || lockTimeout < 0)) {
    throw new InputError("lockTimeoutMs must be a non-negative integer");
  }
  try {
    return await snapshotOf(target, options);
  } catch (error) {
    if ((error as { code?: unknown }).code === "55P03") throw new CatalogLockTimeoutError(options, error);
    throw error;
  }
}

/**
 * A catalog read gave up waiting for a lock (lock_timeout): another session holds a table in
 * scope in ACCESS EXCLUSIVE mode. Keeps SQLSTATE 55P03 as `code` for callers that tell a lock
 * wait from other failures.
 */
export class CatalogLockTimeoutError extends EnvironmentError {
  readonly code = "55P03";
  constructor(options: SnapshotOptions, cause: unknown) {
    const limit = options.lockTimeoutMs === undefined ? "its lock_timeout" : `lock_timeout (${options.lockTimeoutMs} ms)`;
    super(
      `a catalog read waited longer than ${limit} for a lock another session holds on an object in scope ` +
        "(ACCESS EXCLUSIVE: DDL or LOCK TABLE in progress); take the snapshot once it is released",
      { cause },
    );
  }
}

async function snapshotOf(target: pg.Client | SnapshotConnectionOptions, options: SnapshotOptions): Promise<SnapshotContent> {
  const maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
  if (!Number.isInteger(maxConnections) || maxConnections < 1) throw new InputError("maxConnections must be a positive integer");
  if (target instanceof pg.Client) {
    if (options.useCurrentTransaction) return snapshotInCurrentTransaction(target, options);
    return snapshotInOwnTransaction(target, options, null);
  }
  if (options.useCurrentTransaction) {
    throw new InputError("useCurrentTransaction needs a connected pg.Client whose transaction is open");
  }
  const spec = resolveConnection({
    url: target.url,
    env: target.env,
    applicationName: options.applicationName ?? DEFAULT_APPLICATION_NAME,
  });
  const openConnection = async (): Promise<pg.Client> => {
    const client = new pg.Client(toPgConfig(spec));
    // A server that goes away mid-snapshot surfaces as the failing query's error, not as a crash.
    client.on("error", () => undefined);
    try {
      await client.connect();
    } catch (error) {
      await client.end().catch(() => undefined);
      throw new EnvironmentError(`cannot connect to ${describeConnection(spec)}: ${redact(errorMessage(error))}`, {
        cause: error,
      });
    }
    return client;
  };
  const leader = await openConnection();
  const workers: pg.Client[] = [];
  let opening: Promise<unknown> = Promise.resolve();
  try {
    return await snapshotInOwnTransaction(leader, options, async (count) => {
      const attempts = Promise.allSettled(Array.from({ length: count }, () => openConnection()));
      opening = attempts;
      for (const result of await attempts) if (result.status === "fulfilled") workers.push(result.value);
      // Too few connections available (max_connections) is no reason to fail: read with fewer.
      return workers;
    });
  } finally {
    // Connections still being opened when a read failed are closed too, never leaked.
    await opening;
    await Promise.all([leader, ...workers].map((client) => client.end().catch(() => undefined)));
  }
}

/** Opens up to `count` extra connections (those it could open), or null when this caller owns none. */
type WorkerFactory = ((count: number) => Promise<pg.Client[]>) | null;

async function snapshotInCurrentTransaction(client: pg.Client, options: SnapshotOptions): Promise<SnapshotContent> {
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
  const restore = "ROLLBACK TO SAVEPOINT catalog_snapshot; RELEASE SAVEPOINT catalog_snapshot";
  let doc: SnapshotContent;
  try {
    await client.query(sessionSettings(options, false));
    doc = await readCatalog(client, options, null);
  } catch (error) {
    await client.query(restore).catch(() => undefined);
    throw error;
  }
  await client.query(restore);
  return doc;
}

async function snapshotInOwnTransaction(
  client: pg.Client,
  options: SnapshotOptions,
  openWorkers: WorkerFactory,
): Promise<SnapshotContent> {
  // Inside a transaction block a plain BEGIN only warns (25001), where BEGIN ISOLATION LEVEL could
  // fail and abort the caller's transaction; committing it would be worse. So: plain BEGIN, refuse
  // if it warned, then set the characteristics.
  let alreadyInTransaction = false;
  const onNotice = (notice: { code?: string }) => {
    if (notice.code === "25001") alreadyInTransaction = true;
  };
  client.on("notice", onNotice);
  try {
    await client.query("BEGIN");
  } finally {
    client.removeListener("notice", onNotice);
  }
  if (alreadyInTransaction) {
    throw new InputError("the client is already in a transaction: pass useCurrentTransaction to read inside it");
  }
  try {
    await client.query(
      `SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY; ${sessionSettings(options, openWorkers !== null)}`,
    );
    const doc = await readCatalog(client, options, openWorkers);
    await client.query("COMMIT");
    return doc;
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  }
}

/** The SET LOCALs of a read; `ownConnection`: opened by this package, so its lock_timeout is ours to set. */
function sessionSettings(options: SnapshotOptions, ownConnection: boolean): string {
  const lockTimeout = options.lockTimeoutMs ?? (ownConnection ? DEFAULT_LOCK_TIMEOUT_MS : null);
  return queries.sessionSettingsSql(options.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS, lockTimeout);
}

/**
 * Runs a query and hands each row to `onRow` as it arrives. A plain query with a row listener,
 * which pg does not accumulate: the server sends the whole result without waiting, computing the
 * next rows while this side decodes the last ones, and each row is dropped once handled. (A
 * cursor, as pg-query-stream reads, waits for a round trip between batches and holds each batch
 * whole before handing it over: 10,000 tables took 0.15 to 0.3 s longer that way.) After a failing
 * `onRow` the rest of the rows are left alone, and the query fails with that error once the server
 * has sent them.
 */
function streamRows<R extends pg.QueryResultRow>(
  client: pg.Client,
  text: string,
  values: unknown[],
  onRow: (row: R) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const query = client.query(new pg.Query<R>(text, values));
    let failure: unknown = null;
    query.on("row", (row: R) => {
      if (failure !== null) return;
      try {
        onRow(row);
      } catch (error) {
        failure = error;
      }
    });
    query.once("error", reject);
    query.once("end", () => (failure === null ? resolve() : reject(failure)));
  });
}

function uniqueSorted(values: readonly string[]): string[] {
  return [...new Set(values)].sort(compareText);
}

const byQualifiedName = (a: { schema: string; name: string }, b: { schema: string; name: string }) =>
  compareText(a.schema, b.schema) || compareText(a.name, b.name);
const byName = (a: { name: string }, b: { name: string }) => compareText(a.name, b.name);

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

/** Steps reported through onProgress: the fixed queries plus six per-table queries per connection. */
class ProgressCounter {
  private done = 0;
  constructor(
    private total: number,
    private readonly report?: (done: number, total?: number) => void,
  ) {}
  addToTotal(steps: number): void {
    this.total += steps;
  }
  step(): void {
    this.done += 1;
    this.report?.(this.done, this.total);
  }
}

async function readServerInfo(client: pg.Client): Promise<ServerInfo> {
  const row = (await client.query(queries.serverInfoQuery)).rows[0] as Record<string, unknown>;
  const server: ServerInfo = {
    currentUser: String(row.current_user),
    database: String(row.database),
    inRecovery: Boolean(row.in_recovery),
    serverVersion: String(row.server_version),
    serverVersionNum: Number(row.server_version_num),
    sessionUser: String(row.session_user),
    systemIdentifier: String(row.system_identifier),
    takenAt: String(row.taken_at),
  };
  if (server.serverVersionNum < queries.MIN_SERVER_VERSION_NUM) {
    throw new EnvironmentError(`PostgreSQL ${server.serverVersion} is not supported: catalog-snapshot needs 13 or newer`);
  }
  return server;
}

/**
 * What a foreign key row carries beyond the document, kept until every partition is read: the
 * referenced table may be in another.
 */
interface PendingForeignKey {
  oid: number;
  table: Table;
  constraint: Constraint;
  /** The constraint's own foreignKey member, completed at the end. */
  foreignKey: ForeignKey;
  key: number[];
  refOid: number;
  refKey: number[];
  /** Raw confmatchtype, confupdtype, confdeltype, for composing the definition. */
  match: string;
  onUpdate: string;
  onDelete: string;
}

/** What a PRIMARY KEY, UNIQUE or exclusion constraint needs of its backing index. */
interface IndexLink {
  entry: Table["indexes"][number];
  key: number[];
  keyCount: number;
  nullsNotDistinct: boolean;
}

/**
 * Everything the per-table queries read, from all connections. Definitions are composed as their
 * rows arrive (a table's columns, indexes and constraints are read on the same connection, in that
 * order), so that nothing but the document and the foreign keys outlives a partition's reads: kept
 * to the end, the columns' type facts and the indexes' structure added 14 MB to the peak at 10,000
 * tables, all of it promoted to the old generation.
 */
interface TableReadings {
  tablesByOid: Map<number, Table>;
  pendingForeignKeys: PendingForeignKey[];
  /** Definitions not composed here, asked of the server in one query once everything is read. */
  indexesLeft: Map<number, Table["indexes"][number]>;
  constraintsLeft: Map<number, Constraint>;
  composer: DefinitionComposer;
  /** One copy of each repeated text and of each common ACL. */
  strings: StringPool;
  acls: AclReader;
}

/**
 * Reads the tables of one partition (all of them when partitions = 1) with their columns,
 * defaults, indexes, constraints and triggers, in that order on one connection.
 */
async function readTablePartition(
  client: pg.Client,
  scope: [number[], number, number, number[]],
  versionNum: number,
  readings: TableReadings,
  progress: ProgressCounter,
): Promise<void> {
  const { tablesByOid, pendingForeignKeys, indexesLeft, constraintsLeft, composer, strings, acls } = readings;
  // This partition's tables only, and only while its reads last.
  const columnsByTable = new Map<number, (ColumnFacts | undefined)[]>();
  const indexesByOid = new Map<number, IndexLink>();
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
    acl: string[];
  }>(client, queries.tablesQuery, scope, (row) => {
    tablesByOid.set(row.oid, {
      acl: acls.read(row.acl),
      columns: [],
      constraints: [],
      forceRowSecurity: row.force_row_security,
      indexes: [],
      kind: mapped(tableKinds, row.kind, "relkind"),
      name: row.name,
      owner: strings.intern(row.owner),
      partitionOf: row.partition_of,
      persistence: row.persistence === "u" ? "unlogged" : "permanent",
      rowSecurity: row.row_security,
      schema: strings.intern(row.schema),
      triggers: [],
    });
  });
  progress.step();

  await streamRows<
    {
      table_oid: number;
      position: number;
      name: string;
      type: string;
      not_null: boolean;
      identity: string;
      generated_kind: string;
      collation: string | null;
    } & ColumnFactsRow
  >(client, queries.columnsQuery, scope, (row) => {
    const table = tablesByOid.get(row.table_oid);
    if (!table) return;
    let facts = columnsByTable.get(row.table_oid);
    if (!facts) {
      facts = [];
      columnsByTable.set(row.table_oid, facts);
    }
    const name = strings.intern(row.name);
    facts[row.position] = columnFactsOf(row, name);
    table.columns.push({
      collation: strings.internOrNull(row.collation),
      default: null,
      generated: null,
      generatedKind: row.generated_kind === "s" ? "stored" : row.generated_kind === "v" ? "virtual" : null,
      identity: row.identity === "a" ? "always" : row.identity === "d" ? "by_default" : null,
      name,
      notNull: row.not_null,
      position: row.position,
      type: strings.intern(row.type),
    });
  });
  progress.step();

  // Columns arrive in no particular order; defaults find theirs by position.
  await streamRows<{ table_oid: number; position: number; expression: string }>(client, queries.defaultsQuery, scope, (row) => {
    const column = tablesByOid.get(row.table_oid)?.columns.find((entry) => entry.position === row.position);
    if (!column) return;
    // For a generated column, pg_attrdef holds the generation expression, not a default.
    if (column.generatedKind) column.generated = strings.intern(row.expression);
    else column.default = strings.intern(row.expression);
  });
  progress.step();

  await streamRows<
    {
      table_oid: number;
      oid: number;
      definition: string | null;
      primary: boolean;
      valid: boolean;
    } & IndexStructureRow
  >(client, queries.indexesQuery(versionNum), scope, (row) => {
    const table = tablesByOid.get(row.table_oid);
    if (!table) return;
    const entry = {
      constraint: null,
      // Null when the query left it to the client; then composed, or else asked of the server.
      definition: row.definition as string,
      name: row.name,
      primary: row.primary,
      unique: row.unique,
      valid: row.valid,
    };
    table.indexes.push(entry);
    const structure = indexStructureOf(row, table.schema, table.name);
    if (entry.definition === null) {
      const composed = composer.indexDefinition(structure, columnsByTable.get(row.table_oid) ?? []);
      if (composed === null) indexesLeft.set(row.oid, entry);
      else entry.definition = composed;
    }
    indexesByOid.set(row.oid, {
      entry,
      key: structure.key,
      keyCount: structure.keyCount,
      nullsNotDistinct: structure.nullsNotDistinct,
    });
  });
  progress.step();

  await streamRows<{
    oid: number;
    table_oid: number;
    name: string;
    type: string;
    definition: string | null;
    key: string | null;
    deferrable: boolean;
    initially_deferred: boolean;
    validated: boolean;
    ref_oid: number;
    ref_key: string | null;
    on_update: string;
    on_delete: string;
    match: string;
    index_oid: number;
  }>(client, queries.constraintsQuery(versionNum), scope, (row) => {
    const table = tablesByOid.get(row.table_oid);
    if (!table) return;
    const type = mapped(constraintTypes, row.type, "contype");
    const columns = columnsByTable.get(row.table_oid);
    const key = vectorOf(row.key ?? "");
    const constraint: Constraint = {
      columns: namesAt(key, columns),
      deferrable: row.deferrable,
      // Null when the query left it to the client; then composed, or else asked of the server.
      definition: row.definition as string,
      foreignKey:
        type === "foreign_key"
          ? {
              match: mapped(fkMatch, row.match, "confmatchtype"),
              onDelete: mapped(fkActions, row.on_delete, "confdeltype"),
              onUpdate: mapped(fkActions, row.on_update, "confupdtype"),
              referencedColumns: [],
              referencedSchema: "",
              referencedTable: "",
            }
          : null,
      index: null,
      initiallyDeferred: row.initially_deferred,
      name: row.name,
      nullsNotDistinct: false,
      type,
      validated: row.validated,
    };
    table.constraints.push(constraint);
    if (constraint.foreignKey) {
      pendingForeignKeys.push({
        oid: row.oid,
        table,
        constraint,
        foreignKey: constraint.foreignKey,
        key,
        refOid: row.ref_oid,
        refKey: vectorOf(row.ref_key ?? ""),
        match: row.match,
        onUpdate: row.on_update,
        onDelete: row.on_delete,
      });
      return;
    }
    let composed: string | null = null;
    if (type === "primary_key" || type === "unique" || type === "exclusion") {
      const index = indexesByOid.get(row.index_oid);
      if (index) {
        constraint.index = index.entry.name;
        constraint.nullsNotDistinct = type === "unique" && index.nullsNotDistinct;
        index.entry.constraint = constraint.name;
        if (constraint.definition === null && type !== "exclusion" && columns) {
          // Many tables share the same key text ("PRIMARY KEY (id)"): one copy of it.
          composed = strings.internOrNull(composer.keyConstraintDefinition(type, key, constraint, index, columns));
        }
      }
    }
    if (constraint.definition !== null) return;
    if (composed === null) constraintsLeft.set(row.oid, constraint);
    else constraint.definition = composed;
  });
  progress.step();

  await streamRows<{ table_oid: number; name: string; definition: string; enabled: string }>(
    client,
    queries.triggersQuery,
    scope,
    (row) => {
      tablesByOid.get(row.table_oid)?.triggers.push({ definition: row.definition, enabled: row.enabled, name: row.name });
    },
  );
  progress.step();
}

function namesAt(positions: readonly number[], columns: ColumnsByPosition<{ name: string }> | undefined): string[] {
  return positions.map((position) => columns?.[position]?.name ?? `#${position}`);
}

/** A table's columns by position (a sparse array), from the document's column entries. */
function columnsByPosition(table: Table): ColumnsByPosition<{ name: string }> {
  const columns: { name: string }[] = [];
  for (const column of table.columns) columns[column.position] = column;
  return columns;
}

/**
 * Completes what needed every partition read: each foreign key's referenced table and columns
 * (one extra query for referenced tables outside the scope) and its definition; then the
 * definitions left to the server, fetched in one query for all of them.
 */
async function completeDefinitions(client: pg.Client, readings: TableReadings): Promise<void> {
  const { tablesByOid, pendingForeignKeys, indexesLeft, constraintsLeft, composer } = readings;
  const outside = new Map<number, { schema: string; name: string; columns: ColumnsByPosition<{ name: string }> }>();
  const outsideOids = [...new Set(pendingForeignKeys.filter((p) => !tablesByOid.has(p.refOid)).map((p) => p.refOid))];
  if (outsideOids.length > 0) {
    await streamRows<{ oid: number; schema: string; name: string; positions: number[]; names: string[] }>(
      client,
      queries.referencedRelationsQuery,
      [outsideOids],
      (row) => {
        const columns: { name: string }[] = [];
        row.positions.forEach((position, i) => {
          columns[position] = { name: row.names[i] ?? `#${position}` };
        });
        outside.set(row.oid, { schema: row.schema, name: row.name, columns });
      },
    );
  }
  const inScopeColumns = new Map<Table, ColumnsByPosition<{ name: string }>>();
  const columnsOf = (table: Table) => {
    let columns = inScopeColumns.get(table);
    if (!columns) {
      columns = columnsByPosition(table);
      inScopeColumns.set(table, columns);
    }
    return columns;
  };
  for (const pending of pendingForeignKeys) {
    const { constraint, foreignKey } = pending;
    const inScope = tablesByOid.get(pending.refOid);
    const referenced = inScope
      ? { schema: inScope.schema, name: inScope.name, columns: columnsOf(inScope) }
      : outside.get(pending.refOid);
    if (!referenced) throw new EnvironmentError(`foreign key ${constraint.name}: referenced table not found in the catalog`);
    foreignKey.referencedSchema = referenced.schema;
    foreignKey.referencedTable = referenced.name;
    foreignKey.referencedColumns = namesAt(pending.refKey, referenced.columns);
    if (constraint.definition !== null) continue;
    const composed = composer.foreignKeyDefinition(pending, constraint, columnsOf(pending.table), referenced);
    if (composed === null) constraintsLeft.set(pending.oid, constraint);
    else constraint.definition = composed;
  }
  pendingForeignKeys.length = 0;
  if (indexesLeft.size + constraintsLeft.size === 0) return;
  await streamRows<{ kind: string; oid: number; definition: string }>(
    client,
    queries.serverDefinitionsQuery,
    [[...indexesLeft.keys()], [...constraintsLeft.keys()]],
    (row) => {
      const target = row.kind === "i" ? indexesLeft.get(row.oid) : constraintsLeft.get(row.oid);
      if (target) target.definition = row.definition;
    },
  );
  for (const [oid, target] of [...indexesLeft, ...constraintsLeft]) {
    if (target.definition === null) throw new EnvironmentError(`no definition for catalog object ${oid}: it vanished mid-read`);
  }
}

/** Joins worker connections to the leader's exported snapshot; those that fail are dropped and closed. */
async function joinSnapshot(workers: pg.Client[], snapshotId: string, options: SnapshotOptions): Promise<pg.Client[]> {
  const joined = await Promise.all(
    workers.map(async (worker) => {
      try {
        await worker.query("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY");
        await worker.query(`SET TRANSACTION SNAPSHOT '${snapshotId.replace(/'/g, "''")}'`);
        await worker.query(sessionSettings(options, true));
        return worker;
      } catch {
        await worker.end().catch(() => undefined);
        return null;
      }
    }),
  );
  return joined.filter((worker): worker is pg.Client => worker !== null);
}

/** Oids of objects that belong to an extension, per catalog (extensionMembersQuery). */
interface ExtensionMembers {
  relations: number[];
  types: number[];
  routines: number[];
}

interface OtherObjects {
  views: View[];
  sequences: Sequence[];
  enums: EnumType[];
  domains: Domain[];
  compositeTypes: CompositeType[];
  routines: Routine[];
  extensions: Extension[];
  roles: RoleFacts[];
}

/** Everything that is not a table: a handful of small queries, run as one task on one connection. */
async function readOtherObjects(
  client: pg.Client,
  namespaceOids: number[],
  excluded: ExtensionMembers,
  requestedSchemas: string[] | null,
  roleNames: string[],
  version: number,
  progress: ProgressCounter,
): Promise<OtherObjects> {
  const relations = [namespaceOids, excluded.relations];
  const types = [namespaceOids, excluded.types];
  const views: View[] = [];
  await streamRows<{ schema: string; name: string; kind: string; owner: string; definition: string; acl: string[] }>(
    client,
    queries.viewsQuery,
    relations,
    (row) => {
      views.push({
        acl: parseAcl(row.acl),
        definition: row.definition,
        kind: row.kind === "m" ? "materialized_view" : "view",
        name: row.name,
        owner: row.owner,
        schema: row.schema,
      });
    },
  );
  views.sort(byQualifiedName);
  progress.step();

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
    acl: string[];
  }>(client, queries.sequencesQuery, relations, (row) => {
    sequences.push({
      acl: parseAcl(row.acl),
      cycle: row.cycle,
      dataType: row.data_type,
      increment: row.increment,
      max: row.max,
      min: row.min,
      name: row.name,
      ownedBy:
        row.owned_schema !== null && row.owned_table !== null && row.owned_column !== null
          ? { column: row.owned_column, schema: row.owned_schema, table: row.owned_table }
          : null,
      owner: row.owner,
      schema: row.schema,
      start: row.start,
    });
  });
  sequences.sort(byQualifiedName);
  progress.step();

  const enums: EnumType[] = [];
  await streamRows<EnumType>(client, queries.enumsQuery, types, (row) => {
    enums.push({ labels: row.labels, name: row.name, owner: row.owner, schema: row.schema });
  });
  enums.sort(byQualifiedName);
  progress.step();

  const domains: Domain[] = [];
  await streamRows<{
    schema: string;
    name: string;
    owner: string;
    base_type: string;
    not_null: boolean;
    default: string | null;
    checks: { name: string; definition: string }[];
  }>(client, queries.domainsQuery, types, (row) => {
    domains.push({
      baseType: row.base_type,
      checks: row.checks
        .map((check) => ({ definition: check.definition, name: check.name }))
        .sort((a, b) => compareText(a.name, b.name) || compareText(a.definition, b.definition)),
      default: row.default,
      name: row.name,
      notNull: row.not_null,
      owner: row.owner,
      schema: row.schema,
    });
  });
  domains.sort(byQualifiedName);
  progress.step();

  const compositeTypes: CompositeType[] = [];
  await streamRows<CompositeType>(client, queries.compositeTypesQuery, types, (row) => {
    compositeTypes.push({
      attributes: row.attributes.map((attribute) => ({ name: attribute.name, type: attribute.type })),
      name: row.name,
      owner: row.owner,
      schema: row.schema,
    });
  });
  compositeTypes.sort(byQualifiedName);
  progress.step();

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
    acl: string[];
  }>(client, queries.routinesQuery(version), [namespaceOids, excluded.routines], (row) => {
    routines.push({
      acl: parseAcl(row.acl),
      bodySha256: row.body_sha256,
      identityArguments: row.identity_arguments,
      kind: mapped(routineKinds, row.kind, "prokind"),
      language: row.language,
      name: row.name,
      owner: row.owner,
      returns: row.returns,
      schema: row.schema,
      securityDefiner: row.security_definer,
      volatility: mapped(volatilities, row.volatility, "provolatile"),
    });
  });
  routines.sort((a, b) => byQualifiedName(a, b) || compareText(a.identityArguments, b.identityArguments));
  progress.step();

  const extensions: Extension[] = [];
  await streamRows<Extension>(client, queries.extensionsQuery, [namespaceOids, requestedSchemas === null], (row) => {
    extensions.push({ name: row.name, schema: row.schema, version: row.version });
  });
  extensions.sort(byName);
  progress.step();

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
        canLogin: row.can_login,
        exists: row.exists,
        memberOf: uniqueSorted(row.member_of),
        name: row.name,
        schemaPrivileges: row.schema_privileges
          .map((privilege) => ({ create: privilege.create, schema: privilege.schema, usage: privilege.usage }))
          .sort((a, b) => compareText(a.schema, b.schema)),
        superuser: row.superuser,
      });
    });
  }
  roles.sort(byName);
  progress.step();

  return { views, sequences, enums, domains, compositeTypes, routines, extensions, roles };
}

async function readCatalog(client: pg.Client, options: SnapshotOptions, openWorkers: WorkerFactory): Promise<SnapshotContent> {
  const requestedSchemas = options.schemas ? uniqueSorted(options.schemas) : null;
  const roleNames = uniqueSorted(options.privilegesFor ?? []);

  // Decided first, so that extra connections open (and join the exported snapshot) while this
  // one reads the server, the schemas and the other objects.
  let partitions = 1;
  let joiningWorkers: Promise<pg.Client[]> = Promise.resolve([]);
  const maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
  if (openWorkers && maxConnections > 1) {
    const count = ((await client.query(queries.tableCountQuery, [requestedSchemas])).rows[0] as { count: number }).count;
    if (count >= (options.parallelMinTables ?? PARALLEL_MIN_TABLES)) {
      const snapshotId = String(((await client.query(queries.exportSnapshotQuery)).rows[0] as { id: string }).id);
      partitions = maxConnections;
      joiningWorkers = openWorkers(maxConnections - 1).then((workers) => joinSnapshot(workers, snapshotId, options));
    }
  }
  const progress = new ProgressCounter(10 + 6 * partitions, options.onProgress);

  const server = await readServerInfo(client);
  const version = server.serverVersionNum;
  progress.step();

  // Schemas: found ones with owner and ACL; requested but missing ones recorded as absent.
  const namespaceOids: number[] = [];
  const schemas: SchemaEntry[] = [];
  await streamRows<{ oid: number; name: string; owner: string; acl: string[] }>(
    client,
    queries.namespacesQuery,
    [requestedSchemas],
    (row) => {
      namespaceOids.push(row.oid);
      schemas.push({ acl: parseAcl(row.acl), exists: true, name: row.name, owner: row.owner });
    },
  );
  const found = new Set(schemas.map((schema) => schema.name));
  for (const name of requestedSchemas ?? []) {
    if (!found.has(name)) schemas.push({ acl: [], exists: false, name, owner: null });
  }
  schemas.sort(byName);
  const excluded = (await client.query(queries.extensionMembersQuery)).rows[0] as ExtensionMembers;
  const facts = (await client.query(queries.definitionFactsQuery)).rows[0] as DefinitionFactsRow;
  progress.step();

  // The work as a queue of tasks that every connection pulls from until it is empty: a worker
  // that connects late (or never) leaves its share to the others.
  const readings: TableReadings = {
    tablesByOid: new Map(),
    pendingForeignKeys: [],
    indexesLeft: new Map(),
    constraintsLeft: new Map(),
    composer: new DefinitionComposer(definitionFactsOf(facts)),
    strings: new StringPool(),
    acls: new AclReader(),
  };
  let others: OtherObjects | undefined;
  const tasks: ((reader: pg.Client) => Promise<void>)[] = [
    async (reader) => {
      others = await readOtherObjects(reader, namespaceOids, excluded, requestedSchemas, roleNames, version, progress);
    },
    ...Array.from(
      { length: partitions },
      (_, partition) => (reader: pg.Client) =>
        readTablePartition(reader, [namespaceOids, partitions, partition, excluded.relations], version, readings, progress),
    ),
  ];
  const drain = async (reader: pg.Client) => {
    try {
      for (let task = tasks.shift(); task; task = tasks.shift()) await task(reader);
    } catch (error) {
      tasks.length = 0;
      throw error;
    }
  };
  await Promise.all([drain(client), joiningWorkers.then((workers) => Promise.all(workers.map(drain)))]);
  if (!others) throw new EnvironmentError("internal error: the catalog was not read completely");

  await completeDefinitions(client, readings);
  const { tablesByOid } = readings;
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
  const { views, sequences, enums, domains, compositeTypes, routines, extensions, roles } = others;

  const content: SnapshotContent = {
    kind: SNAPSHOT_KIND,
    formatVersion: SNAPSHOT_FORMAT_VERSION,
    server,
    scope: { privilegesFor: roleNames, schemas: requestedSchemas },
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
  // Objects below the top level are built with their keys in code point order, which makes them
  // canonical JSON as they are: the fingerprint then costs one native JSON.stringify per element.
  return content;
}
