/**
 * Every object kind the document records, quoted mixed-case and unicode identifiers, a table at
 * PostgreSQL's 1,600-column limit, and fingerprints that move with every catalog change in scope.
 */
import { readFileSync } from "node:fs";
import { createDatabase, dropDatabase, query, serverUrl, testServers } from "@dieu44/test-harness";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CatalogSnapshot, CatalogSnapshotSchema, canonicalJson, computeFingerprint, snapshot } from "../src/index.js";
import { snapshotOf, table } from "./helpers.js";

const EVERY_KIND_SQL = readFileSync(new URL("./fixtures/every-kind.sql", import.meta.url), "utf8");
const S = "Kinds ü";

describe.each(testServers().map((server) => [server.label, server] as const))("object kinds on %s", (_label, server) => {
  let database: string;
  let doc: CatalogSnapshot;

  beforeAll(async () => {
    database = await createDatabase(server, "kinds");
    await query(server, EVERY_KIND_SQL, { database });
    doc = await snapshotOf(server, database, { schemas: [S], privilegesFor: ["directus", "workflow_admin"] });
    CatalogSnapshotSchema.parse(doc);
  });
  afterAll(async () => {
    if (database) await dropDatabase(server, database);
  });

  it("records schemas and tables of every kind, sorted by code point", () => {
    expect(doc.schemas.map((s) => [s.name, s.owner])).toEqual([[S, "workflow_admin"]]);
    expect(doc.tables.map((t) => [t.name, t.kind, t.persistence, t.partitionOf])).toEqual([
      ["Child Ω", "table", "permanent", null],
      ["measurement", "partitioned_table", "permanent", null],
      ["measurement_2024", "table", "permanent", `${S}.measurement`],
      ["parent", "table", "permanent", null],
      ["remote_thing", "foreign_table", "permanent", null],
      ["scratch", "table", "unlogged", null],
    ]);
    const child = table(doc, S, "Child Ω");
    expect([child.rowSecurity, child.forceRowSecurity]).toEqual([true, true]);
  });

  it("records columns with type, default, identity, generation and collation", () => {
    const parent = table(doc, S, "parent");
    expect(
      parent.columns.map((c) => [
        c.position,
        c.name,
        c.type,
        c.notNull,
        c.default,
        c.identity,
        c.generated,
        c.generatedKind,
        c.collation,
      ]),
    ).toEqual([
      [1, "id", "bigint", true, null, "always", null, null, null],
      [2, "code", "character varying(20)", true, null, null, null, null, "C"],
      [3, "feeling", `"${S}".mood`, true, `'ok'::"${S}".mood`, null, null, null, null],
      [4, "amount", `"${S}".positive_int`, false, null, null, null, null, null],
      [5, "doubled", "bigint", false, null, null, "(id * 2)", "stored", null],
      [6, "note", "text", false, null, null, null, null, null],
    ]);
    expect(table(doc, S, "Child Ω").columns[0]).toMatchObject({
      name: "Child ID",
      default: `nextval('"${S}"."Child Ω_Child ID_seq"'::regclass)`,
    });
  });

  it("records constraints of each type with their definitions", () => {
    const parent = table(doc, S, "parent");
    const unique = parent.constraints.find((c) => c.type === "unique");
    expect(unique).toMatchObject({ name: "parent_code_key", columns: ["code", "note"], index: "parent_code_key" });
    expect(unique?.nullsNotDistinct).toBe(true);
    expect(unique?.definition).toBe("UNIQUE NULLS NOT DISTINCT (code, note)");
    expect(parent.constraints.find((c) => c.type === "check")).toMatchObject({
      name: "parent_note_check",
      definition: "CHECK ((note <> ''::text))",
      columns: ["note"],
    });
    const child = table(doc, S, "Child Ω");
    expect(child.constraints.map((c) => [c.name, c.type])).toEqual([
      ["Child Ω_parent_id_fkey", "foreign_key"],
      ["Child Ω_pkey", "primary_key"],
      ["child_check", "trigger"],
      ["no_overlap", "exclusion"],
    ]);
    const fk = child.constraints[0];
    expect(fk).toMatchObject({ deferrable: true, initiallyDeferred: true, validated: true, index: null, columns: ["parent_id"] });
    expect(fk?.foreignKey).toEqual({
      referencedSchema: S,
      referencedTable: "parent",
      referencedColumns: ["id"],
      onDelete: "cascade",
      onUpdate: "set_null",
      match: "simple",
    });
    expect(fk?.definition).toBe(
      `FOREIGN KEY (parent_id) REFERENCES "${S}".parent(id) ON UPDATE SET NULL ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED`,
    );
    expect(child.constraints[3]).toMatchObject({ definition: "EXCLUDE USING gist (during WITH &&)", index: "no_overlap" });
    // PostgreSQL 18 keeps NOT NULL as constraint rows; the document reports them as notNull only.
    expect(doc.tables.flatMap((t) => t.constraints).some((c) => (c.type as string) === "not_null")).toBe(false);
    // The partition's PK clone belongs to the parent's constraint.
    expect(table(doc, S, "measurement_2024").constraints).toEqual([]);
    expect(table(doc, S, "measurement").constraints.map((c) => c.name)).toEqual(["measurement_pkey"]);
  });

  it("records indexes with the constraint they back, and user triggers only", () => {
    const parent = table(doc, S, "parent");
    expect(parent.indexes.map((i) => [i.name, i.unique, i.primary, i.constraint])).toEqual([
      ["parent_code_key", true, false, "parent_code_key"],
      ["parent_lower_note_idx", false, false, null],
      ["parent_pkey", true, true, "parent_pkey"],
    ]);
    expect(parent.indexes[1]?.definition).toBe(
      `CREATE INDEX parent_lower_note_idx ON "${S}".parent USING btree (lower(note)) WHERE (note IS NOT NULL)`,
    );
    expect(parent.triggers).toEqual([
      {
        name: "parent_touch",
        definition: `CREATE TRIGGER parent_touch BEFORE UPDATE ON "${S}".parent FOR EACH ROW EXECUTE FUNCTION "${S}".touch()`,
        enabled: "O",
      },
    ]);
    // No internal FK triggers on the referenced table, no trigger clone on the partition.
    expect(table(doc, S, "measurement").triggers.map((t) => t.name)).toEqual(["measurement_touch"]);
    expect(table(doc, S, "measurement_2024").triggers).toEqual([]);
    expect(table(doc, S, "Child Ω").triggers.map((t) => t.name)).toEqual(["child_check"]);
  });

  it("records table, view and routine privileges per grantee", () => {
    expect(table(doc, S, "parent").acl.find((a) => a.grantee === "directus")).toEqual({
      grantee: "directus",
      grantor: server.superuser,
      privileges: ["INSERT", "SELECT"],
      grantable: [],
    });
    const view = doc.views.find((v) => v.name === "parent_view");
    expect(view?.acl.find((a) => a.grantee === "directus")).toEqual({
      grantee: "directus",
      grantor: server.superuser,
      privileges: ["SELECT"],
      grantable: ["SELECT"],
    });
    const addOne = doc.routines.find((r) => r.name === "add_one");
    expect(addOne?.acl.map((a) => a.grantee)).toEqual(["PUBLIC", "directus", server.superuser]);
  });

  it("gives every table ACL objects of its own, though one ACL text is parsed once", () => {
    // Tables with only their owner's default privileges share one aclitem text.
    const [first, second] = doc.tables.filter((t) => t.acl.length === 1 && t.acl[0]?.grantee === t.owner);
    expect(first && second).toBeTruthy();
    if (!first || !second) return;
    expect(second.acl).toEqual(first.acl);
    // A caller that edits one table's ACL must not edit another's.
    expect(second.acl).not.toBe(first.acl);
    expect(second.acl[0]).not.toBe(first.acl[0]);
    expect(second.acl[0]?.privileges).not.toBe(first.acl[0]?.privileges);
    expect(second.acl[0]?.grantable).not.toBe(first.acl[0]?.grantable);
  });

  it("records views, sequences, enums, domains, composite types, routines and extensions", () => {
    expect(doc.views.map((v) => [v.name, v.kind])).toEqual([
      ["parent_counts", "materialized_view"],
      ["parent_view", "view"],
    ]);
    expect(doc.views[1]?.definition).toContain(`FROM "${S}".parent`);
    expect(doc.sequences.map((s) => [s.name, s.dataType, s.start, s.increment, s.min, s.max, s.cycle, s.ownedBy])).toEqual([
      [
        "Child Ω_Child ID_seq",
        "integer",
        "1",
        "1",
        "1",
        "2147483647",
        false,
        { schema: S, table: "Child Ω", column: "Child ID" },
      ],
      ["parent_id_seq", "bigint", "1", "1", "1", "9223372036854775807", false, { schema: S, table: "parent", column: "id" }],
      ["standalone_seq", "integer", "10", "5", "10", "1000", true, null],
    ]);
    expect(doc.enums).toEqual([{ schema: S, name: "mood", owner: server.superuser, labels: ["sad", "meh", "ok", "happy"] }]);
    expect(doc.domains).toEqual([
      {
        schema: S,
        name: "positive_int",
        owner: server.superuser,
        baseType: "integer",
        notNull: true,
        default: "1",
        checks: [
          { name: "positive", definition: "CHECK ((VALUE > 0))" },
          { name: "small", definition: "CHECK ((VALUE < 1000000))" },
        ],
      },
    ]);
    expect(doc.compositeTypes).toEqual([
      {
        schema: S,
        name: "pair",
        owner: server.superuser,
        attributes: [
          { name: "left_side", type: "text" },
          { name: "Right Side", type: "numeric(10,2)" },
        ],
      },
    ]);
    expect(
      doc.routines.map((r) => [r.name, r.identityArguments, r.kind, r.returns, r.language, r.volatility, r.securityDefiner]),
    ).toEqual([
      ["add_one", "x integer", "function", "integer", "sql", "immutable", false],
      ["reset_scratch", "IN keep integer", "procedure", null, "sql", "volatile", false],
      ["secret_count", "", "function", "bigint", "sql", "stable", true],
      ["total_of", "integer", "aggregate", "integer", "internal", "immutable", false],
      ["touch", "", "function", "trigger", "plpgsql", "volatile", false],
    ]);
    expect(doc.routines.every((r) => /^[0-9a-f]{64}$/.test(r.bodySha256))).toBe(true);
    // plpgsql lives in pg_catalog: outside this schema-scoped snapshot.
    expect(doc.extensions).toEqual([]);
  });

  it("builds every nested object with its keys in code point order (canonical as it is)", () => {
    const reordered = JSON.parse(JSON.stringify(doc), (_key, value: unknown) =>
      value && typeof value === "object" && !Array.isArray(value) ? Object.fromEntries(Object.entries(value).reverse()) : value,
    ) as CatalogSnapshot;
    for (const key of [
      "schemas",
      "tables",
      "views",
      "sequences",
      "enums",
      "domains",
      "compositeTypes",
      "routines",
      "roles",
      "scope",
    ] as const) {
      expect(JSON.stringify(doc[key]), key).toBe(canonicalJson(reordered[key]));
    }
    // The general path (any key order, as zod or another tool gives it) agrees with the fast one.
    expect(computeFingerprint(reordered)).toBe(doc.fingerprint);
    expect(computeFingerprint(CatalogSnapshotSchema.parse(reordered))).toBe(doc.fingerprint);
  });

  it("tells a role with USAGE only from the schema owner", () => {
    expect(doc.roles.map((r) => [r.name, r.schemaPrivileges])).toEqual([
      ["directus", [{ schema: S, usage: true, create: false }]],
      ["workflow_admin", [{ schema: S, usage: true, create: true }]],
    ]);
  });

  it("lists every extension of the database in an unscoped snapshot, and role memberships", async () => {
    const group = `snapshot_group_${database}`;
    await query(server, `create role ${group} nologin; grant ${group} to directus`, { database });
    try {
      const unscoped = await snapshotOf(server, database, { privilegesFor: ["directus"] });
      expect(unscoped.scope.schemas).toBeNull();
      expect(unscoped.schemas.map((s) => s.name)).toEqual([S, "public"]);
      expect(unscoped.extensions).toContainEqual({ name: "plpgsql", version: "1.0", schema: "pg_catalog" });
      expect(unscoped.roles[0]?.memberOf).toEqual([group]);
    } finally {
      await query(server, `drop role ${group}`, { database });
    }
  });

  it("leaves out what an extension owns in a schema in scope, and keeps the schema's own objects", async () => {
    // pg_buffercache brings a view and functions, citext a type and functions (both contrib, on
    // both servers). The extension is recorded; its members are not, the schema's own objects are.
    const scope = "ext in scope";
    await query(
      server,
      `create schema "${scope}";
       create extension pg_buffercache schema "${scope}";
       create extension citext schema "${scope}";
       create function "${scope}".mine() returns int language sql as 'select 1';
       create view "${scope}".my_view as select 1 as one`,
      { database },
    );
    try {
      const scoped = await snapshotOf(server, database, { schemas: [scope] });
      expect(scoped.views.map((view) => view.name)).toEqual(["my_view"]);
      expect(scoped.routines.map((routine) => routine.name)).toEqual(["mine"]);
      expect(scoped.tables).toEqual([]);
      const unscoped = await snapshotOf(server, database, {});
      expect(unscoped.extensions.map((extension) => [extension.name, extension.schema])).toEqual(
        expect.arrayContaining([
          ["citext", scope],
          ["pg_buffercache", scope],
        ]),
      );
    } finally {
      await query(server, `drop schema "${scope}" cascade`, { database });
    }
  });

  it("gives the same fingerprint to an unchanged catalog and a new one after every change in scope", async () => {
    const options = { schemas: [S] };
    const seen = new Set<string>([(await snapshotOf(server, database, options)).fingerprint]);
    expect((await snapshotOf(server, database, options)).fingerprint).toBe([...seen][0]);
    const changes = [
      `alter table "${S}".parent alter column note set default 'n/a'`,
      `alter table "${S}".parent alter column note set not null`,
      `alter table "${S}".parent rename column note to remark`,
      `alter table "${S}".scratch alter column v type varchar(30)`,
      `alter table "${S}".parent add constraint parent_code_check check (code <> '')`,
      `create index parent_feeling_idx on "${S}".parent (feeling)`,
      `alter table "${S}".parent disable trigger parent_touch`,
      `alter table "${S}".scratch enable row level security`,
      `grant update on "${S}".scratch to directus`,
      `alter table "${S}".scratch owner to workflow_admin`,
      `alter type "${S}".mood add value 'ecstatic'`,
      `alter domain "${S}".positive_int add constraint even check (VALUE % 2 = 0) not valid`,
      `alter type "${S}".pair add attribute extra int`,
      `alter sequence "${S}".standalone_seq increment 7`,
      `create or replace function "${S}".add_one(x integer) returns integer language sql immutable as 'SELECT x + 2'`,
      `create or replace view "${S}".parent_view as select id, code, feeling from "${S}".parent`,
      `revoke usage on schema "${S}" from directus`,
      `create table "${S}".late_addition (id int)`,
    ];
    for (const change of changes) {
      await query(server, change, { database });
      const fingerprint = (await snapshotOf(server, database, options)).fingerprint;
      expect(seen.has(fingerprint), change).toBe(false);
      seen.add(fingerprint);
    }
    // A change outside the scope does not move it.
    const last = [...seen].at(-1);
    await query(server, "create table public.elsewhere (id int)", { database });
    expect((await snapshotOf(server, database, options)).fingerprint).toBe(last);
  });
});

