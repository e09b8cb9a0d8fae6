import { bootstrapFixture, createDatabase, dumpableServers, query, serverUrl } from "@dieu44/test-harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BackupMarker, createBackup, verifyBackup } from "../src/index.js";
import { removeTempDirs, tempDir } from "./helpers.js";

afterAll(removeTempDirs);

for (const server of dumpableServers()) {
  describe(`verify --restore-to on ${server.label}`, () => {
    let database: string;
    let marker: BackupMarker;

    beforeAll(async () => {
      database = await bootstrapFixture(server, "bm_rs");
      marker = await createBackup({ connection: { url: serverUrl(server, { database }) }, outDir: tempDir() });
    });

    it("records the source's catalog fingerprint at backup time", () => {
      expect(marker.catalogFingerprint).toMatch(/^[0-9a-f]{64}$/);
    });

    it("proves the fixture database restorable: the restored catalog has the source's fingerprint", async () => {
      const scratch = await createDatabase(server, "bm_scratch");
      const verification = await verifyBackup(marker, { restoreTo: { url: serverUrl(server, { database: scratch }) } });
      const restorable = verification.checks.find((check) => check.name === "restorable");
      expect(restorable?.status, restorable?.detail).toBe("pass");
      expect(verification.passed).toBe(true);
      expect(verification.restore).toMatchObject({
        sourceFingerprintFrom: "marker",
        sourceFingerprint: marker.catalogFingerprint,
        restoredFingerprint: marker.catalogFingerprint,
      });
      // The data came back too, with its owner.
      const rows = await query<{ count: string; owner: string }>(
        server,
        `select (select count(*) from cutter_governance.governance_article) as count,
                (select tableowner from pg_tables where tablename = 'governance_article') as owner`,
        { database: scratch },
      );
      expect(rows[0]).toEqual({ count: "5000", owner: "workflow_admin" });
    });

    it("compares with a live source when asked, and fails when the source changed since", async () => {
      const scratch = await createDatabase(server, "bm_scratch");
      await query(server, "create table cutter_governance.added_later (id int)", { database });
      const verification = await verifyBackup(marker, {
        restoreTo: { url: serverUrl(server, { database: scratch }) },
        sourceConnection: { url: serverUrl(server, { database }) },
      });
      const restorable = verification.checks.find((check) => check.name === "restorable");
      expect(restorable?.status).toBe("fail");
      expect(restorable?.detail).toMatch(/differs from the source's/);
      expect(verification.restore?.sourceFingerprintFrom).toBe("live-source");
      await query(server, "drop table cutter_governance.added_later", { database });
    });

    it("refuses a restore target that is not empty, or is the source itself", async () => {
      await expect(verifyBackup(marker, { restoreTo: { url: serverUrl(server, { database }) } })).rejects.toThrow(
        /backed-up database itself/,
      );
      const busy = await createDatabase(server, "bm_busy");
      await query(server, "create table t (id int)", { database: busy });
      await expect(verifyBackup(marker, { restoreTo: { url: serverUrl(server, { database: busy }) } })).rejects.toThrow(
        /is not empty/,
      );
    });

    it("does not attempt a restore of an altered archive", async () => {
      const scratch = await createDatabase(server, "bm_scratch");
      const verification = await verifyBackup(
        { ...marker, sha256: "0".repeat(64) },
        { restoreTo: { url: serverUrl(server, { database: scratch }) } },
      );
      expect(verification.checks.find((check) => check.name === "restorable")).toMatchObject({ status: "fail" });
      const tables = await query(server, "select 1 from pg_tables where schemaname = 'cutter_governance'", { database: scratch });
      expect(tables).toEqual([]);
    });
  });
}
