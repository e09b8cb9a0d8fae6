/**
 * The reference cycle: the simulated production before and after the approved artifact, applied
 * by psql as workflow_admin exactly as the procedure does.
 */
import { join } from "node:path";
import { bootstrapFixture, dropDatabase, FIXTURE_DIR, FIXTURE_TABLES, runPsql, testServers } from "@dieu44/test-harness";
import { describe, expect, it } from "vitest";
import { CatalogSnapshotSchema, type Table } from "../src/index.js";
import { snapshotOf, table } from "./helpers.js";

const SCHEMA = "cutter_governance";
const NEW_TABLES = [...FIXTURE_TABLES].sort();
const OLD_TABLES = ["cutter_run", "governance_article", "governance_law"];

function countByType(tables: Table[], type: string): number {
  return tables.reduce((sum, entry) => sum + entry.constraints.filter((c) => c.type === type).length, 0);
}

describe.each(testServers().map((server) => [server.label, server] as const))("ws-q5 fixture on %s", (_label, server) => {
  it("records the seed database before and exactly the artifact's objects after it", async () => {
    const database = await bootstrapFixture(server);
    try {
      const options = { schemas: [SCHEMA], privilegesFor: ["directus", "workflow_admin"] };
      const before = await snapshotOf(server, database, options);
      const again = await snapshotOf(server, database, options);
      CatalogSnapshotSchema.parse(before);
      expect(again.fingerprint).toBe(before.fingerprint);
      expect(again.server.takenAt).not.toBe(before.server.takenAt);

      expect(before.server.systemIdentifier).toBe(server.systemIdentifier);
      expect(before.server.serverVersionNum).toBe(server.serverVersionNum);
      expect(before.server.database).toBe(database);
      expect(before.schemas).toEqual([
        {
          name: SCHEMA,
          exists: true,
          owner: "workflow_admin",
          acl: [
            { grantee: "directus", grantor: "workflow_admin", privileges: ["USAGE"], grantable: [] },
            { grantee: "workflow_admin", grantor: "workflow_admin", privileges: ["CREATE", "USAGE"], grantable: [] },
          ],
        },
      ]);
      expect(before.tables.map((entry) => entry.name)).toEqual(OLD_TABLES);
      expect(before.tables.every((entry) => entry.owner === "workflow_admin")).toBe(true);
      const article = table(before, SCHEMA, "governance_article");
      expect(article.constraints.map((c) => [c.name, c.type, c.columns])).toEqual([
        ["governance_article_law_id_article_no_key", "unique", ["law_id", "article_no"]],
        ["governance_article_law_id_fkey", "foreign_key", ["law_id"]],
        ["governance_article_pkey", "primary_key", ["article_id"]],
      ]);
      expect(article.constraints[1]?.foreignKey).toEqual({
        referencedSchema: SCHEMA,
        referencedTable: "governance_law",
        referencedColumns: ["law_id"],
        onDelete: "no_action",
        onUpdate: "no_action",
        match: "simple",
      });
      expect(article.acl.find((entry) => entry.grantee === "directus")?.privileges).toEqual(["SELECT"]);
      const run = table(before, SCHEMA, "cutter_run");
      expect(run.columns.map((c) => [c.name, c.type, c.notNull, c.default, c.identity])).toEqual([
        ["run_id", "bigint", true, null, "always"],
        ["started_at", "timestamp with time zone", true, "now()", null],
        ["status", "text", true, null, null],
      ]);
      expect(run.constraints.map((c) => c.type)).toEqual(["primary_key", "check"]);
      expect(before.sequences.map((s) => [s.name, s.ownedBy])).toEqual([
        ["cutter_run_run_id_seq", { schema: SCHEMA, table: "cutter_run", column: "run_id" }],
      ]);
      for (const kind of ["views", "enums", "domains", "compositeTypes", "routines", "extensions"] as const) {
        expect(before[kind]).toEqual([]);
      }
      // The preflight's question: who may create in the schema?
      expect(before.roles).toEqual([
        {
          name: "directus",
          exists: true,
          canLogin: true,
          superuser: false,
          memberOf: [],
          schemaPrivileges: [{ schema: SCHEMA, usage: true, create: false }],
        },
        {
          name: "workflow_admin",
          exists: true,
          canLogin: true,
          superuser: false,
          memberOf: [],
          schemaPrivileges: [{ schema: SCHEMA, usage: true, create: true }],
        },
      ]);

      const applied = runPsql(server, ["-f", join(FIXTURE_DIR, "ws-q5-registry-substrate-ddl.sql")], {
        database,
        user: "workflow_admin",
      });
      expect(applied.stderr).toBe("");
      expect(applied.status).toBe(0);

      const after = await snapshotOf(server, database, options);
      expect(after.fingerprint).not.toBe(before.fingerprint);
      expect(after.tables.map((entry) => entry.name)).toEqual([...OLD_TABLES, ...NEW_TABLES].sort());
      const added = after.tables.filter((entry) => NEW_TABLES.includes(entry.name));
      expect(countByType(added, "primary_key")).toBe(12);
      expect(countByType(added, "foreign_key")).toBe(8);
      expect(countByType(added, "unique")).toBe(4);
      expect(countByType(added, "check")).toBe(0);
      expect(added.flatMap((entry) => entry.triggers)).toEqual([]);
      expect(added.flatMap((entry) => entry.columns.filter((c) => c.default !== null || c.identity !== null))).toEqual([]);
      // Every new index backs one of the new PK/UNIQUE constraints: no free-standing index.
      const indexes = added.flatMap((entry) => entry.indexes);
      expect(indexes).toHaveLength(16);
      expect(indexes.every((index) => index.constraint === index.name)).toBe(true);
      expect(
        table(after, SCHEMA, "registry_evidence").constraints.find(
          (c) => c.type === "foreign_key" && c.name === "registry_evidence_entity_fk",
        )?.foreignKey?.onDelete,
      ).toBe("restrict");
      // Nothing else in scope changed.
      for (const name of OLD_TABLES) expect(table(after, SCHEMA, name)).toEqual(table(before, SCHEMA, name));
      const { tables: _t1, fingerprint: _f1, server: _s1, ...restAfter } = after;
      const { tables: _t2, fingerprint: _f2, server: _s2, ...restBefore } = before;
      expect(restAfter).toEqual(restBefore);

      const afterAgain = await snapshotOf(server, database, options);
      expect(afterAgain.fingerprint).toBe(after.fingerprint);
    } finally {
      await dropDatabase(server, database);
    }
  });

  it("records a requested schema that does not exist as absent, and an unknown role as not existing", async () => {
    const database = await bootstrapFixture(server);
    try {
      const doc = await snapshotOf(server, database, { schemas: [SCHEMA, "no_such_schema"], privilegesFor: ["no_such_role"] });
      expect(doc.schemas.map((s) => [s.name, s.exists, s.owner])).toEqual([
        [SCHEMA, true, "workflow_admin"],
        ["no_such_schema", false, null],
      ]);
      expect(doc.scope).toEqual({ schemas: [SCHEMA, "no_such_schema"], privilegesFor: ["no_such_role"] });
      expect(doc.roles).toEqual([
        { name: "no_such_role", exists: false, canLogin: false, superuser: false, memberOf: [], schemaPrivileges: [] },
      ]);
    } finally {
      await dropDatabase(server, database);
    }
  });
});
