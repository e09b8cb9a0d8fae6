/**
 * Fidelity of the client-side composition of index and constraint definitions (definitions.ts),
 * wide: a database full of the cases where the composed text could drift from the server's (quoting of
 * every keyword category and odd identifier, orderings, INCLUDE, collations, binary-coercible and
 * user-defined default operator classes, domains, partitioned tables and their partitions, every
 * foreign key action, deferrability, NOT VALID, USING INDEX, version-specific syntax), snapshotted
 * and compared byte for byte with pg_get_indexdef and pg_get_constraintdef. The composer must
 * also compose most of it (else the comparison would prove nothing).
 */
import { createDatabase, dropDatabase, query, serverUrl, testServers } from "@dieu44/test-harness";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CatalogSnapshot, snapshot } from "../src/index.js";
import { definitionSplit } from "./helpers.js";

/** The schemas snapshotted; out_of_scope and ext are left out on purpose. */
const SCHEMAS = ["select", "between", "left", "action", "Mixed Case", "1st", 'q"s', "ünï", "dollar$"];

const FIXTURE_SQL = `
-- Schemas whose names need quoting for every reason quote_identifier has, plus a bare one.
CREATE SCHEMA "select";          -- reserved keyword
CREATE SCHEMA "between";         -- col_name keyword
CREATE SCHEMA "left";            -- type_func_name keyword
CREATE SCHEMA action;            -- unreserved keyword: bare
CREATE SCHEMA "Mixed Case";
CREATE SCHEMA "1st";
CREATE SCHEMA "q""s";
CREATE SCHEMA "ünï";
CREATE SCHEMA "dollar$";
CREATE SCHEMA out_of_scope;      -- foreign keys point here; not snapshotted
CREATE SCHEMA ext;               -- extension types; not snapshotted

-- Column names: every keyword category (some are keywords only in newer versions), upper case,
-- digit first, unicode, double quote, dollar, space, punctuation.
CREATE TABLE "select"."from" (
  id int PRIMARY KEY,
  "select" int, "between" int, "left" int, action int, "user" int, "int" int, "float" int,
  "order" int, "authorization" int, "join" int, "national" int, "values" int, "collate" int,
  "json" int, "system_user" int, "returning" int, "merge_action" int, "json_table" int, merge int,
  "Upper" int, "1digit" int, "a""b" int, "ä" int, "ÿ" int, "col$" int, _under int, a1 int, "A1" int,
  "with space" int, "semi;colon" int, "dot.ted" int, "ñ" text
);
CREATE INDEX "select" ON "select"."from" ("select", "between", "left", action, "user");
CREATE INDEX "Idx Upper" ON "select"."from" ("int", "float", "order", "authorization", "join");
CREATE INDEX "1idx" ON "select"."from" ("national", "values", "collate", "json", "system_user");
CREATE INDEX "q""idx" ON "select"."from" ("returning", "merge_action", "json_table", merge, "Upper");
CREATE INDEX "idx$" ON "select"."from" ("1digit", "a""b", "ä", "ÿ", "col$");
CREATE INDEX ïdx ON "select"."from" (_under, a1, "A1", "with space", "semi;colon", "dot.ted");
CREATE UNIQUE INDEX "from_uq" ON "select"."from" ("select") INCLUDE ("Upper", "a""b", "ñ");
CREATE TABLE "between"."Tab" (k int CONSTRAINT "PK" PRIMARY KEY, v text);
CREATE INDEX between_v ON "between"."Tab" (v);
CREATE TABLE "left".t (k int PRIMARY KEY);
CREATE INDEX left_k ON "left".t USING hash (k);
CREATE TABLE action.t (k int PRIMARY KEY);
CREATE TABLE "Mixed Case"."Mixed Table" ("Key" int PRIMARY KEY);
CREATE TABLE "1st"."2nd" (k int PRIMARY KEY);
CREATE TABLE "q""s"."t""t" ("k""k" int PRIMARY KEY);
CREATE TABLE "ünï"."täb" ("kéy" int PRIMARY KEY);
CREATE TABLE "dollar$"."t$" ("k$" int PRIMARY KEY);
CREATE TABLE out_of_scope."Target" (id int PRIMARY KEY, "Code" text UNIQUE, a int, b int, UNIQUE (b, a));

-- Orderings: every DESC / NULLS combination, on btree.
CREATE TABLE action.ord (a int, b int, c int, d int, e text, f text);
CREATE INDEX ord_all ON action.ord (a ASC, b DESC, c ASC NULLS FIRST, d DESC NULLS LAST, e NULLS LAST, f DESC NULLS FIRST);
CREATE INDEX ord_desc_include ON action.ord (a DESC) INCLUDE (b, c);
CREATE UNIQUE INDEX ord_unique_desc ON action.ord (a DESC NULLS LAST, b NULLS FIRST);

-- Types: a default operator class found exactly, through a binary-coercible cast (to a preferred
-- type or the only candidate), or only through a polymorphic one.
CREATE DOMAIN action.dint AS int;
CREATE DOMAIN action.dtext AS text COLLATE "C";
CREATE DOMAIN action.ddtext AS action.dtext;
CREATE TYPE action.mood AS ENUM ('sad', 'ok');
CREATE TYPE action.pair AS (x int, y int);
CREATE TYPE action.fr AS RANGE (subtype = float8);
CREATE TABLE action.types (
  i2 int2, i4 int4, i8 int8, num numeric, f4 float4, f8 float8, bo bool, by bytea, u uuid,
  t text, vc varchar(10), vcu varchar, bc char(3), bcu bpchar, nm name, ch "char",
  ip inet, cidr_ cidr, mac macaddr, mac8 macaddr8, ts timestamp, tstz timestamptz, d date,
  tm time, tmtz timetz, iv interval, mo money, bi bit(3), vb varbit, jb jsonb, lsn pg_lsn,
  tsv tsvector, tsq tsquery, rc regclass, rp regproc, rt regtype, o oid, ov oidvector,
  dint action.dint, dtext action.dtext, ddtext action.ddtext, m action.mood, p action.pair,
  fr action.fr, ir int4range, arr int[], tarr text[]
);
-- Types of 14+ (multirange) and of contrib extensions, where available.
DO $$
DECLARE extension text;
BEGIN
  IF current_setting('server_version_num')::int >= 140000 THEN
    ALTER TABLE action.types ADD COLUMN mr int4multirange;
  END IF;
  FOREACH extension IN ARRAY ARRAY['citext', 'hstore', 'ltree', 'isn', 'cube'] LOOP
    IF EXISTS (SELECT FROM pg_available_extensions WHERE name = extension) THEN
      EXECUTE format('CREATE EXTENSION %I SCHEMA ext', extension);
    END IF;
  END LOOP;
  IF EXISTS (SELECT FROM pg_extension WHERE extname = 'citext') THEN ALTER TABLE action.types ADD COLUMN ci ext.citext; END IF;
  IF EXISTS (SELECT FROM pg_extension WHERE extname = 'hstore') THEN ALTER TABLE action.types ADD COLUMN hs ext.hstore; END IF;
  IF EXISTS (SELECT FROM pg_extension WHERE extname = 'ltree') THEN ALTER TABLE action.types ADD COLUMN lt ext.ltree; END IF;
  IF EXISTS (SELECT FROM pg_extension WHERE extname = 'isn') THEN
    ALTER TABLE action.types ADD COLUMN isbn ext.isbn, ADD COLUMN ean ext.ean13;
  END IF;
  IF EXISTS (SELECT FROM pg_extension WHERE extname = 'cube') THEN ALTER TABLE action.types ADD COLUMN cu ext.cube; END IF;
END $$;
-- One btree and one hash index per column of action.types, where its type has a default opclass.
DO $$
DECLARE col record;
BEGIN
  FOR col IN SELECT attname FROM pg_attribute WHERE attrelid = 'action.types'::regclass AND attnum > 0 ORDER BY attnum LOOP
    BEGIN
      EXECUTE format('CREATE INDEX %I ON action.types (%I)', 'bt_' || col.attname, col.attname);
    EXCEPTION WHEN undefined_object THEN NULL;
    END;
    BEGIN
      EXECUTE format('CREATE INDEX %I ON action.types USING hash (%I)', 'h_' || col.attname, col.attname);
    EXCEPTION WHEN undefined_object OR feature_not_supported THEN NULL;
    END;
  END LOOP;
END $$;
-- Operator classes named explicitly: the column's default (printed by nobody) or not.
CREATE INDEX op_vc_text ON action.types (vc text_ops);
CREATE INDEX op_vc_varchar ON action.types (vc varchar_ops);
CREATE INDEX op_vc_bpchar ON action.types (vc bpchar_ops);
CREATE INDEX op_vc_pattern ON action.types (vc text_pattern_ops);
CREATE INDEX op_bc_bpchar ON action.types (bc bpchar_ops);
CREATE INDEX op_nm_name ON action.types (nm name_ops);
CREATE INDEX op_cidr_inet ON action.types (cidr_ inet_ops);
CREATE INDEX op_rc_oid ON action.types (rc oid_ops);
CREATE INDEX op_dint_int4 ON action.types (dint int4_ops);
CREATE INDEX op_dtext_text ON action.types (dtext text_ops);
CREATE INDEX op_m_enum ON action.types (m enum_ops);
CREATE INDEX op_arr_array ON action.types (arr array_ops);
CREATE INDEX op_ir_range ON action.types (ir range_ops);
CREATE INDEX op_p_record ON action.types (p record_ops);
CREATE INDEX op_hash_vc_text ON action.types USING hash (vc text_ops);
CREATE INDEX op_hash_vc_bpchar ON action.types USING hash (vc bpchar_ops);
CREATE INDEX op_hash_cidr_inet ON action.types USING hash (cidr_ inet_ops);
DO $$
BEGIN
  IF EXISTS (SELECT FROM pg_extension WHERE extname = 'citext') THEN
    CREATE INDEX op_ci_citext ON action.types (ci ext.citext_ops);
    CREATE INDEX op_ci_text ON action.types (ci text_ops);
  END IF;
END $$;
-- A default operator class declared for a domain: GetDefaultOpClass looks at the base type
-- (getBaseType), so it is never the default and pg_get_indexdef names it.
CREATE OPERATOR CLASS action.dtext_ops DEFAULT FOR TYPE action.dtext USING btree AS
  OPERATOR 1 < (text, text), OPERATOR 2 <= (text, text), OPERATOR 3 = (text, text),
  OPERATOR 4 >= (text, text), OPERATOR 5 > (text, text),
  FUNCTION 1 (action.dtext, action.dtext) bttextcmp(text, text);
CREATE INDEX op_dtext_domain_default ON action.types (dtext action.dtext_ops);
CREATE INDEX op_dtext_implicit ON action.types (dtext);
-- A default operator class whose family lost its options support function (5) after an index
-- column was given options: pg_get_indexdef still prints the opclass and its options.
CREATE OPERATOR CLASS action.json_opt_ops DEFAULT FOR TYPE json USING btree AS
  OPERATOR 1 < (int4, int4), FUNCTION 1 (json, json) btint4cmp(int4, int4),
  FUNCTION 5 (json, json) gtsvector_options(internal);
CREATE TABLE action.opt (j json);
CREATE INDEX opt_with_options ON action.opt (j action.json_opt_ops (siglen = 8));
ALTER OPERATOR FAMILY action.json_opt_ops USING btree DROP FUNCTION 5 (json, json);
CREATE INDEX opt_plain ON action.opt (j);

-- Collations on the column versus on the index.
CREATE TABLE action.coll (
  t text, tc text COLLATE "C", tp text COLLATE "POSIX", vc varchar(5) COLLATE "C", n name, ch char(2) COLLATE "C"
);
CREATE INDEX coll_same ON action.coll (tc COLLATE "C", vc COLLATE "C", ch COLLATE "C");
CREATE INDEX coll_default_explicit ON action.coll (t COLLATE "default");
CREATE INDEX coll_c_on_default ON action.coll (t COLLATE "C");
CREATE INDEX coll_default_on_c ON action.coll (tc COLLATE "default");
CREATE INDEX coll_posix_on_c ON action.coll (tc COLLATE "POSIX");
CREATE INDEX coll_name ON action.coll (n);
CREATE INDEX coll_name_c ON action.coll (n COLLATE "C");
CREATE INDEX coll_hash ON action.coll USING hash (tp);
CREATE INDEX coll_hash_other ON action.coll USING hash (tp COLLATE "C");
CREATE INDEX coll_include ON action.coll (t) INCLUDE (tc, tp);

-- Partitioned tables, their partitions and sub-partitions.
CREATE TABLE action.parted (id int NOT NULL, k int NOT NULL, v text, "W" text,
  CONSTRAINT parted_pk PRIMARY KEY (id, k) INCLUDE (v),
  CONSTRAINT "Parted UQ" UNIQUE (k, "W") DEFERRABLE INITIALLY DEFERRED
) PARTITION BY RANGE (k);
CREATE INDEX parted_v ON action.parted (v DESC NULLS LAST) INCLUDE ("W");
CREATE INDEX parted_hash ON action.parted USING hash ("W");
CREATE UNIQUE INDEX parted_plain_unique ON action.parted (v, k);
CREATE TABLE action.parted_1 PARTITION OF action.parted FOR VALUES FROM (0) TO (10);
CREATE TABLE action.parted_2 PARTITION OF action.parted FOR VALUES FROM (10) TO (20) PARTITION BY LIST (k);
CREATE TABLE action.parted_2a PARTITION OF action.parted_2 FOR VALUES IN (10, 11, 12);
CREATE INDEX parted_1_own ON action.parted_1 ("W", v);
CREATE INDEX parted_2_own ON ONLY action.parted_2 (id DESC);
CREATE INDEX parted_2_own_unattached ON action.parted_2 ("W" NULLS FIRST);
CREATE INDEX parted_2a_own ON action.parted_2a USING hash (v);
-- A partition whose own UNIQUE constraint gets attached to the parent's plain unique index.
CREATE TABLE action.parted_3 (id int NOT NULL, k int NOT NULL, v text, "W" text,
  CONSTRAINT parted_3_uq UNIQUE (v, k));
ALTER TABLE action.parted ATTACH PARTITION action.parted_3 FOR VALUES FROM (20) TO (30);

-- Keys: deferrability, INCLUDE, USING INDEX, exclusion constraints backed by btree and hash.
CREATE TABLE action.keys (
  a int, b int, "C" int, "d d" text, e text,
  CONSTRAINT keys_pk PRIMARY KEY (a, b) INCLUDE ("C", "d d") DEFERRABLE INITIALLY DEFERRED,
  CONSTRAINT keys_uq_immediate UNIQUE ("C") DEFERRABLE INITIALLY IMMEDIATE,
  CONSTRAINT keys_uq_plain UNIQUE ("d d", a) NOT DEFERRABLE,
  CONSTRAINT keys_uq_include UNIQUE (e) INCLUDE (a, "C"),
  CONSTRAINT keys_excl_hash EXCLUDE USING hash (e WITH =),
  CONSTRAINT keys_excl_btree EXCLUDE USING btree (b WITH =, "C" DESC WITH =)
);
CREATE UNIQUE INDEX keys_later ON action.keys (b, "C") INCLUDE (e);
ALTER TABLE action.keys ADD CONSTRAINT "Keys Using Index" UNIQUE USING INDEX keys_later;
CREATE UNIQUE INDEX keys_later_deferred ON action.keys (e, b);
ALTER TABLE action.keys ADD CONSTRAINT keys_using_deferred UNIQUE USING INDEX keys_later_deferred DEFERRABLE INITIALLY DEFERRED;
CREATE UNIQUE INDEX keys_unique_index_only ON action.keys ("d d", b);
CREATE TABLE action.keys2 (a int, b int, PRIMARY KEY (a, b));
CREATE TABLE action.pk_using (a int NOT NULL, b text NOT NULL);
CREATE UNIQUE INDEX pk_using_idx ON action.pk_using (b, a) INCLUDE (a);
ALTER TABLE action.pk_using ADD CONSTRAINT pk_using_pk PRIMARY KEY USING INDEX pk_using_idx;

-- Foreign keys: every ON UPDATE x ON DELETE action, with and without MATCH FULL, deferrable,
-- NOT VALID, targets in quoted schemas, out of scope, partitioned, itself, a unique index that
-- is no constraint, referenced columns in another order than the unique constraint's.
CREATE TABLE action.refs (
  id int PRIMARY KEY, r int DEFAULT 0, s int DEFAULT 0, code text, x int, y int, "Self" int, pk int, pkk int, dd text, bb int
);
DO $$
DECLARE u text; d text; n int := 0;
BEGIN
  FOREACH u IN ARRAY ARRAY['NO ACTION', 'RESTRICT', 'CASCADE', 'SET NULL', 'SET DEFAULT'] LOOP
    FOREACH d IN ARRAY ARRAY['NO ACTION', 'RESTRICT', 'CASCADE', 'SET NULL', 'SET DEFAULT'] LOOP
      n := n + 1;
      EXECUTE format('ALTER TABLE action.refs ADD CONSTRAINT %I FOREIGN KEY (r) REFERENCES action.t ON UPDATE %s ON DELETE %s',
                     'fk_action_' || n, u, d);
      EXECUTE format('ALTER TABLE action.refs ADD CONSTRAINT %I FOREIGN KEY (r, s) REFERENCES action.keys2 (a, b) MATCH FULL ON UPDATE %s ON DELETE %s',
                     'fk_full_' || n, u, d);
    END LOOP;
  END LOOP;
END $$;
ALTER TABLE action.refs
  ADD CONSTRAINT fk_deferred FOREIGN KEY (r) REFERENCES "select"."from" DEFERRABLE INITIALLY DEFERRED,
  ADD CONSTRAINT fk_deferrable FOREIGN KEY (r) REFERENCES "between"."Tab" ("k") DEFERRABLE,
  ADD CONSTRAINT fk_left FOREIGN KEY (r) REFERENCES "left".t ON DELETE CASCADE,
  ADD CONSTRAINT fk_mixed FOREIGN KEY (r) REFERENCES "Mixed Case"."Mixed Table",
  ADD CONSTRAINT fk_digit FOREIGN KEY (r) REFERENCES "1st"."2nd",
  ADD CONSTRAINT fk_quote FOREIGN KEY (r) REFERENCES "q""s"."t""t",
  ADD CONSTRAINT fk_unicode FOREIGN KEY (r) REFERENCES "ünï"."täb",
  ADD CONSTRAINT fk_dollar FOREIGN KEY (r) REFERENCES "dollar$"."t$",
  ADD CONSTRAINT fk_out FOREIGN KEY (r) REFERENCES out_of_scope."Target",
  ADD CONSTRAINT fk_out_code FOREIGN KEY (code) REFERENCES out_of_scope."Target" ("Code") MATCH FULL,
  ADD CONSTRAINT fk_out_reordered FOREIGN KEY (x, y) REFERENCES out_of_scope."Target" (a, b) ON UPDATE CASCADE,
  ADD CONSTRAINT fk_self FOREIGN KEY ("Self") REFERENCES action.refs (id) ON DELETE SET NULL,
  ADD CONSTRAINT fk_parted FOREIGN KEY (pk, pkk) REFERENCES action.parted (id, k) ON DELETE CASCADE,
  ADD CONSTRAINT fk_unique_index FOREIGN KEY (dd, bb) REFERENCES action.keys ("d d", b),
  ADD CONSTRAINT fk_same_column_twice FOREIGN KEY (x, x) REFERENCES action.keys2 (a, b);
ALTER TABLE action.refs ADD CONSTRAINT fk_not_valid FOREIGN KEY (s) REFERENCES action.t NOT VALID;
ALTER TABLE action.refs ADD CONSTRAINT fk_not_valid_deferred FOREIGN KEY (s) REFERENCES action.t
  DEFERRABLE INITIALLY DEFERRED NOT VALID;
-- From a partitioned table (its partitions get clones), from a partition on its own, to itself.
ALTER TABLE action.parted ADD CONSTRAINT parted_fk FOREIGN KEY (id) REFERENCES action.t ON DELETE RESTRICT;
ALTER TABLE action.parted_1 ADD CONSTRAINT parted_1_fk FOREIGN KEY (k) REFERENCES "left".t MATCH FULL;
ALTER TABLE action.parted ADD CONSTRAINT parted_self_fk FOREIGN KEY (k, id) REFERENCES action.parted (id, k);
ALTER TABLE action.parted ADD CONSTRAINT parted_fk_out FOREIGN KEY (v) REFERENCES out_of_scope."Target" ("Code") ON UPDATE CASCADE;
-- A detached partition keeps its former clones of indexes and constraints as its own.
CREATE TABLE action.parted_9 PARTITION OF action.parted FOR VALUES FROM (90) TO (100);
ALTER TABLE action.parted DETACH PARTITION action.parted_9;
-- Keys that only a partition has, an inheritance child, an unlogged table, a bare keyword name.
CREATE TABLE "select".list (id int NOT NULL, "Part" text NOT NULL) PARTITION BY LIST ("Part");
CREATE TABLE "select"."list A" PARTITION OF "select".list (CONSTRAINT "list A pk" PRIMARY KEY (id) INCLUDE ("Part"))
  FOR VALUES IN ('a');
CREATE UNIQUE INDEX "list A uq" ON "select"."list A" ("Part" DESC, id);
CREATE TABLE action.inh_parent (id int PRIMARY KEY, v text);
CREATE TABLE action.inh_child (extra int, CONSTRAINT inh_child_uq UNIQUE (v, extra)) INHERITS (action.inh_parent);
CREATE UNLOGGED TABLE action.unlogged (id int CONSTRAINT unlogged_pk PRIMARY KEY, r int REFERENCES action.unlogged);
CREATE INDEX action ON action.unlogged (r);
`;

