// Benchmark: `backup-marker create` against `pg_dump -Fc -f FILE` followed by `sha256sum FILE`,
// side by side on the same database, on a throwaway PostgreSQL 15 (the system pg_dump's major).
// The database holds one table of base64 text made from sha256 digests (barely compressible), sized
// so that the custom-format dump is at least --target-mb (default 200) MB.
//
//   npx tsc -p packages/backup-marker/tsconfig.build.json   # build first
//   node bench/backup-marker/bench.mjs            # --target-mb=20 --runs=1 for a quick check
//
// Runs alternate (baseline first on odd runs) after one untimed warm-up dump. Wall time is measured
// around each child; peak RSS comes from /usr/bin/time -v (largest process of the command tree).
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { startCluster } from "@dieu44/ephemeral-pg";
import pg from "pg";

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
/** `--target-mb=N`, `--runs=N`. */
const flag = (name, fallback) => {
  const given = process.argv.find((arg) => arg.startsWith(`--${name}=`));
  return given ? Number(given.slice(name.length + 3)) : fallback;
};
const targetBytes = flag("target-mb", 200) * 1024 * 1024;
const runs = flag("runs", 3);
const cli = join(repoRoot, "packages", "backup-marker", "bin", "backup-marker.js");
const pgDump = "/usr/bin/pg_dump";
const database = "bench";

const log = (message) => process.stderr.write(`${message}\n`);
const mib = (bytes) => (bytes / 1024 / 1024).toFixed(1);
const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

/** Runs a command under /usr/bin/time -v; returns wall seconds, peak RSS (MiB) and stdout. */
function measure(command, args, env) {
  const started = process.hrtime.bigint();
  const result = spawnSync("/usr/bin/time", ["-v", command, ...args], { env, encoding: "utf8", maxBuffer: 64 << 20 });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (result.status !== 0)
    throw new Error(`${command} ${args.join(" ")} failed (${result.status}): ${result.stderr.slice(-2000)}`);
  const rssKb = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(result.stderr)?.[1] ?? Number.NaN);
  return { seconds, rssMiB: rssKb / 1024, stdout: result.stdout };
}

/** Rows of 256 pseudo-random bytes as base64 text: pg_dump's zlib gains little on them. */
async function insertRows(client, from, to) {
  const digests = Array.from({ length: 8 }, (_, i) => `sha256(('${i}:' || g)::bytea)`).join(" || ");
  await client.query(`insert into blob select g, encode(${digests}, 'base64') from generate_series(${from}, ${to - 1}) g`);
}

