import { copyFileSync, readFileSync, truncateSync, writeFileSync } from "node:fs";
import { bootstrapFixture, dumpableServers, serverUrl, testServers } from "@dieu44/test-harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BackupMarker, BackupMarkerSchema, markerPath } from "../src/index.js";
import { fakePgDump, removeTempDirs, runCli, tempDir } from "./helpers.js";

afterAll(removeTempDirs);

for (const server of dumpableServers()) {
  describe(`the backup-marker CLI on ${server.label}`, () => {
    let url: string;
    let outDir: string;
    let marker: BackupMarker;

    beforeAll(async () => {
      url = serverUrl(server, { database: await bootstrapFixture(server, "bm_cli") });
      outDir = tempDir();
      const run = await runCli(["create", "--out-dir", outDir, "--url", url, "--label", "P2"]);
      expect(run.status, run.stderr).toBe(0);
      marker = BackupMarkerSchema.parse(JSON.parse(run.stdout));
    });

    it("create prints the marker it wrote beside the archive", () => {
      expect(marker).toMatchObject({ status: "complete", label: "P2", madeBy: "backup-marker" });
      expect(JSON.parse(readFileSync(markerPath(outDir, marker.id), "utf8"))).toEqual(marker);
    });

    it("verify exits 0 and records the result in the marker file; exits 1 naming the failed check", async () => {
      const file = markerPath(outDir, marker.id);
      const ok = await runCli(["verify", file, "--max-age", "1h", "--expect-system-identifier", server.systemIdentifier]);
      expect(ok.status, ok.stderr).toBe(0);
      expect(ok.stderr).toContain("verify passed");
      const recorded = BackupMarkerSchema.parse(JSON.parse(readFileSync(file, "utf8")));
      expect(recorded.verification?.passed).toBe(true);
      expect(JSON.parse(ok.stdout)).toEqual(recorded);

      const wrong = await runCli(["verify", file, "--expect-system-identifier", "1", "--no-write", "--format", "text"]);
      expect(wrong.status).toBe(1);
      expect(wrong.stderr).toContain("verify FAILED: system-identifier");
      expect(wrong.stdout).toMatch(/fail\s+system-identifier: the marker records \d+, expected 1/);
      // --no-write left the passing result in place.
      expect(BackupMarkerSchema.parse(JSON.parse(readFileSync(file, "utf8"))).verification?.passed).toBe(true);
    });

    it("verify reads a marker from stdin", async () => {
      const run = await runCli(["verify", "-"], {}, readFileSync(markerPath(outDir, marker.id), "utf8"));
      expect(run.status, run.stderr).toBe(0);
    });

    it("verify of a truncated archive exits 1 naming size", async () => {
      const copyDir = tempDir();
      const archive = `${copyDir}/a.dump`;
      copyFileSync(marker.path as string, archive);
      truncateSync(archive, 100);
      const file = `${copyDir}/m.json`;
      writeFileSync(file, JSON.stringify({ ...marker, path: archive }));
      const run = await runCli(["verify", file]);
      expect(run.status).toBe(1);
      expect(run.stderr).toMatch(/verify FAILED: size, sha256, archive-readable, archive-data/);
    });

    it("create exits 1 for a failed dump and prints the failed marker", async () => {
      const pgDump = fakePgDump(tempDir(), "echo 'pg_dump: error: boom' >&2\nexit 1");
      const run = await runCli(["create", "--out-dir", tempDir(), "--url", url, "--pg-dump", pgDump]);
      expect(run.status).toBe(1);
      expect(JSON.parse(run.stdout)).toMatchObject({ status: "failed", failure: { stage: "dump" } });
      expect(run.stderr).toContain("pg_dump: error: boom");
    });

    it("register records an external identifier and verify skips what it cannot read", async () => {
      const dir = tempDir();
      const missing = await runCli(["register", "--identifier", "snap-0abc123", "--out-dir", dir]);
      expect(missing.status).toBe(2);
      expect(missing.stderr).toContain("--taken-at is required");

      const takenAt = new Date(Date.now() - 10 * 60_000).toISOString();
      const run = await runCli([
        "register",
        "--identifier",
        "snap-0abc123",
        "--taken-at",
        takenAt,
        "--url",
        url,
        "--out-dir",
        dir,
      ]);
      expect(run.status, run.stderr).toBe(0);
      const external = BackupMarkerSchema.parse(JSON.parse(run.stdout));
      expect(external).toMatchObject({
        madeBy: "external",
        identifier: "snap-0abc123",
        path: null,
        startedAt: takenAt,
        role: null,
      });
      expect(external.server?.systemIdentifier).toBe(server.systemIdentifier);
      const verified = await runCli(["verify", markerPath(dir, external.id), "--max-age", "1h", "--format", "text"]);
      expect(verified.status, verified.stdout).toBe(0);
      expect(verified.stdout).toMatch(/skipped sha256: external backup "snap-0abc123"/);
      const stale = await runCli(["verify", markerPath(dir, external.id), "--max-age", "5m"]);
      expect(stale.status).toBe(1);
    });

    it("register hashes a file made elsewhere, and verify then checks it like our own", async () => {
      const dir = tempDir();
      const run = await runCli(["register", marker.path as string, "--out-dir", dir, "--label", "made by the DBA"]);
      expect(run.status, run.stderr).toBe(0);
      const external = BackupMarkerSchema.parse(JSON.parse(run.stdout));
      expect(external).toMatchObject({
        madeBy: "external",
        format: "custom",
        sha256: marker.sha256,
        size: marker.size,
        server: null,
      });
      const verified = await runCli(["verify", markerPath(dir, external.id)]);
      expect(verified.status, verified.stderr).toBe(0);
    });
  });
}

