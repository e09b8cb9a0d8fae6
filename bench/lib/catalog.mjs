// The large catalogs the catalog-snapshot, drift-diff and migra pairs read: N tables in schema
// `bench`, each with 8 columns, a primary key, a foreign key to the previous table, a UNIQUE
// constraint and one more index (as issue 3 specifies), so per table: 1 PK, 1 FK, 1 UNIQUE,
// 3 indexes, 2 column defaults.
//
// Built in batches of 500 tables, one transaction per batch, by two connections at once (the
// server does the work; two backends use both cores). Inside a batch each table references the
// one before it inline; the first table of a batch gets its foreign key in a last pass, once the
// batch before it exists. Table 1 references itself.
import pg from "pg";

export const SCHEMA = "bench";
const BATCH = 500;
const WORKERS = 2;

export const tableName = (i) => `t${String(i).padStart(5, "0")}`;

function createTable(i, referenced) {
  const t = tableName(i);
  const references = referenced ? ` references ${SCHEMA}.${tableName(referenced)} (id)` : "";
  return `create table ${SCHEMA}.${t} (
  id bigint primary key,
  parent_id bigint${references},
  code text not null unique,
  label varchar(200),
  amount numeric(12, 2),
  created_at timestamptz not null default now(),
  active boolean not null default true,
  note text
);
create index ${t}_label_idx on ${SCHEMA}.${t} (label);`;
}

/** Creates database `database` with N tables in schema bench. Returns the build's seconds and counts. */
export async function buildCatalog(cluster, { database, tables, log, workers = WORKERS }) {
  const started = performance.now();
  const admin = new pg.Client({ connectionString: cluster.url() });
  await admin.connect();
  await admin.query(`create database ${database}`);
  await admin.end();
  const url = cluster.url({ database });
  const clients = await Promise.all(
    Array.from({ length: workers }, async () => {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      return client;
    }),
  );
  await clients[0].query(`create schema ${SCHEMA}`);
  const batches = [];
  for (let from = 1; from <= tables; from += BATCH) batches.push([from, Math.min(from + BATCH, tables + 1)]);
  let next = 0;
  let done = 0;
  await Promise.all(
    clients.map(async (client) => {
      while (next < batches.length) {
        const [from, to] = batches[next++];
        const statements = [];
        for (let i = from; i < to; i += 1) statements.push(createTable(i, i === 1 ? 1 : i === from ? null : i - 1));
        await client.query(statements.join("\n"));
        done += to - from;
        if (batches.length > 4 && (done === tables || done % 5000 < BATCH)) log(`    ${database}: ${done}/${tables} tables`);
      }
    }),
  );
  const boundaryForeignKeys = batches
    .filter(([from]) => from > 1)
    .map(
      ([from]) =>
        `alter table ${SCHEMA}.${tableName(from)} add foreign key (parent_id) references ${SCHEMA}.${tableName(from - 1)} (id);`,
    );
  if (boundaryForeignKeys.length) await clients[0].query(boundaryForeignKeys.join("\n"));
  // Fresh statistics for the catalog tables the readers scan (autovacuum is off on this cluster).
  const { rows } = await clients[0].query(
    "select string_agg(oid::regclass::text, ', ') as list from pg_class where relnamespace = 'pg_catalog'::regnamespace and relkind = 'r'",
  );
  await clients[0].query(`vacuum analyze ${rows[0].list}`);
  const counts = (
    await clients[0].query(
      `select (select count(*) from pg_class where relnamespace = '${SCHEMA}'::regnamespace and relkind = 'r')::int as tables,
              (select count(*) from pg_class where relnamespace = '${SCHEMA}'::regnamespace and relkind = 'i')::int as indexes,
              (select count(*) from pg_constraint where connamespace = '${SCHEMA}'::regnamespace and contype = 'p')::int as "primaryKeys",
              (select count(*) from pg_constraint where connamespace = '${SCHEMA}'::regnamespace and contype = 'f')::int as "foreignKeys",
              (select count(*) from pg_constraint where connamespace = '${SCHEMA}'::regnamespace and contype = 'u')::int as uniques`,
    )
  ).rows[0];
  await Promise.all(clients.map((client) => client.end()));
  if (counts.tables !== tables || counts.foreignKeys !== tables) {
    throw new Error(`catalog ${database}: expected ${tables} tables and foreign keys, found ${JSON.stringify(counts)}`);
  }
  return { seconds: (performance.now() - started) / 1000, counts };
}

/**
 * The changes that make the "after" catalog: 1% of the tables get one change each, five kinds in
 * turn: add a column, change a column type, add an index, drop a UNIQUE constraint, add a CHECK.
 */
function changeStatements(tables) {
  const statements = [];
  let k = 0;
  for (let i = 1; i <= tables; i += 100) {
    const t = `${SCHEMA}.${tableName(i)}`;
    statements.push(
      [
        `alter table ${t} add column extra integer;`,
        `alter table ${t} alter column label type text;`,
        `create index ${tableName(i)}_amount_idx on ${t} (amount);`,
        `alter table ${t} drop constraint ${tableName(i)}_code_key;`,
        `alter table ${t} add constraint ${tableName(i)}_amount_check check (amount >= 0);`,
      ][k % 5],
    );
    k += 1;
  }
  return statements;
}

/** Applies the 1% changes to `database` in place. Returns how many tables were changed. */
export async function changeInPlace(cluster, { database, tables }) {
  const statements = changeStatements(tables);
  const client = new pg.Client({ connectionString: cluster.url({ database }) });
  await client.connect();
  await client.query(statements.join("\n"));
  await client.end();
  return statements.length;
}

/** Copies `from` into `to` (CREATE DATABASE ... TEMPLATE) and applies the 1% changes to the copy. */
export async function buildChangedCopy(cluster, { from, to, tables }) {
  const admin = new pg.Client({ connectionString: cluster.url() });
  await admin.connect();
  // FILE_COPY copies the files as they are (fast with fsync off); the default WAL_LOG strategy
  // writes every block of tens of thousands of small relations through the WAL.
  await admin.query(`create database ${to} template ${from} strategy = file_copy`);
  await admin.end();
  return changeInPlace(cluster, { database: to, tables });
}