/** UNIQUE NULLS NOT DISTINCT and ON DELETE SET NULL / SET DEFAULT (columns) arrived in 15. */
const FIXTURE_15_SQL = `
CREATE TABLE action.nnd (a int NOT NULL, b int, "C" text,
  CONSTRAINT nnd_uq UNIQUE NULLS NOT DISTINCT (a, b) INCLUDE ("C") DEFERRABLE,
  CONSTRAINT nnd_uq_plain UNIQUE NULLS DISTINCT (b)
);
CREATE UNIQUE INDEX nnd_index ON action.nnd ("C" DESC) NULLS NOT DISTINCT;
CREATE UNIQUE INDEX nnd_parted ON action.parted (k, id) NULLS NOT DISTINCT;
ALTER TABLE action.refs
  ADD CONSTRAINT fk_set_null_columns FOREIGN KEY (r, s) REFERENCES action.keys2 (a, b) ON DELETE SET NULL (s),
  ADD CONSTRAINT fk_set_default_columns FOREIGN KEY (r, s) REFERENCES action.keys2 (a, b) ON DELETE SET DEFAULT (r);
-- A primary key on a NULLS NOT DISTINCT index: 15 accepts it, newer releases refuse it.
CREATE TABLE action.pk_nnd (a int NOT NULL);
CREATE UNIQUE INDEX pk_nnd_idx ON action.pk_nnd (a) NULLS NOT DISTINCT;
DO $$
BEGIN
  ALTER TABLE action.pk_nnd ADD CONSTRAINT pk_nnd_pk PRIMARY KEY USING INDEX pk_nnd_idx;
EXCEPTION WHEN OTHERS THEN NULL;
END $$;
`;

