import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  bootstrapFixture,
  createDatabase,
  createRole,
  dumpableServers,
  type NodeCliResult,
  query,
  serverUrl,
} from "@dieu44/test-harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createBackup } from "../src/index.js";
import { fileContains, filesUnder, realPgDump, removeTempDirs, runCli, script, tempDir } from "./helpers.js";

afterAll(removeTempDirs);

for (const server of dumpableServers()) {
  describe(`secrets on ${server.label}`, () => {
    let database: string;
    let role: { name: string; password: string };

    beforeAll(async () => {
      database = await bootstrapFixture(server, "bm_sec");
      // Enough data that pg_dump is still writing (blocked on the pipe) when the first bytes arrive.
      await query(
        server,
        "create table public.filler as select md5(g::text) || md5((g * 7)::text) as t from generate_series(1, 40000) g",
        {
          database,
        },
      );
      role = await createRole(server, { prefix: "bm_secret", superuser: true, password: `Pw-${Date.now()}-s3cr3t/&x` });
    });

    const urlWithPassword = () => serverUrl(server, { database, user: role.name, password: role.password });
    const urlWithoutPassword = () => `postgres://${role.name}@${server.host}:${server.port}/${database}`;

    it("pg_dump gets the password in its environment, never on its command line", async () => {
      const work = tempDir();
      const pidFile = join(work, "pid");
      const pgDump = script(
        work,
        "pg_dump-wrapper",
        `[ "$1" != "--version" ] && echo $$ > ${pidFile}\nexec ${realPgDump()} "$@"`,
      );
      let seen: { cmdline: string; environ: string } | undefined;
      const marker = await createBackup({
        connection: { url: urlWithoutPassword(), env: { PGPASSWORD: role.password } },
        outDir: work,
        pgDump,
        onProgress: () => {
          if (seen) return;
          // Synchronous: pg_dump stays blocked on the full pipe, alive, while we look at it.
          const pid = readFileSync(pidFile, "utf8").trim();
          seen = {
            cmdline: readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" "),
            environ: readFileSync(`/proc/${pid}/environ`, "utf8"),
          };
        },
      });
      expect(marker.status).toBe("complete");
      expect(seen?.cmdline).toMatch(/pg_dump --format=custom --no-password --snapshot=\S+/);
      expect(seen?.cmdline).not.toContain(role.password);
      expect(seen?.cmdline).not.toContain(encodeURIComponent(role.password));
      expect(seen?.environ.split("\0")).toContain(`PGPASSWORD=${role.password}`);
    });

    it("a password given by URL and by PGPASSWORD appears in no file written and no output", async () => {
      const outDir = tempDir();
      const records = tempDir();
      // Records the command line every child was started with (what `ps` shows), then runs the real one.
      const wrapper = (name: string, real: string) =>
        script(records, name, `cat /proc/$$/cmdline | tr '\\0' ' ' >> ${join(records, `${name}.cmdline`)}\nexec ${real} "$@"`);
      const pgDump = wrapper("pg_dump", realPgDump());
      const pgRestore = wrapper("pg_restore", realPgDump().replace(/pg_dump$/, "pg_restore"));
      const scratch = await createDatabase(server, "bm_sec_scratch");
      const scratchUrl = serverUrl(server, { database: scratch, user: role.name, password: role.password });

      const runs: NodeCliResult[] = [];
      runs.push(await runCli(["create", "--out-dir", outDir, "--url", urlWithPassword(), "--pg-dump", pgDump, "--progress"]));
      runs.push(
        await runCli(["create", "--out-dir", outDir, "--url", urlWithoutPassword(), "--pg-dump", pgDump, "--format", "text"], {
          PGPASSWORD: role.password,
        }),
      );
      expect(runs.map((run) => run.status)).toEqual([0, 0]);
      expect(runs[0]?.stderr).toMatch(/MiB written|bytes written/);
      const markerFile = filesUnder(outDir).find((file) => file.endsWith(".marker.json")) as string;
      runs.push(await runCli(["verify", markerFile, "--max-age", "1h", "--restore-to", scratchUrl, "--pg-restore", pgRestore]));
      expect(runs[2]?.status, runs[2]?.stderr).toBe(0);
      runs.push(
        await runCli([
          "register",
          markerFile.replace(/\.marker\.json$/, ".dump"),
          "--url",
          urlWithPassword(),
          "--out-dir",
          outDir,
        ]),
      );
      runs.push(await runCli(["create", "--out-dir", outDir, "--url", urlWithPassword().replace(String(server.port), "1")]));
      expect(runs.map((run) => run.status)).toEqual([0, 0, 0, 0, 3]);

      const outputs = runs.flatMap((run) => [run.stdout, run.stderr]).join("\n");
      expect(outputs).not.toContain(role.password);
      expect(outputs).not.toContain(encodeURIComponent(role.password));
      const written = [...filesUnder(outDir), ...filesUnder(records)];
      expect(written.filter((file) => file.endsWith(".cmdline"))).toHaveLength(2);
      expect(written.filter((file) => fileContains(file, role.password))).toEqual([]);
      expect(readFileSync(join(records, "pg_dump.cmdline"), "utf8")).toContain("--format=custom");
    });
  });
}
