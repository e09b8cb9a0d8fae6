import { copyFileSync, existsSync, readdirSync, readFileSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { bootstrapFixture, dumpableServers, serverUrl } from "@dieu44/test-harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BackupMarker, createBackup, markerPath, readMarker, verifyBackup } from "../src/index.js";
import { removeTempDirs, tempDir } from "./helpers.js";

afterAll(removeTempDirs);

const HOUR = 3_600_000;

for (const server of dumpableServers()) {
  describe(`create and verify on ${server.label}`, () => {
    let database: string;
    let outDir: string;
    let marker: BackupMarker;

    beforeAll(async () => {
      database = await bootstrapFixture(server, "bm_cv");
      outDir = tempDir();
      marker = await createBackup({ connection: { url: serverUrl(server, { database }) }, outDir, label: "P2 fresh backup" });
    });

    /** A copy of the archive that a test may damage, with a marker pointing at it. */
    function copyOfBackup(): { marker: BackupMarker; archive: string } {
      const dir = tempDir("bm-copy-");
      const archive = join(dir, "copy.dump");
      copyFileSync(marker.path as string, archive);
      return { marker: { ...marker, path: archive }, archive };
    }

    function failedChecks(verification: Awaited<ReturnType<typeof verifyBackup>>): string[] {
      return verification.checks.filter((check) => check.status === "fail").map((check) => check.name);
    }

    it("writes a complete custom-format archive and a marker with facts read from the server", async () => {
      expect(marker.status).toBe("complete");
      expect(marker.madeBy).toBe("backup-marker");
      expect(marker.format).toBe("custom");
      expect(marker.server).toMatchObject({
        systemIdentifier: server.systemIdentifier,
        database,
        versionNum: server.serverVersionNum,
      });
      expect(marker.role).toBe(server.superuser);
      expect(marker.connection).toBe(`postgres://${server.superuser}@${server.host}:${server.port}/${database}`);
      expect(marker.pgDump?.version).toMatch(/pg_dump \(PostgreSQL\) \d+/);
      expect(marker.id).toMatch(
        new RegExp(`^\\d{8}T\\d{6}Z-${server.systemIdentifier}-${database}-${marker.sha256?.slice(0, 8)}$`),
      );
      expect(
        readFileSync(marker.path as string)
          .subarray(0, 5)
          .toString(),
      ).toBe("PGDMP");
      expect(readdirSync(outDir).sort()).toEqual([`${marker.id}.dump`, `${marker.id}.marker.json`]);
      expect(await readMarker(markerPath(outDir, marker.id))).toEqual(marker);
    });

    it("verifies a fresh backup of the expected cluster", async () => {
      const verification = await verifyBackup(marker, { maxAgeMs: HOUR, expectSystemIdentifier: server.systemIdentifier });
      expect(failedChecks(verification)).toEqual([]);
      expect(verification.passed).toBe(true);
      expect(verification.checks.map((check) => check.name)).toEqual([
        "marker-status",
        "archive-present",
        "size",
        "sha256",
        "archive-readable",
        "archive-data",
        "max-age",
        "system-identifier",
      ]);
      // 3 tables with their data, constraints, schema, ACLs, identity sequence...
      expect(verification.archiveEntries).toBeGreaterThan(10);
    });

    it("fails sha256 for one flipped byte", async () => {
      const copy = copyOfBackup();
      const bytes = readFileSync(copy.archive);
      const at = Math.floor(bytes.length / 2);
      bytes[at] = (bytes[at] as number) ^ 0x01;
      writeFileSync(copy.archive, bytes);
      const verification = await verifyBackup(copy.marker);
      expect(verification.passed).toBe(false);
      expect(failedChecks(verification)).toContain("sha256");
      expect(failedChecks(verification)).not.toContain("size");
    });

    it("fails size (named truncated), sha256 and archive-data for a truncated archive", async () => {
      const copy = copyOfBackup();
      truncateSync(copy.archive, Math.floor((marker.size as number) * 0.6));
      const verification = await verifyBackup(copy.marker);
      expect(failedChecks(verification)).toEqual(expect.arrayContaining(["size", "sha256", "archive-data"]));
      expect(verification.checks.find((check) => check.name === "size")?.detail).toMatch(/^truncated/);
    });

    it("fails max-age for a backup older than allowed, and for one from the future", async () => {
      const started = Date.parse(marker.startedAt);
      const old = await verifyBackup(marker, { maxAgeMs: HOUR, now: new Date(started + 2 * HOUR) });
      expect(failedChecks(old)).toEqual(["max-age"]);
      expect(old.checks.find((check) => check.name === "max-age")?.detail).toMatch(/started 2h ago/);
      const future = await verifyBackup(marker, { maxAgeMs: HOUR, now: new Date(started - HOUR) });
      expect(failedChecks(future)).toEqual(["max-age"]);
    });

    it("fails system-identifier for another cluster's identifier", async () => {
      const verification = await verifyBackup(marker, { expectSystemIdentifier: "7611578671664259111" });
      expect(failedChecks(verification)).toEqual(["system-identifier"]);
    });

    it("fails archive-present when the archive is gone, and finds one moved together with its marker", async () => {
      const gone = await verifyBackup({ ...marker, path: join(tempDir(), "nothing.dump") });
      expect(failedChecks(gone)).toContain("archive-present");

      const moved = tempDir("bm-moved-");
      copyFileSync(marker.path as string, join(moved, `${marker.id}.dump`));
      const movedMarkerPath = join(moved, `${marker.id}.marker.json`);
      const relocated = { ...marker, path: join(tempDir(), `${marker.id}.dump`) };
      const verification = await verifyBackup(relocated, { markerPath: movedMarkerPath });
      expect(verification.passed).toBe(true);
      expect(existsSync(join(moved, `${marker.id}.dump`))).toBe(true);
    });
  });
}