const cluster = await startCluster({ major: 15 });
const work = mkdtempSync(join(tmpdir(), "bench-backup-marker-"));
try {
  const admin = new pg.Client({ connectionString: cluster.url() });
  await admin.connect();
  await admin.query(`create database ${database}`);
  await admin.end();
  const client = new pg.Client({ connectionString: cluster.url({ database }) });
  await client.connect();
  await client.query("create table blob (id bigint primary key, payload text not null)");

  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    PGHOST: cluster.host,
    PGPORT: String(cluster.port),
    PGUSER: cluster.superuser,
    PGPASSWORD: cluster.superuserPassword,
    PGDATABASE: database,
  };
  const calibrationRows = 20_000;
  await insertRows(client, 1, calibrationRows + 1);
  const calibration = join(work, "calibration.dump");
  measure(pgDump, ["-Fc", "-f", calibration], env);
  const bytesPerRow = statSync(calibration).size / calibrationRows;
  rmSync(calibration);
  const rows = Math.ceil((targetBytes * 1.02) / bytesPerRow);
  log(`calibration: ${bytesPerRow.toFixed(1)} dump bytes per row; loading ${rows} rows`);
  const batch = 500_000;
  for (let from = calibrationRows + 1; from <= rows; from += batch) {
    await insertRows(client, from, Math.min(from + batch, rows + 1));
    log(`  ${Math.min(from + batch - 1, rows)} rows`);
  }
  await client.query("vacuum analyze blob");
  const { rows: sizeRows } = await client.query("select pg_total_relation_size('blob') as size");
  await client.end();
  const tableBytes = Number(sizeRows[0].size);

  const baselineFile = join(work, "baseline.dump");
  const baseline = () => {
    const dump = measure(pgDump, ["-Fc", "-f", baselineFile], env);
    const hash = measure("sha256sum", [baselineFile], env);
    const size = statSync(baselineFile).size;
    rmSync(baselineFile);
    return {
      seconds: dump.seconds + hash.seconds,
      dumpSeconds: dump.seconds,
      hashSeconds: hash.seconds,
      rssMiB: Math.max(dump.rssMiB, hash.rssMiB),
      size,
      sha: hash.stdout.split(" ")[0],
    };
  };
  const ours = () => {
    const outDir = join(work, "ours");
    const run = measure(process.execPath, [cli, "create", "--out-dir", outDir], env);
    const marker = JSON.parse(run.stdout);
    if (marker.status !== "complete") throw new Error(`create failed: ${marker.failure?.message}`);
    const result = { seconds: run.seconds, rssMiB: run.rssMiB, size: marker.size, marker };
    return result;
  };

  log("warm-up dump (untimed)");
  baseline();
  const oursRuns = [];
  const baselineRuns = [];
  let lastMarker;
  for (let i = 0; i < runs; i += 1) {
    const order = i % 2 === 0 ? ["baseline", "ours"] : ["ours", "baseline"];
    for (const which of order) {
      if (which === "baseline") {
        const result = baseline();
        baselineRuns.push(result);
        log(
          `run ${i + 1} baseline: ${result.seconds.toFixed(2)} s (pg_dump ${result.dumpSeconds.toFixed(2)} s + sha256sum ${result.hashSeconds.toFixed(2)} s), ${mib(result.size)} MiB`,
        );
      } else {
        rmSync(join(work, "ours"), { recursive: true, force: true });
        const result = ours();
        lastMarker = result.marker;
        oursRuns.push(result);
        log(`run ${i + 1} backup-marker create: ${result.seconds.toFixed(2)} s, ${mib(result.size)} MiB`);
      }
    }
  }
  // One verify of the last archive, for information (sha256 + pg_restore --list + full read).
  const markerFile = join(work, "ours", `${lastMarker.id}.marker.json`);
  const verify = measure(process.execPath, [cli, "verify", markerFile, "--max-age", "1h"], env);

  const oursMedian = median(oursRuns.map((run) => run.seconds));
  const baselineMedian = median(baselineRuns.map((run) => run.seconds));
  const ratio = oursMedian / baselineMedian;
  const summary = {
    server: `PostgreSQL ${cluster.major} (${cluster.source})`,
    pgDump: spawnSync(pgDump, ["--version"], { encoding: "utf8" }).stdout.trim(),
    tableMiB: Number(mib(tableBytes)),
    rows,
    dumpMiB: Number(mib(median(oursRuns.map((run) => run.size)))),
    runs,
    baseline: {
      command: "pg_dump -Fc -f FILE && sha256sum FILE",
      medianSeconds: Number(baselineMedian.toFixed(2)),
      medianPgDumpSeconds: Number(median(baselineRuns.map((run) => run.dumpSeconds)).toFixed(2)),
      medianSha256sumSeconds: Number(median(baselineRuns.map((run) => run.hashSeconds)).toFixed(2)),
      peakRssMiB: Number(Math.max(...baselineRuns.map((run) => run.rssMiB)).toFixed(1)),
      seconds: baselineRuns.map((run) => Number(run.seconds.toFixed(2))),
    },
    backupMarker: {
      command: "backup-marker create --out-dir DIR",
      medianSeconds: Number(oursMedian.toFixed(2)),
      peakRssMiB: Number(Math.max(...oursRuns.map((run) => run.rssMiB)).toFixed(1)),
      seconds: oursRuns.map((run) => Number(run.seconds.toFixed(2))),
    },
    ratio: Number(ratio.toFixed(3)),
    target: "<= 1.1",
    met: ratio <= 1.1 && median(oursRuns.map((run) => run.size)) >= targetBytes,
    verifySeconds: Number(verify.seconds.toFixed(2)),
    verifyPeakRssMiB: Number(verify.rssMiB.toFixed(1)),
  };
  process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
} finally {
  rmSync(work, { recursive: true, force: true });
  await cluster.stop();
}
