import { snapshot } from "@dieu44/catalog-snapshot";
import { createRole, query, serverUrl, testServers } from "@dieu44/test-harness";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { apply } from "../src/index.js";
import {
  applyAs,
  applyBackend,
  ddlSeen,
  FIXTURE_EXPECTATION,
  fixtureDatabase,
  REFERENCE_SQL,
  REGISTRY_TABLES,
  ROLLBACK_PATH,
  sha256,
  tableExists,
  tablesIn,
  variant,
} from "./helpers.js";

for (const server of testServers()) {
  describe(`tx-apply on PostgreSQL ${server.major}`, () => {
    it("reproduces the seed's incident: as directus 42501 at statement 1, nothing created; as workflow_admin 12 tables", async () => {
      const database = await fixtureDatabase(server);

      const blocked = await applyAs(server, database, "directus", REFERENCE_SQL);
      expect(blocked.outcome).toBe("rolled_back");
      expect(blocked.passed).toBe(false);
      expect(blocked.error).toMatchObject({ phase: "statement", sqlstate: "42501", statementIndex: 1, line: 9 });
      expect(blocked.statements[1]).toMatchObject({ tag: "CREATE TABLE", status: "failed" });
      // Pipelined (depth 4): statements 2 to 4 were already on their way; the server refused them
      // (the transaction had failed). Nothing was sent after the error arrived.
      expect(blocked.settings.pipelineDepth).toBe(4);
      expect(blocked.statements.slice(2, 5).map((statement) => statement.status)).toEqual(["skipped", "skipped", "skipped"]);
      expect(blocked.statements.slice(5).every((statement) => statement.status === "not_sent")).toBe(true);
      expect(blocked.guards.every((guard) => guard.passed)).toBe(true);
      expect(blocked.toolStatements.at(-1)?.sql).toBe("ROLLBACK");
      expect(await tablesIn(server, database)).toEqual([]);

      const log = await applyAs(server, database, "workflow_admin", REFERENCE_SQL, { path: "ws-q5-registry-substrate-ddl.sql" });
      expect(log.outcome).toBe("committed");
      expect(log.passed).toBe(true);
      expect(log.error).toBeNull();
      expect(log.statements).toHaveLength(14);
      expect(log.statements.every((statement) => statement.status === "succeeded")).toBe(true);
      expect(log.guards.map((guard) => [guard.name, guard.passed])).toEqual([
        ["sha256", true],
        ["artifact", true],
        ["connection_user", true],
        ["current_user", true],
        ["session_user", true],
        ["system_identifier", true],
        ["advisory_lock", true],
        ["lock_timeout", true],
        ["statement_timeout", true],
        ["current_user", true], // checked again right before COMMIT
      ]);
      expect(log.guards.find((guard) => guard.name === "system_identifier")?.actual).toBe(server.systemIdentifier);
      expect(log.psqlEquivalent).toBe("psql -U workflow_admin -v ON_ERROR_STOP=1 -1 -f ws-q5-registry-substrate-ddl.sql");
      expect(log.artifact.onErrorStop).toBe(true);
      // Nothing but guard queries and session settings of tx-apply's own.
      expect(log.toolStatements.map((statement) => statement.sql)).toEqual([
        expect.stringMatching(/^SELECT current_user::text AS current_user, session_user::text AS session_user, /),
        "SELECT pg_try_advisory_lock($1::bigint) AS locked",
        "SELECT set_config('lock_timeout', $1, false)",
        "SELECT set_config('statement_timeout', $1, false)",
        "SELECT set_config('synchronous_commit', 'local', false) WHERE current_setting('synchronous_commit') = 'off'",
        "SELECT name, setting FROM pg_settings WHERE name IN ('lock_timeout', 'statement_timeout')",
        "select current_user, session_user",
      ]);
      expect(log.guards.find((guard) => guard.name === "statement_timeout")).toMatchObject({
        expected: "60s (60000 ms)",
        actual: "60000 ms",
      });
      expect(await tablesIn(server, database)).toEqual([...REGISTRY_TABLES].sort());
      const owners = await query<{ owner: string }>(
        server,
        "SELECT DISTINCT tableowner AS owner FROM pg_tables WHERE schemaname = 'cutter_governance' AND tablename LIKE 'registry%'",
        { database },
      );
      expect(owners).toEqual([{ owner: "workflow_admin" }]);
    });

    it("an artifact failing at its seventh statement leaves zero new tables", async () => {
      const database = await fixtureDatabase(server);
      const broken = variant(
        REFERENCE_SQL,
        "code text NOT NULL UNIQUE,\n  inverse_code text\n",
        "code text NOT NULL UNIQUE,\n  inverse_code text REFERENCES cutter_governance.no_such_table (code)\n",
      );
      const log = await applyAs(server, database, "workflow_admin", broken);
      expect(log.outcome).toBe("rolled_back");
      expect(log.error).toMatchObject({ sqlstate: "42P01", statementIndex: 7, connectionLost: false });
      expect(log.statements.slice(1, 7).every((statement) => statement.status === "succeeded")).toBe(true);
      expect(log.statements[7]?.status).toBe("failed");
      expect(log.statements.slice(8, 11).map((statement) => statement.status)).toEqual(["skipped", "skipped", "skipped"]);
      expect(log.statements.slice(11).every((statement) => statement.status === "not_sent")).toBe(true);
      // Six CREATE TABLEs ran and were rolled back: the server saw 7 DDL statements, kept none.
      // The three skipped ones were sent but never ran.
      expect(await ddlSeen(server, database)).toBe(7);
      expect(await tablesIn(server, database)).toEqual([]);

      // One statement at a time, as psql: nothing at all is sent after the failing one.
      const oneByOne = await applyAs(server, database, "workflow_admin", broken, { pipelineDepth: 1 });
      expect(oneByOne.error).toMatchObject({ sqlstate: "42P01", statementIndex: 7 });
      expect(oneByOne.settings.pipelineDepth).toBe(1);
      expect(oneByOne.statements.slice(8).every((statement) => statement.status === "not_sent")).toBe(true);
      expect(await ddlSeen(server, database)).toBe(14);
      expect(await tablesIn(server, database)).toEqual([]);
    });

    it("notices of pipelined statements are attributed to the statement that raised them", async () => {
      const database = await fixtureDatabase(server);
      const sql =
        "BEGIN;\nCREATE TABLE cutter_governance.registry_n1 (id bigint PRIMARY KEY);\n" +
        "DO $$ BEGIN RAISE NOTICE 'from two'; END $$;\n" +
        "CREATE TABLE cutter_governance.registry_n3 (id bigint PRIMARY KEY);\n" +
        "DO $$ BEGIN RAISE NOTICE 'from four'; END $$;\nDO $$ BEGIN RAISE NOTICE 'from five'; END $$;\nCOMMIT;\n";
      const log = await applyAs(server, database, "workflow_admin", sql);
      expect(log.outcome).toBe("committed");
      expect(log.notices.map((notice) => [notice.message, notice.statementIndex])).toEqual([
        ["from two", 2],
        ["from four", 4],
        ["from five", 5],
      ]);
      expect(await tablesIn(server, database)).toEqual(["registry_n1", "registry_n3"]);
    });

    it("a role switched by a function call inside the artifact is caught before COMMIT: rolled back", async () => {
      const database = await fixtureDatabase(server);
      const other = await createRole(server, { prefix: "other" });
      await query(server, `GRANT ${other.name} TO workflow_admin`);
      const sql = `BEGIN;\nCREATE TABLE cutter_governance.registry_probe (id bigint PRIMARY KEY);\nSELECT set_config('role', '${other.name}', true);\nCOMMIT;\n`;
      const log = await applyAs(server, database, "workflow_admin", sql);
      expect(log.outcome).toBe("rolled_back");
      expect(log.guards.at(-1)).toMatchObject({
        name: "current_user",
        passed: false,
        detail: "checked again right before COMMIT",
      });
      expect(log.statements.at(-1)?.status).toBe("not_sent");
      expect(await tablesIn(server, database)).toEqual([]);
    });

    it("a wrong system identifier: not_started, no artifact statement reaches the server", async () => {
      const database = await fixtureDatabase(server);
      const log = await applyAs(server, database, "workflow_admin", REFERENCE_SQL, {
        expectSystemIdentifier: "7611578671664259111",
      });
      expect(log.outcome).toBe("not_started");
      expect(log.guards.at(-1)).toMatchObject({
        name: "system_identifier",
        expected: "7611578671664259111",
        actual: server.systemIdentifier,
        passed: false,
      });
      expect(log.statements.every((statement) => statement.status === "not_sent")).toBe(true);
      expect(await ddlSeen(server, database)).toBe(0);
      expect(await tablesIn(server, database)).toEqual([]);
    });

    it("a sha256 mismatch: not_started, no connection at all", async () => {
      const database = await fixtureDatabase(server);
      const log = await applyAs(server, database, "workflow_admin", `${REFERENCE_SQL}\n-- edited\n`, {
        sha256: sha256(REFERENCE_SQL),
      });
      expect(log.outcome).toBe("not_started");
      expect(log.guards).toEqual([expect.objectContaining({ name: "sha256", expected: sha256(REFERENCE_SQL), passed: false })]);
      expect(log.backendPid).toBeNull();
      expect(log.toolStatements).toEqual([]);
      expect(log.artifact.statementCount).toBeNull();
      expect(await ddlSeen(server, database)).toBe(0);
      expect(await tablesIn(server, database)).toEqual([]);
    });

    it("a second concurrent apply is refused by the advisory lock; the first one still commits", async () => {
      const database = await fixtureDatabase(server);
      // The first apply waits inside its transaction on a lock the test holds, so the overlap is certain.
      const gate = new pg.Client({ connectionString: serverUrl(server, { database }) });
      await gate.connect();
      try {
        await gate.query("SELECT pg_advisory_lock(4242)");
        let started!: () => void;
        const firstStarted = new Promise<void>((resolve) => {
          started = resolve;
        });
        const first = applyAs(
          server,
          database,
          "workflow_admin",
          "BEGIN;\nCREATE TABLE cutter_governance.first_apply (id bigint PRIMARY KEY);\nSELECT pg_advisory_xact_lock(4242);\nCOMMIT;\n",
          { lockTimeout: "30s", onStatement: (event) => event.phase === "start" && event.index === 0 && started() },
        );
        await firstStarted;
        const second = await applyAs(server, database, "workflow_admin", REFERENCE_SQL);
        expect(second.outcome).toBe("not_started");
        expect(second.guards.at(-1)).toMatchObject({ name: "advisory_lock", passed: false });
        await gate.query("SELECT pg_advisory_unlock(4242)");
        const firstLog = await first;
        expect(firstLog.outcome).toBe("committed");
      } finally {
        await gate.end();
      }
      expect(await tablesIn(server, database)).toEqual([]);
      expect(await tableExists(server, database, "cutter_governance.first_apply")).toBe(true);
    });

    it("gives up after lock_timeout when a referenced table is locked; nothing committed", async () => {
      const database = await fixtureDatabase(server);
      const holder = new pg.Client({ connectionString: serverUrl(server, { database }) });
      await holder.connect();
      try {
        await holder.query("BEGIN; LOCK TABLE cutter_governance.governance_law IN ACCESS EXCLUSIVE MODE");
        const log = await applyAs(
          server,
          database,
          "workflow_admin",
          "BEGIN;\nCREATE TABLE cutter_governance.lt_first (id bigint PRIMARY KEY);\n" +
            "CREATE TABLE cutter_governance.lt_child (id bigint PRIMARY KEY,\n  law_id bigint REFERENCES cutter_governance.governance_law (law_id));\n" +
            "COMMIT;\n",
          { lockTimeout: "300ms" },
        );
        expect(log.outcome).toBe("rolled_back");
        expect(log.error).toMatchObject({ sqlstate: "55P03", statementIndex: 2, line: 3 });
        expect(log.statements[2]?.durationMs).toBeGreaterThanOrEqual(250);
        expect(log.guards.find((guard) => guard.name === "lock_timeout")).toMatchObject({
          expected: "300ms (300 ms)",
          actual: "300 ms",
        });
      } finally {
        await holder.query("ROLLBACK");
        await holder.end();
      }
      expect(await tableExists(server, database, "cutter_governance.lt_first")).toBe(false);
      expect(await tableExists(server, database, "cutter_governance.lt_child")).toBe(false);
    });

    it("the backend terminated mid-apply: rolled_back, reported as a lost session, nothing partial", async () => {
      const database = await fixtureDatabase(server);
      const running = applyAs(
        server,
        database,
        "workflow_admin",
        "BEGIN;\nCREATE TABLE cutter_governance.term_a (id bigint PRIMARY KEY);\nSELECT pg_sleep(30);\n" +
          "CREATE TABLE cutter_governance.term_b (id bigint PRIMARY KEY);\nCOMMIT;\n",
      );
      const pid = await applyBackend(server, database, "SELECT pg_sleep%");
      await query(server, "SELECT pg_terminate_backend($1)", { params: [pid] });
      const log = await running;
      expect(log.outcome).toBe("rolled_back");
      expect(log.backendPid).toBe(pid);
      expect(log.error).toMatchObject({ phase: "statement", sqlstate: "57P01", statementIndex: 2, connectionLost: true });
      expect(log.statements.map((statement) => statement.status)).toEqual([
        "succeeded",
        "succeeded",
        "failed",
        "skipped", // sent behind the sleeping statement, never run
        "not_sent",
      ]);
      expect(await ddlSeen(server, database)).toBe(1);
      expect(await tableExists(server, database, "cutter_governance.term_a")).toBe(false);
    });

    it("the backend terminated during COMMIT: outcome unknown (never assumed), and the catalog shows all or nothing", async () => {
      const database = await fixtureDatabase(server);
      // A deferred constraint trigger makes COMMIT itself slow, so the termination lands inside it.
      const running = applyAs(
        server,
        database,
        "workflow_admin",
        `BEGIN;
CREATE TABLE cutter_governance.dc_t (id bigint PRIMARY KEY);
CREATE FUNCTION cutter_governance.slow_commit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(30); RETURN NULL; END $$;
CREATE CONSTRAINT TRIGGER dc_slow AFTER INSERT ON cutter_governance.dc_t DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION cutter_governance.slow_commit();
INSERT INTO cutter_governance.dc_t VALUES (1);
COMMIT;
`,
      );
      const pid = await applyBackend(server, database, "COMMIT", "PgSleep");
      await query(server, "SELECT pg_terminate_backend($1)", { params: [pid] });
      const log = await running;
      expect(log.outcome).toBe("unknown");
      expect(log.passed).toBe(false);
      expect(log.statements.at(-1)?.status).toBe("unknown");
      expect(log.error).toMatchObject({ phase: "commit", connectionLost: true, statementIndex: 5 });
      expect(log.summary).toMatch(/verify the catalog/);
      // The caller verifies: here the COMMIT never completed, so nothing of the artifact exists.
      expect(await tableExists(server, database, "cutter_governance.dc_t")).toBe(false);
    });

    it("an ERROR from COMMIT itself (deferred constraint) is rolled_back, not unknown", async () => {
      const database = await fixtureDatabase(server);
      const log = await applyAs(
        server,
        database,
        "workflow_admin",
        `BEGIN;
CREATE TABLE cutter_governance.dfk_parent (id bigint PRIMARY KEY);
CREATE TABLE cutter_governance.dfk_child (id bigint PRIMARY KEY,
  parent_id bigint REFERENCES cutter_governance.dfk_parent (id) DEFERRABLE INITIALLY DEFERRED);
INSERT INTO cutter_governance.dfk_child VALUES (1, 99);
COMMIT;
`,
      );
      expect(log.outcome).toBe("rolled_back");
      expect(log.error).toMatchObject({ phase: "commit", sqlstate: "23503", statementIndex: 4, connectionLost: false });
      expect(await tableExists(server, database, "cutter_governance.dfk_parent")).toBe(false);
    });

    it("--verify-before-commit rolls back a variant with an unexpected DEFAULT and commits the reference", async () => {
      const database = await fixtureDatabase(server);
      const withDefault = variant(
        REFERENCE_SQL,
        "  title text NOT NULL,\n  created_at timestamptz NOT NULL,\n  CONSTRAINT registry_namespace_pkey",
        "  title text NOT NULL,\n  created_at timestamptz NOT NULL DEFAULT now(),\n  CONSTRAINT registry_namespace_pkey",
      );
      const refused = await applyAs(server, database, "workflow_admin", withDefault, { verifyBeforeCommit: FIXTURE_EXPECTATION });
      expect(refused.outcome).toBe("rolled_back");
      expect(refused.error).toBeNull();
      expect(refused.verification?.passed).toBe(false);
      expect(refused.verification?.result?.violations).toEqual(
        expect.arrayContaining([expect.objectContaining({ rule: "must-not-change", objectKind: "default" })]),
      );
      expect(refused.statements.at(-1)).toMatchObject({ status: "not_sent", note: expect.stringMatching(/verification failed/) });
      expect(await tablesIn(server, database)).toEqual([]);

      const log = await applyAs(server, database, "workflow_admin", REFERENCE_SQL, { verifyBeforeCommit: FIXTURE_EXPECTATION });
      expect(log.outcome).toBe("committed");
      expect(log.verification).toMatchObject({ passed: true, result: { pass: true, violations: [] } });
      expect(log.verification?.beforeFingerprint).not.toBe(log.verification?.afterFingerprint);
      expect(await tablesIn(server, database)).toEqual([...REGISTRY_TABLES].sort());
      // The in-transaction "after" is exactly what was committed.
      const committed = await snapshot({ url: serverUrl(server, { database }) }, { schemas: ["cutter_governance"] });
      expect(committed.fingerprint).toBe(log.verification?.afterFingerprint);
    });

    it("a dry run executes everything, then rolls back: passed, nothing committed", async () => {
      const database = await fixtureDatabase(server);
      const log = await applyAs(server, database, "workflow_admin", REFERENCE_SQL, {
        dryRun: true,
        verifyBeforeCommit: FIXTURE_EXPECTATION,
      });
      expect(log).toMatchObject({ outcome: "rolled_back", passed: true, dryRun: true, error: null });
      expect(log.verification?.passed).toBe(true);
      expect(log.statements.at(-1)).toMatchObject({ tag: "COMMIT", status: "not_sent", note: "replaced by ROLLBACK: dry run" });
      expect(await ddlSeen(server, database)).toBe(12);
      expect(await tablesIn(server, database)).toEqual([]);
    });

    it("the fingerprint guard closes the window after preflight; the rollback package restores the catalog", async () => {
      const database = await fixtureDatabase(server);
      const preflight = await snapshot({ url: serverUrl(server, { database }) }, { schemas: ["cutter_governance"] });
      const guarded = { expectFingerprint: preflight.fingerprint, schemas: ["cutter_governance"] };

      // Drift after the preflight: the guard refuses, nothing sent.
      await query(server, "CREATE TABLE cutter_governance.drifted (id int)", { database });
      const ddlBeforeRefusal = await ddlSeen(server, database);
      const refused = await applyAs(server, database, "workflow_admin", REFERENCE_SQL, guarded);
      expect(refused.outcome).toBe("not_started");
      expect(refused.guards.at(-1)).toMatchObject({ name: "fingerprint", expected: preflight.fingerprint, passed: false });
      expect(await ddlSeen(server, database)).toBe(ddlBeforeRefusal);
      await query(server, "DROP TABLE cutter_governance.drifted", { database });
      const ddlBefore = await ddlSeen(server, database);

      const log = await applyAs(server, database, "workflow_admin", REFERENCE_SQL, guarded);
      expect(log.outcome).toBe("committed");
      expect(log.guards.find((guard) => guard.name === "fingerprint")).toMatchObject({
        actual: preflight.fingerprint,
        passed: true,
      });
      expect(await ddlSeen(server, database)).toBe(ddlBefore + 12);

      const rollbackSql = (await import("node:fs")).readFileSync(ROLLBACK_PATH, "utf8");
      const after = await snapshot({ url: serverUrl(server, { database }) }, { schemas: ["cutter_governance"] });
      const undone = await applyAs(server, database, "workflow_admin", rollbackSql, {
        expectFingerprint: after.fingerprint,
        schemas: ["cutter_governance"],
      });
      expect(undone.outcome).toBe("committed");
      expect(undone.statements.filter((statement) => statement.tag === "DROP TABLE")).toHaveLength(12);
      const restored = await snapshot({ url: serverUrl(server, { database }) }, { schemas: ["cutter_governance"] });
      expect(restored.fingerprint).toBe(preflight.fingerprint);
      expect(await tablesIn(server, database)).toEqual([]);
    });

    it("connects as the role only: a URL naming another user is refused before connecting", async () => {
      const database = await fixtureDatabase(server);
      const bytes = Buffer.from(REFERENCE_SQL);
      const log = await apply(
        { url: serverUrl(server, { database, user: "directus" }), env: {} },
        { path: "ws-q5.sql", bytes },
        { role: "workflow_admin", expectSystemIdentifier: server.systemIdentifier, sha256: sha256(bytes) },
      );
      expect(log.outcome).toBe("not_started");
      expect(log.guards.at(-1)).toMatchObject({ name: "connection_user", expected: "workflow_admin", actual: "directus" });
      expect(log.backendPid).toBeNull();
      expect(await ddlSeen(server, database)).toBe(0);
    });
  });
}