/** Temporal keys (18; they need btree_gist, a contrib extension a server may lack). */
const FIXTURE_18_TEMPORAL_SQL = `
CREATE EXTENSION btree_gist SCHEMA ext;
CREATE TABLE action.temporal (id int, valid daterange, ref int,
  CONSTRAINT temporal_pk PRIMARY KEY (id, valid WITHOUT OVERLAPS),
  CONSTRAINT temporal_uq UNIQUE (ref, valid WITHOUT OVERLAPS)
);
CREATE TABLE action.temporal_child (id int, valid daterange, parent int,
  CONSTRAINT temporal_fk FOREIGN KEY (parent, PERIOD valid) REFERENCES action.temporal (id, PERIOD valid)
);
`;

/** NOT ENFORCED, and NOT VALID foreign keys on partitioned tables arrived in 18. */
const FIXTURE_18_SQL = `
ALTER TABLE action.refs ADD CONSTRAINT fk_not_enforced FOREIGN KEY (r) REFERENCES action.t NOT ENFORCED;
ALTER TABLE action.refs ADD CONSTRAINT fk_not_enforced_deferrable FOREIGN KEY (r) REFERENCES action.t
  ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED NOT ENFORCED;
ALTER TABLE action.parted ADD CONSTRAINT parted_fk_not_valid FOREIGN KEY (k) REFERENCES "left".t NOT VALID;
`;

