/**
 * onBeforeStatement: awaited before each artifact statement leaves, never able to change what
 * is sent (the reliability suite injects faults through it at exact statement boundaries).
 */
import { testServers } from "@dieu44/test-harness";
import { describe, expect, it } from "vitest";
import { applyAs, fixtureDatabase, REFERENCE_SQL, tablesIn } from "./helpers.js";

for (const server of testServers()) {
  describe(`onBeforeStatement on PostgreSQL ${server.major}`, () => {
    it("is awaited before every statement, BEGIN and COMMIT included, in order", async () => {
      const database = await fixtureDatabase(server);
      const seen: string[] = [];
      const log = await applyAs(server, database, "workflow_admin", REFERENCE_SQL, {
        onBeforeStatement: async (event) => {
          seen.push(`before ${event.index} ${event.tag}`);
          // Nothing may be sent while the hook is pending.
          await new Promise((resolve) => setTimeout(resolve, 5));
          seen.push(`after-wait ${event.index}`);
        },
        onStatement: (event) => seen.push(`${event.phase} ${event.index}`),
      });
      expect(log.outcome).toBe("committed");
      const expected = log.statements.flatMap((statement) => [
        `before ${statement.index} ${statement.tag}`,
        `after-wait ${statement.index}`,
        `start ${statement.index}`,
        `end ${statement.index}`,
      ]);
      expect(seen).toEqual(expected);
      expect(seen[0]).toBe("before 0 BEGIN");
      expect(seen.at(-4)).toBe("before 13 COMMIT");
    });

    it("a hook that throws or rejects changes nothing", async () => {
      const database = await fixtureDatabase(server);
      const log = await applyAs(server, database, "workflow_admin", REFERENCE_SQL, {
        onBeforeStatement: (event) => {
          if (event.index % 2 === 0) throw new Error("hook failed");
          return Promise.reject(new Error("hook rejected"));
        },
      });
      expect(log.outcome).toBe("committed");
      expect(log.error).toBeNull();
      expect(await tablesIn(server, database)).toHaveLength(12);
    });
  });
}