describe.each(testServers().map((server) => [server.label, server] as const))(
  "identifiers and limits on %s",
  (_label, server) => {
    it("keeps quoted mixed-case and unicode names exactly, in code point order", async () => {
      const database = await createDatabase(server, "idents");
      try {
        const names = ["MixedCase", "lower", "Übersicht", "with space", 'quo"te', "日本語", "🐘 elephant", "Ａfullwidth"];
        const ddl = names
          .map(
            (name) =>
              `create table "Schéma ""X"""."${name.replaceAll('"', '""')}" ("Spalte Ä" int primary key, "🔑" text unique);`,
          )
          .join("\n");
        await query(server, `create schema "Schéma ""X"""; ${ddl}`, { database });
        const role = `Rôle "Q" ${database}`;
        const quotedRole = `"${role.replaceAll('"', '""')}"`;
        await query(server, `create role ${quotedRole} nologin; grant select on "Schéma ""X"""."🐘 elephant" to ${quotedRole}`, {
          database,
        });
        const doc = await snapshotOf(server, database, { schemas: ['Schéma "X"'], privilegesFor: [role] });
        await query(server, `drop owned by ${quotedRole}; drop role ${quotedRole}`, { database });
        expect(doc.schemas[0]).toMatchObject({ name: 'Schéma "X"', exists: true });
        // Code point order (as COLLATE "C" and UTF-8 bytes): the elephant (U+1F418) sorts after U+FF21.
        expect(doc.tables.map((t) => t.name)).toEqual([
          "MixedCase",
          "lower",
          'quo"te',
          "with space",
          "Übersicht",
          "日本語",
          "Ａfullwidth",
          "🐘 elephant",
        ]);
        const sorted = await query<{ relname: string }>(
          server,
          `select relname from pg_class where relnamespace = '"Schéma ""X"""'::regnamespace and relkind = 'r' order by relname collate "C"`,
          { database },
        );
        expect(doc.tables.map((t) => t.name)).toEqual(sorted.map((row) => row.relname));
        const elephant = table(doc, 'Schéma "X"', "🐘 elephant");
        expect(elephant.acl.find((entry) => entry.grantee === role)).toEqual({
          grantable: [],
          grantee: role,
          grantor: server.superuser,
          privileges: ["SELECT"],
        });
        expect(doc.roles.map((r) => [r.name, r.exists, r.canLogin])).toEqual([[role, true, false]]);
        expect(elephant.columns.map((c) => c.name)).toEqual(["Spalte Ä", "🔑"]);
        expect(elephant.constraints.map((c) => [c.type, c.columns])).toEqual([
          ["primary_key", ["Spalte Ä"]],
          ["unique", ["🔑"]],
        ]);
        expect(elephant.indexes[0]?.definition).toBe(
          `CREATE UNIQUE INDEX "🐘 elephant_pkey" ON "Schéma ""X"""."🐘 elephant" USING btree ("Spalte Ä")`,
        );
      } finally {
        await dropDatabase(server, database);
      }
    });

    it.runIf(server.major >= 18)("records virtual generated columns and NOT ENFORCED constraints (PostgreSQL 18)", async () => {
      const database = await createDatabase(server, "pg18");
      try {
        await query(
          server,
          `create table public.v (a int not null, b int generated always as (a * 2) virtual,
                                constraint a_small check (a < 10) not enforced)`,
          { database },
        );
        const v = table(await snapshotOf(server, database, { schemas: ["public"] }), "public", "v");
        expect(v.columns.map((c) => [c.name, c.notNull, c.generated, c.generatedKind])).toEqual([
          ["a", true, null, null],
          ["b", false, "(a * 2)", "virtual"],
        ]);
        expect(v.constraints.map((c) => [c.name, c.type, c.definition])).toEqual([
          ["a_small", "check", "CHECK ((a < 10)) NOT ENFORCED"],
        ]);
      } finally {
        await dropDatabase(server, database);
      }
    });

    it("records a table with 1,600 columns in order", async () => {
      const database = await createDatabase(server, "wide");
      try {
        const columns = Array.from({ length: 1600 }, (_, i) => `c${String(i + 1).padStart(4, "0")} int`).join(", ");
        await query(server, `create table public.wide (${columns})`, { database });
        const doc = await snapshotOf(server, database, { schemas: ["public"] });
        const wide = table(doc, "public", "wide");
        expect(wide.columns).toHaveLength(1600);
        expect(wide.columns.map((c) => c.position)).toEqual(Array.from({ length: 1600 }, (_, i) => i + 1));
        expect(wide.columns[1599]).toMatchObject({ name: "c1600", type: "integer" });
      } finally {
        await dropDatabase(server, database);
      }
    });
  },
);