describe.each(testServers().map((server) => [server.label, server] as const))("definition fidelity on %s", (_label, server) => {
  let database: string;
  let doc: CatalogSnapshot;
  let client: pg.Client;

  beforeAll(async () => {
    database = await createDatabase(server, "defsreview");
    await query(server, FIXTURE_SQL, { database });
    if (server.major >= 15) await query(server, FIXTURE_15_SQL, { database });
    if (server.major >= 18) {
      await query(server, FIXTURE_18_SQL, { database });
      const available = await query(server, "SELECT FROM pg_available_extensions WHERE name = 'btree_gist'", { database });
      if (available.length > 0) await query(server, FIXTURE_18_TEMPORAL_SQL, { database });
    }
    doc = await snapshot({ url: serverUrl(server, { database }), env: {} }, { schemas: SCHEMAS });
    client = new pg.Client({ connectionString: serverUrl(server, { database }) });
    await client.connect();
    await client.query("SET search_path = pg_catalog");
  }, 60_000);
  afterAll(async () => {
    await client?.end();
    if (database) await dropDatabase(server, database);
  });

  it("records exactly the server's pg_get_indexdef for every index", async () => {
    const server = await client.query<{ key: string; definition: string }>(
      `select n.nspname || ' | ' || c.relname || ' | ' || ic.relname as key, pg_get_indexdef(i.indexrelid) as definition
         from pg_index i join pg_class c on c.oid = i.indrelid join pg_class ic on ic.oid = i.indexrelid
         join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = any($1) and not ic.relispartition`,
      [SCHEMAS],
    );
    const expected = Object.fromEntries(server.rows.map((row) => [row.key, row.definition]));
    const recorded = Object.fromEntries(
      doc.tables.flatMap((t) => t.indexes.map((i) => [`${t.schema} | ${t.name} | ${i.name}`, i.definition])),
    );
    // Only the differing entries, so that a failure names the culprits.
    const differing = Object.keys({ ...expected, ...recorded })
      .filter((key) => expected[key] !== recorded[key])
      .sort()
      .map((key) => ({ key, server: expected[key], recorded: recorded[key] }));
    expect(differing).toEqual([]);
    expect(server.rows.length).toBeGreaterThan(150);
  });

  it("records exactly the server's pg_get_constraintdef for every constraint", async () => {
    const server = await client.query<{ key: string; definition: string }>(
      `select n.nspname || ' | ' || c.relname || ' | ' || co.conname as key, pg_get_constraintdef(co.oid) as definition
         from pg_constraint co join pg_class c on c.oid = co.conrelid join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = any($1) and co.contype in ('p', 'u', 'f', 'c', 'x') and co.conparentid = 0`,
      [SCHEMAS],
    );
    const expected = Object.fromEntries(server.rows.map((row) => [row.key, row.definition]));
    const recorded = Object.fromEntries(
      doc.tables.flatMap((t) => t.constraints.map((c) => [`${t.schema} | ${t.name} | ${c.name}`, c.definition])),
    );
    const differing = Object.keys({ ...expected, ...recorded })
      .filter((key) => expected[key] !== recorded[key])
      .sort()
      .map((key) => ({ key, server: expected[key], recorded: recorded[key] }));
    expect(differing).toEqual([]);
    expect(server.rows.length).toBeGreaterThan(80);
  });

  it("composes most of them on the client, so that the comparison above proves something", async () => {
    const { composedIndexes, clientConstraints } = await definitionSplit(client, SCHEMAS);
    // Constraints the query leaves to the client are all composable: the comparison above would
    // catch one the client could not compose, as a missing definition.
    expect(composedIndexes.length).toBeGreaterThan(120);
    expect(clientConstraints.length).toBeGreaterThan(70);
  });
});
