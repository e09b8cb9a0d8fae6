/**
 * Index and constraint definitions composed on the client (definitions.ts) must be the server's
 * own text, byte for byte: every definition in the snapshot is compared with pg_get_indexdef and
 * pg_get_constraintdef, and the composer is checked to compose the plain cases (or this test would
 * pass with everything left to the server) and to leave every special case to the server.
 */
import { readFileSync } from "node:fs";
import { createDatabase, dropDatabase, query, serverUrl, testServers } from "@dieu44/test-harness";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CatalogSnapshot, snapshot } from "../src/index.js";
import { definitionSplit } from "./helpers.js";

const FIXTURE_SQL = readFileSync(new URL("./fixtures/definitions.sql", import.meta.url), "utf8");
const S = "Defs ü";

/** Indexes whose text the client composes; every other index in scope is left to the server. */
const COMPOSED_INDEXES = [
  "Plain Quoted",
  "pk Child",
  "pk_parted",
  "pk_user",
  "plain_bpchar",
  "plain_collated_column",
  "plain_desc",
  "plain_hash",
  "plain_include",
  "plain_keywords",
  "plain_name_type",
  "plain_nulls_not_distinct",
  "plain_on_only",
  "plain_varchar",
  "special_exclusion",
  "uq_deferrable",
  "uq_nulls_not_distinct",
];

describe.each(testServers().map((server) => [server.label, server] as const))("definitions on %s", (_label, server) => {
  let database: string;
  let doc: CatalogSnapshot;
  let client: pg.Client;

  beforeAll(async () => {
    database = await createDatabase(server, "defs");
    await query(server, FIXTURE_SQL, { database });
    if (server.major >= 18) {
      await query(
        server,
        `ALTER TABLE "${S}".child ADD CONSTRAINT special_not_enforced FOREIGN KEY (r) REFERENCES other.ref NOT ENFORCED`,
        {
          database,
        },
      );
    }
    doc = await snapshot({ url: serverUrl(server, { database }), env: {} }, { schemas: [S, "other"] });
    client = new pg.Client({ connectionString: serverUrl(server, { database }) });
    await client.connect();
    await client.query("SET search_path = pg_catalog");
  });
  afterAll(async () => {
    await client?.end();
    if (database) await dropDatabase(server, database);
  });

  it("records exactly the server's pg_get_indexdef and pg_get_constraintdef text", async () => {
    const indexes = await client.query<{ schema: string; table: string; name: string; definition: string }>(
      `select n.nspname as schema, c.relname as table, ic.relname as name, pg_get_indexdef(i.indexrelid) as definition
         from pg_index i join pg_class c on c.oid = i.indrelid join pg_class ic on ic.oid = i.indexrelid
         join pg_namespace n on n.oid = c.relnamespace
        where n.nspname in ($1, 'other') and not ic.relispartition`,
      [S],
    );
    const constraints = await client.query<{ schema: string; table: string; name: string; definition: string }>(
      `select n.nspname as schema, c.relname as table, co.conname as name, pg_get_constraintdef(co.oid) as definition
         from pg_constraint co join pg_class c on c.oid = co.conrelid join pg_namespace n on n.oid = c.relnamespace
        where n.nspname in ($1, 'other') and co.contype in ('p', 'u', 'f', 'c', 'x') and co.conparentid = 0`,
      [S],
    );
    const recordedIndexes = doc.tables.flatMap((t) => t.indexes.map((i) => [t.schema, t.name, i.name, i.definition].join(" | ")));
    const recordedConstraints = doc.tables.flatMap((t) =>
      t.constraints.map((c) => [t.schema, t.name, c.name, c.definition].join(" | ")),
    );
    expect(recordedIndexes.sort()).toEqual(indexes.rows.map((r) => [r.schema, r.table, r.name, r.definition].join(" | ")).sort());
    expect(recordedConstraints.sort()).toEqual(
      constraints.rows.map((r) => [r.schema, r.table, r.name, r.definition].join(" | ")).sort(),
    );
    expect(indexes.rows.length).toBe(30);
  });

  it("composes the plain cases and leaves every special one to the server", async () => {
    const { composedIndexes, serverIndexes, clientConstraints } = await definitionSplit(client, [S]);
    expect(composedIndexes.sort()).toEqual([...COMPOSED_INDEXES].sort());
    expect(serverIndexes.sort()).toEqual(
      [
        "special_array",
        "special_brin",
        "special_collate",
        "special_domain",
        "special_enum",
        "special_expression",
        "special_fillfactor",
        "special_gin",
        "special_opclass",
        "special_partial",
      ].sort(),
    );
    // Constraints the query leaves to the client: every pk_/uq_/fk_ one (all composable here), no special one.
    expect(clientConstraints.every((name) => /^(pk|uq|fk)[ _]/.test(name))).toBe(true);
    expect(clientConstraints.length).toBe(11);
  });
});
