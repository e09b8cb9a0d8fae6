/**
 * The ws-q5 reference fixture behaves like the seed says: the artifact applies as the schema
 * owner, fails at its first CREATE TABLE as directus (42501) leaving nothing, and the rollback
 * package returns the catalog to where it was. Asserted against the catalog, not the SQL text.
 */
import { join } from "node:path";
import { bootstrapFixture, clientTool, FIXTURE_DIR, query, runPsql, testServers } from "@dieu44/test-harness";
import { describe, expect, it } from "vitest";

const ARTIFACT = join(FIXTURE_DIR, "ws-q5-registry-substrate-ddl.sql");
const ROLLBACK = join(FIXTURE_DIR, "ws-q5-registry-substrate-rollback.sql");

/** Everything in the schema a reviewer would care about, as sorted text rows. */
async function schemaCatalog(server: ReturnType<typeof testServers>[number], database: string): Promise<string[]> {
  const rows = await query<{ item: string }>(
    server,
    `select 'rel:' || c.relname || ':' || c.relkind::text || ':' || pg_get_userbyid(c.relowner) as item
       from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'cutter_governance'
     union all
     select 'con:' || conrelid::regclass::text || ':' || conname || ':' || contype::text || ':' || pg_get_constraintdef(oid)
       from pg_constraint where connamespace = 'cutter_governance'::regnamespace and contype <> 'n'
     union all
     select 'typ:' || typname from pg_type where typnamespace = 'cutter_governance'::regnamespace and typtype <> 'c'
       and typname not like '\\_%'
     order by 1`,
    { database },
  );
  return rows.map((row) => row.item);
}

async function countByKind(server: ReturnType<typeof testServers>[number], database: string) {
  const [row] = await query<{
    tables: number;
    pk: number;
    fk: number;
    uq: number;
    ck: number;
    defaults: number;
    triggers: number;
  }>(
    server,
    `select (select count(*)::int from pg_tables where schemaname = 'cutter_governance' and tablename like 'registry\\_%') as tables,
            (select count(*)::int from pg_constraint where connamespace = 'cutter_governance'::regnamespace and contype = 'p'
               and conrelid::regclass::text like '%registry\\_%') as pk,
            (select count(*)::int from pg_constraint where connamespace = 'cutter_governance'::regnamespace and contype = 'f'
               and conrelid::regclass::text like '%registry\\_%') as fk,
            (select count(*)::int from pg_constraint where connamespace = 'cutter_governance'::regnamespace and contype = 'u'
               and conrelid::regclass::text like '%registry\\_%') as uq,
            (select count(*)::int from pg_constraint where connamespace = 'cutter_governance'::regnamespace and contype = 'c'
               and conrelid::regclass::text like '%registry\\_%') as ck,
            (select count(*)::int from pg_attrdef d join pg_class c on c.oid = d.adrelid
               where c.relnamespace = 'cutter_governance'::regnamespace and c.relname like 'registry\\_%') as defaults,
            (select count(*)::int from pg_trigger t join pg_class c on c.oid = t.tgrelid
               where c.relnamespace = 'cutter_governance'::regnamespace and not t.tgisinternal) as triggers`,
    { database },
  );
  return row;
}

const psqlAvailable = Boolean(clientTool("psql"));

describe.skipIf(!psqlAvailable)("ws-q5 fixture", () => {
  for (const server of testServers()) {
    describe(server.label, () => {
      it("applies cleanly as workflow_admin with 12 tables, 12 PK, 8 FK, 4 UNIQUE and nothing else", async () => {
        const database = await bootstrapFixture(server);
        const result = runPsql(server, ["-v", "ON_ERROR_STOP=1", "-f", ARTIFACT], { database, user: "workflow_admin" });
        expect(result.stderr).toBe("");
        expect(result.status).toBe(0);
        expect(await countByKind(server, database)).toEqual({
          tables: 12,
          pk: 12,
          fk: 8,
          uq: 4,
          ck: 0,
          defaults: 0,
          triggers: 0,
        });
      });

      it("fails at its first CREATE TABLE as directus with 42501 and leaves nothing behind", async () => {
        const database = await bootstrapFixture(server);
        const before = await schemaCatalog(server, database);
        const result = runPsql(server, ["-v", "ON_ERROR_STOP=1", "-v", "VERBOSITY=verbose", "-f", ARTIFACT], {
          database,
          user: "directus",
        });
        expect(result.status).toBe(3);
        expect(result.stderr).toMatch(/ERROR:\s+42501: permission denied for schema cutter_governance/);
        // psql names the first CREATE TABLE: statement 1 failed, nothing ran after it.
        expect(result.stderr).toMatch(/LINE 1: CREATE TABLE cutter_governance\.registry_namespace \(/);
        expect(await schemaCatalog(server, database)).toEqual(before);
        expect((await countByKind(server, database))?.tables).toBe(0);
      });

      it("rollback package returns the catalog to where it was", async () => {
        const database = await bootstrapFixture(server);
        const before = await schemaCatalog(server, database);
        expect(runPsql(server, ["-v", "ON_ERROR_STOP=1", "-f", ARTIFACT], { database, user: "workflow_admin" }).status).toBe(0);
        expect(await schemaCatalog(server, database)).not.toEqual(before);
        const rollback = runPsql(server, ["-v", "ON_ERROR_STOP=1", "-f", ROLLBACK], { database, user: "workflow_admin" });
        expect(rollback.stderr).toBe("");
        expect(rollback.status).toBe(0);
        expect(await schemaCatalog(server, database)).toEqual(before);
      });
    });
  }
});