describe("the backup-marker CLI's usage and environment errors", () => {
  it("exits 2 for bad usage and invalid input", async () => {
    expect((await runCli([])).status).toBe(2);
    expect((await runCli(["create"])).status).toBe(2);
    expect((await runCli(["create", "--out-dir", tempDir(), "--bogus"])).status).toBe(2);
    expect((await runCli(["verify", "/nonexistent/marker.json"])).status).toBe(2);
    const dir = tempDir();
    const notAMarker = `${dir}/x.json`;
    writeFileSync(notAMarker, JSON.stringify({ kind: "backup-marker" }));
    const invalid = await runCli(["verify", notAMarker]);
    expect(invalid.status).toBe(2);
    expect(invalid.stderr).toContain(`${notAMarker}: invalid document: field formatVersion`);
    const duration = await runCli(["verify", notAMarker, "--max-age", "soon"]);
    expect(duration.status).toBe(2);
    expect(duration.stderr).toContain('invalid duration "soon"');
    expect((await runCli(["register", "--out-dir", dir])).status).toBe(2);
    expect((await runCli(["--help"])).status).toBe(0);
  });

  it("exits 3 when the server cannot be reached or pg_dump cannot dump it", async () => {
    const unreachable = await runCli(["create", "--out-dir", tempDir(), "--url", "postgres://x@127.0.0.1:1/db"]);
    expect(unreachable.status).toBe(3);
    expect(unreachable.stderr).toMatch(/^backup-marker: cannot connect to postgres:\/\/x@127\.0\.0\.1:1\/db/);
    const dumpable = new Set(dumpableServers().map((server) => server.label));
    const tooNew = testServers().find((server) => !dumpable.has(server.label));
    if (tooNew) {
      const run = await runCli(["create", "--out-dir", tempDir(), "--url", serverUrl(tooNew)]);
      expect(run.status).toBe(3);
      expect(run.stderr).toMatch(/cannot dump a PostgreSQL \d+ server/);
      expect(run.stderr).not.toContain("    at ");
    }
  });
});
