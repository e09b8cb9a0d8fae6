import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { EnvironmentError } from "@dieu44/plumbing/exit";
import { bootstrapFixture, clientTool, dumpableServers, serverUrl, testServers } from "@dieu44/test-harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BackupMarkerSchema, createBackup, markerPath } from "../src/index.js";
import { fakePgDump, realPgDump, removeTempDirs, script, tempDir } from "./helpers.js";

afterAll(removeTempDirs);

const dumpMajor = clientTool("pg_dump")?.major ?? 0;

for (const server of dumpableServers()) {
  describe(`a failing pg_dump on ${server.label}`, () => {
    let url: string;
    beforeAll(async () => {
      url = serverUrl(server, { database: await bootstrapFixture(server, "bm_fail") });
    });

    function expectOnlyAFailedMarker(outDir: string, id: string): void {
      expect(readdirSync(outDir)).toEqual([`${id}.marker.json`]);
      const written = BackupMarkerSchema.parse(JSON.parse(readFileSync(markerPath(outDir, id), "utf8")));
      expect(written.status).toBe("failed");
    }

    it("that writes some bytes then exits 1 leaves no partial archive and a marker saying why", async () => {
      const outDir = tempDir();
      const pgDump = fakePgDump(
        tempDir(),
        `printf 'PGDMP partial archive'\necho "pg_dump: error: simulated failure" >&2\nexit 1`,
      );
      const marker = await createBackup({ connection: { url }, outDir, pgDump });
      expect(marker.status).toBe("failed");
      expect(marker).toMatchObject({ path: null, sha256: null, size: null, catalogFingerprint: null });
      expect(marker.failure).toMatchObject({ stage: "dump", exitCode: 1, signal: null });
      expect(marker.failure?.message).toMatch(/exited with code 1 after 21 bytes: pg_dump: error: simulated failure/);
      expectOnlyAFailedMarker(outDir, marker.id);
    });

    it("killed mid-run leaves no partial archive and a marker saying it was killed", async () => {
      const outDir = tempDir();
      const work = tempDir();
      const pidFile = join(work, "pid");
      // Writes 1 MiB, then hangs as the same process until killed.
      const pgDump = fakePgDump(work, `echo $$ > ${pidFile}\nhead -c 1048576 /dev/urandom\nexec sleep 60`);
      let killed = false;
      const marker = await createBackup({
        connection: { url },
        outDir,
        pgDump,
        onProgress: ({ bytes }) => {
          if (!killed && bytes >= 1048576) {
            killed = true;
            // While it runs, the partial archive exists.
            expect(readdirSync(outDir).some((name) => name.endsWith(".dump.partial"))).toBe(true);
            process.kill(Number(readFileSync(pidFile, "utf8")), "SIGKILL");
          }
        },
      });
      expect(killed).toBe(true);
      expect(marker.failure).toMatchObject({ stage: "dump", signal: "SIGKILL", exitCode: null });
      expectOnlyAFailedMarker(outDir, marker.id);
    });

    it("aborted by the caller stops pg_dump and leaves no partial archive", async () => {
      const outDir = tempDir();
      const pgDump = fakePgDump(tempDir(), "head -c 65536 /dev/urandom\nexec sleep 60");
      const abort = new AbortController();
      const marker = await createBackup({
        connection: { url },
        outDir,
        pgDump,
        signal: abort.signal,
        onProgress: () => abort.abort(),
      });
      expect(marker.failure).toMatchObject({ stage: "aborted", signal: "SIGTERM" });
      expectOnlyAFailedMarker(outDir, marker.id);
    });

    it("a missing pg_dump is an environment error", async () => {
      const outDir = tempDir();
      await expect(createBackup({ connection: { url }, outDir, pgDump: join(outDir, "no-pg_dump") })).rejects.toThrow(
        EnvironmentError,
      );
      expect(readdirSync(outDir)).toEqual([]);
    });

    it("a binary that is not pg_dump is an environment error", async () => {
      const pgDump = script(tempDir(), "not-pg_dump", 'echo "something else 1.0"');
      await expect(createBackup({ connection: { url }, outDir: tempDir(), pgDump })).rejects.toThrow(
        /does not look like pg_dump/,
      );
    });
  });
}

const tooNew = testServers().filter((server) => server.major > dumpMajor);
describe.skipIf(tooNew.length === 0)("a server newer than pg_dump", () => {
  it("is refused before anything is written, naming both versions", async () => {
    const server = tooNew[0] as (typeof tooNew)[number];
    const outDir = join(tempDir(), "out");
    const attempt = createBackup({ connection: { url: serverUrl(server) }, outDir, pgDump: realPgDump() });
    await expect(attempt).rejects.toThrow(EnvironmentError);
    await expect(attempt).rejects.toThrow(new RegExp(`version ${dumpMajor} and cannot dump a PostgreSQL ${server.major} server`));
    expect(() => readdirSync(outDir)).toThrow(/ENOENT/);
  });
});

describe("an unreachable server", () => {
  it("is an environment error that does not show the password", async () => {
    const attempt = createBackup({
      connection: { url: "postgres://someone:pw-unreachable-42@127.0.0.1:1/db" },
      outDir: tempDir(),
    });
    await expect(attempt).rejects.toThrow(EnvironmentError);
    await attempt.catch((error: Error) => expect(error.message).not.toContain("pw-unreachable-42"));
  });
});
