/**
 * The derived delta against the real thing: each artifact is applied with psql on PostgreSQL 15
 * and 18, and the objects the catalog gained are counted the way the catalog stores them.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  bootstrapFixture,
  createDatabase,
  dropDatabase,
  query,
  runPsql,
  type ServerInfo,
  testServers,
} from "@dieu44/test-harness";
import { describe, expect, it } from "vitest";
import { lint } from "../src/index.js";
import { REFERENCE } from "./helpers.js";

const COUNT_SQL = `
with rels as (select c.oid, c.relkind from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = $1)
select
  (select count(*) from rels where relkind in ('r', 'p'))::int as table,
  (select count(*) from pg_constraint where conrelid in (select oid from rels) and contype = 'p')::int as primary_key,
  (select count(*) from pg_constraint where conrelid in (select oid from rels) and contype = 'f')::int as foreign_key,
  (select count(*) from pg_constraint where conrelid in (select oid from rels) and contype = 'u')::int as unique,
  (select count(*) from pg_constraint where conrelid in (select oid from rels) and contype = 'c')::int as check,
  (select count(*) from pg_constraint where conrelid in (select oid from rels) and contype = 'x')::int as exclusion,
  (select count(*) from pg_attrdef d join pg_attribute a on a.attrelid = d.adrelid and a.attnum = d.adnum
     where d.adrelid in (select oid from rels) and a.attgenerated = '')::int as default,
  (select count(*) from pg_attribute where attrelid in (select oid from rels) and attidentity <> '' and not attisdropped)::int as identity,
  (select count(*) from rels where relkind = 'S')::int as sequence,
  (select count(*) from pg_index i where i.indrelid in (select oid from rels)
     and not exists (select 1 from pg_constraint c where c.conindid = i.indexrelid and c.contype in ('p', 'u', 'x')))::int as index,
  (select count(*) from pg_trigger where tgrelid in (select oid from rels) and not tgisinternal)::int as trigger,
  (select count(*) from pg_type t join pg_namespace n on n.oid = t.typnamespace where n.nspname = $1 and t.typtype = 'e')::int as enum,
  (select count(*) from pg_type t join pg_namespace n on n.oid = t.typnamespace where n.nspname = $1 and t.typtype = 'd')::int as domain,
  (select count(*) from rels where relkind = 'v')::int as view,
  (select count(*) from pg_proc p join pg_namespace n on n.oid = p.pronamespace where n.nspname = $1)::int as function
`;

const KINDS = [
  "table",
  "primary_key",
  "foreign_key",
  "unique",
  "check",
  "exclusion",
  "default",
  "identity",
  "sequence",
  "index",
  "trigger",
  "enum",
  "domain",
  "view",
  "function",
] as const;

async function catalogCounts(server: ServerInfo, database: string, schema: string): Promise<Record<string, number>> {
  const [row] = await query<Record<string, number>>(server, COUNT_SQL, { database, params: [schema] });
  return row!;
}

const dir = mkdtempSync(join(tmpdir(), "sql-lint-catalog-"));

function apply(server: ServerInfo, database: string, sql: string): void {
  const file = join(dir, `artifact-${Math.random().toString(16).slice(2)}.sql`);
  writeFileSync(file, sql);
  const result = runPsql(server, ["-q", "-v", "ON_ERROR_STOP=1", "-f", file], { database });
  expect(result.status, result.stderr).toBe(0);
}

/** Exercises every counted kind, with the traps: keywords in comments, literals, dollar quotes, meta-commands, multi-byte names. */
const RICH = `-- CREATE TABLE app.not_a_table (id int);
\\set ON_ERROR_STOP on
\\echo 'CREATE TABLE app.also_not; \\\\ BEGIN'
BEGIN;
/* CREATE TABLE app.nor_this (id int); */
CREATE TABLE app."Übersicht_€" (id serial PRIMARY KEY, note text DEFAULT 'CREATE TABLE app.x (); -- not a statement');
CREATE TABLE app.parent (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  code text NOT NULL UNIQUE CHECK (code <> ''),
  span int4range,
  doubled bigint GENERATED ALWAYS AS (id * 2) STORED,
  EXCLUDE USING gist (span WITH &&)
);
CREATE TABLE app.child (id bigserial, parent_id bigint NOT NULL, label text, CONSTRAINT child_pk PRIMARY KEY (id), UNIQUE (parent_id, label));
ALTER TABLE app.child ADD CONSTRAINT child_parent_fk FOREIGN KEY (parent_id) REFERENCES app.parent (id);
ALTER TABLE app.child ADD COLUMN seq smallserial, ALTER COLUMN label SET DEFAULT $$CREATE TABLE app.y (); \\echo x$$;
CREATE UNIQUE INDEX child_label_idx ON app.child (label);
CREATE SEQUENCE app.counter;
CREATE TYPE app.mood AS ENUM ('happy', 'sad');
CREATE DOMAIN app.positive AS int CHECK (VALUE > 0);
CREATE FUNCTION app.touch() RETURNS trigger LANGUAGE plpgsql AS $fn$ BEGIN RETURN NEW; END $fn$;
CREATE TRIGGER child_touch BEFORE UPDATE ON app.child FOR EACH ROW EXECUTE FUNCTION app.touch();
CREATE VIEW app.child_labels AS SELECT label FROM app.child;
COMMIT;
`;

describe.each(testServers())("derived delta equals the catalog on $label", (server) => {
  it("for the reference artifact on the bootstrapped fixture", async () => {
    const database = await bootstrapFixture(server);
    try {
      const before = await catalogCounts(server, database, "cutter_governance");
      const report = await lint(REFERENCE, { kind: "sql-lint-policy", formatVersion: 1 });
      apply(server, database, REFERENCE.toString("utf8"));
      const after = await catalogCounts(server, database, "cutter_governance");
      for (const kind of KINDS) {
        expect({ kind, added: after[kind]! - before[kind]! }).toEqual({ kind, added: report.facts.derivedDelta.counts[kind] });
      }
    } finally {
      await dropDatabase(server, database);
    }
  });

  it("for an artifact with serial, identity, defaults, checks, exclusion, ALTER TABLE constraints, index, trigger and types", async () => {
    const database = await createDatabase(server);
    try {
      await query(server, "create schema app", { database });
      const report = await lint(RICH, { kind: "sql-lint-policy", formatVersion: 1, forbiddenStatements: [] });
      expect(report.facts.parsed).toBe(true);
      expect(report.facts.createTable).toBe(3);
      apply(server, database, RICH);
      const after = await catalogCounts(server, database, "app");
      const tables = await query<{ relname: string }>(
        server,
        "select relname from pg_class c join pg_namespace n on n.oid = c.relnamespace where nspname = 'app' and relkind = 'r' order by 1",
        { database },
      );
      expect(tables.map((row) => `app.${row.relname}`)).toEqual([...report.facts.tablesCreated].sort());
      for (const kind of KINDS) {
        expect({ kind, added: after[kind] }).toEqual({ kind, added: report.facts.derivedDelta.counts[kind] });
      }
    } finally {
      await dropDatabase(server, database);
    }
  });
});