describe.each(testServers().map((server) => [server.label, server] as const))(
  "transactions and roles on %s",
  (_label, server) => {
    it("reads inside the caller's open transaction and leaves it and its settings untouched", async () => {
      const database = await createDatabase(server, "intx");
      const client = new pg.Client({ connectionString: serverUrl(server, { database }) });
      await client.connect();
      try {
        await client.query("begin");
        await client.query("set local statement_timeout = 12345; set local search_path = public");
        await client.query("create table public.uncommitted (id int primary key)");
        // Without useCurrentTransaction the open transaction is refused, never committed.
        await expect(snapshot(client, { schemas: ["public"] })).rejects.toThrow(/already in a transaction/);
        const inside = await snapshot(client, { schemas: ["public"], useCurrentTransaction: true });
        expect(inside.tables.map((t) => t.name)).toEqual(["uncommitted"]);
        const settings = await client.query(
          "select current_setting('statement_timeout') as t, current_setting('search_path') as p",
        );
        expect(settings.rows[0]).toEqual({ t: "12345ms", p: "public" });
        await client.query("rollback");
        // Own transaction on a caller-owned client: the rolled-back table is gone.
        const outside = await snapshot(client, { schemas: ["public"] });
        expect(outside.tables).toEqual([]);
        await expect(snapshot(client, { useCurrentTransaction: true })).rejects.toThrow(/no open transaction/);
      } finally {
        await client.end();
        await dropDatabase(server, database);
      }
    });

    it("reads the same document over several connections sharing one exported snapshot", async () => {
      const database = await createDatabase(server, "parallel");
      try {
        const tables = Array.from(
          { length: 40 },
          (_, i) =>
            `create table public.p${i} (id int primary key, prev int references public.p${Math.max(0, i - 1)} (id), code text unique);`,
        );
        await query(server, `${EVERY_KIND_SQL}\n${tables.join("\n")}`, { database });
        const totals: number[] = [];
        const serial = await snapshotOf(server, database, { maxConnections: 1, privilegesFor: ["directus"] });
        const parallel = await snapshotOf(server, database, {
          maxConnections: 3,
          parallelMinTables: 1,
          privilegesFor: ["directus"],
          onProgress: (_done, total) => totals.push(total ?? 0),
        });
        // 10 fixed steps plus 6 per connection: 3 connections read.
        expect(totals.at(-1)).toBe(28);
        expect(parallel.tables).toHaveLength(46);
        const { server: _a, ...serialContent } = serial;
        const { server: _b, ...parallelContent } = parallel;
        expect(parallelContent).toEqual(serialContent);
        expect(table(parallel, "public", "p7").constraints.find((c) => c.type === "foreign_key")?.foreignKey).toMatchObject({
          referencedTable: "p6",
          referencedColumns: ["id"],
        });
      } finally {
        await dropDatabase(server, database);
      }
    });

    it("works for a role that can only read the catalog, and the same catalog gives the same fingerprint", async () => {
      const database = await createDatabase(server, "readonly");
      try {
        await query(server, EVERY_KIND_SQL, { database });
        // No grants at all: only what PUBLIC may read (the catalog).
        const reader = `reader_${database}`;
        await query(server, `create role ${reader} login password 'reader-pw-1234'`, { database });
        try {
          const asReader = await snapshot(
            { url: serverUrl(server, { database, user: reader, password: "reader-pw-1234" }), env: {} },
            { schemas: [S] },
          );
          const asSuperuser = await snapshotOf(server, database, { schemas: [S] });
          expect(asReader.server.currentUser).toBe(reader);
          expect(asReader.fingerprint).toBe(asSuperuser.fingerprint);
          expect(asReader.tables).toHaveLength(6);
        } finally {
          await query(server, `drop role ${reader}`, { database });
        }
      } finally {
        await dropDatabase(server, database);
      }
    });
  },
);
