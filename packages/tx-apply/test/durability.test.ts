/**
 * "committed" means flushed: the apply session never runs with synchronous_commit = off, so an
 * acknowledged COMMIT survives a crash of the server (the reliability suite's server-stop case
 * found an apply reported committed and gone after an immediate stop). Other values are kept.
 */
import { query, testServers } from "@dieu44/test-harness";
import { describe, expect, it } from "vitest";
import { applyAs, fixtureDatabase } from "./helpers.js";

const PROBE =
  "BEGIN;\nCREATE TABLE cutter_governance.commit_setting AS SELECT current_setting('synchronous_commit') AS setting;\nCOMMIT;\n";

for (const server of testServers()) {
  describe(`synchronous_commit of the apply session on PostgreSQL ${server.major}`, () => {
    for (const [configured, expected] of [
      ["off", "local"],
      ["on", "on"],
      ["remote_write", "remote_write"],
    ] as const) {
      it(`database default ${configured}: the apply commits with ${expected}`, async () => {
        const database = await fixtureDatabase(server);
        await query(server, `ALTER DATABASE ${database} SET synchronous_commit = ${configured}`);
        const log = await applyAs(server, database, "workflow_admin", PROBE);
        expect(log.outcome).toBe("committed");
        const rows = await query<{ setting: string }>(server, "SELECT setting FROM cutter_governance.commit_setting", {
          database,
        });
        expect(rows).toEqual([{ setting: expected }]);
      });
    }
  });
}
