/**
 * A table held in ACCESS EXCLUSIVE mode by another session (DDL or LOCK TABLE in progress): the
 * catalog functions that deparse an expression of it (here a CHECK constraint) wait for it. The
 * snapshot gives up after its lock_timeout with a clear error (SQLSTATE 55P03 kept as `code`),
 * never hanging until the statement timeout. A locked table with nothing to deparse is read
 * without waiting: its definitions are composed from the catalog rows of the snapshot.
 */
import { bootstrapFixture, dropDatabase, query, serverUrl, testServers } from "@dieu44/test-harness";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CatalogLockTimeoutError } from "../src/index.js";
import { runCli, snapshotOf } from "./helpers.js";

describe.each(testServers().map((server) => [server.label, server] as const))("lock waits on %s", (_label, server) => {
  let database: string;
  let holder: pg.Client;
  beforeAll(async () => {
    database = await bootstrapFixture(server, "lockwait");
    await query(
      server,
      `ALTER TABLE cutter_governance.governance_article ADD CONSTRAINT body_not_blank CHECK (body <> '');
       CREATE SCHEMA plain_only;
       CREATE TABLE plain_only.parent (id int PRIMARY KEY, code text UNIQUE, at timestamptz DEFAULT now());
       CREATE TABLE plain_only.child (id int PRIMARY KEY, parent_id int REFERENCES plain_only.parent, label varchar(20));
       CREATE INDEX ON plain_only.child (label DESC)`,
      { database },
    );
    holder = new pg.Client({ connectionString: serverUrl(server, { database }) });
    await holder.connect();
    await holder.query(
      "BEGIN; LOCK TABLE cutter_governance.governance_article, plain_only.parent, plain_only.child IN ACCESS EXCLUSIVE MODE",
    );
  });
  afterAll(async () => {
    await holder?.query("ROLLBACK").catch(() => undefined);
    await holder?.end();
    if (database) await dropDatabase(server, database);
  });

  it("the library gives up after lockTimeoutMs with CatalogLockTimeoutError (55P03)", async () => {
    const started = performance.now();
    const error = await snapshotOf(server, database, { schemas: ["cutter_governance"], lockTimeoutMs: 300 }).catch(
      (caught: unknown) => caught,
    );
    const waited = performance.now() - started;
    expect(error).toBeInstanceOf(CatalogLockTimeoutError);
    expect((error as CatalogLockTimeoutError).code).toBe("55P03");
    expect((error as Error).message).toMatch(/lock_timeout \(300 ms\)/);
    expect(waited).toBeLessThan(5000);
    // The other session is unharmed: its lock and transaction are still there.
    const { rows } = await holder.query(
      "SELECT count(*)::int AS n FROM pg_locks WHERE pid = pg_backend_pid() AND mode = 'AccessExclusiveLock'",
    );
    expect(rows[0].n).toBeGreaterThan(0);
  });

  it("the CLI exits 3 naming the lock wait", async () => {
    const result = await runCli([
      "--url",
      serverUrl(server, { database }),
      "--schema",
      "cutter_governance",
      "--lock-timeout-ms",
      "300",
    ]);
    expect(result.status).toBe(3);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(/^catalog-snapshot: a catalog read waited longer than lock_timeout \(300 ms\)/);
  });

  it("reads locked tables whose definitions need no deparsing without waiting", async () => {
    const doc = await snapshotOf(server, database, { schemas: ["plain_only"], lockTimeoutMs: 300 });
    expect(doc.tables.map((t) => [t.name, t.indexes.map((i) => i.definition), t.constraints.map((c) => c.definition)])).toEqual([
      [
        "child",
        [
          "CREATE INDEX child_label_idx ON plain_only.child USING btree (label DESC)",
          "CREATE UNIQUE INDEX child_pkey ON plain_only.child USING btree (id)",
        ],
        ["FOREIGN KEY (parent_id) REFERENCES plain_only.parent(id)", "PRIMARY KEY (id)"],
      ],
      [
        "parent",
        [
          "CREATE UNIQUE INDEX parent_code_key ON plain_only.parent USING btree (code)",
          "CREATE UNIQUE INDEX parent_pkey ON plain_only.parent USING btree (id)",
        ],
        ["UNIQUE (code)", "PRIMARY KEY (id)"],
      ],
    ]);
  });
});
