/**
 * A table held exclusively by another session: with lockWaitTimeoutMs, pg_dump gives up after that
 * long (a failed marker, no archive) instead of waiting forever; the other session is unharmed.
 */
import { readdirSync } from "node:fs";
import { InputError } from "@dieu44/plumbing/exit";
import { bootstrapFixture, dumpableServers, serverUrl } from "@dieu44/test-harness";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { createBackup } from "../src/index.js";
import { removeTempDirs, tempDir } from "./helpers.js";

afterAll(removeTempDirs);

for (const server of dumpableServers()) {
  describe(`pg_dump waiting for a lock on ${server.label}`, () => {
    it("gives up after lockWaitTimeoutMs with a failed marker and no archive", async () => {
      const database = await bootstrapFixture(server, "bm_lock");
      const holder = new pg.Client({ connectionString: serverUrl(server, { database }) });
      await holder.connect();
      try {
        await holder.query("begin; lock table cutter_governance.governance_article in access exclusive mode");
        const outDir = tempDir();
        const started = performance.now();
        const marker = await createBackup({
          connection: { url: serverUrl(server, { database }) },
          outDir,
          lockWaitTimeoutMs: 300,
        });
        const elapsed = performance.now() - started;
        expect(marker.status).toBe("failed");
        expect(marker.failure?.message).toMatch(/lock/i);
        // The fingerprint's reads and pg_dump's LOCK each wait at most 300 ms.
        expect(elapsed).toBeLessThan(3_000);
        expect(readdirSync(outDir).filter((name) => !name.endsWith(".marker.json"))).toEqual([]);
        // The other session still holds its lock and its transaction commits.
        const { rows } = await holder.query("select count(*)::int as n from cutter_governance.governance_article");
        expect(rows[0]?.n).toBe(5000);
        await holder.query("commit");
      } finally {
        await holder.end();
      }
    });

    it("refuses a lock wait that is not a positive number of milliseconds", async () => {
      const url = serverUrl(server, { database: "postgres" });
      for (const lockWaitTimeoutMs of [0, -1, 1.5, Number.NaN]) {
        await expect(createBackup({ connection: { url }, outDir: tempDir(), lockWaitTimeoutMs })).rejects.toThrow(InputError);
      }
    });
  });
}
