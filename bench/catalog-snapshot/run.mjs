// Benchmark: `catalog-snapshot --schema` against `pg_dump --schema-only --schema` of the same
// 10,000-table schema, side by side in one run, on a throwaway PostgreSQL 15 (the system pg_dump's
// major). Each table: 8 columns, a primary key, a foreign key, a UNIQUE constraint and one more index.
//
//   npx tsc -p packages/catalog-snapshot/tsconfig.build.json   # build first
//   node bench/catalog-snapshot/run.mjs                        # --tables=500 --runs=3 for a quick check
//
// Wall time and peak RSS of each child come from /usr/bin/time -v (maximum resident set size).
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { startCluster } from "@dieu44/ephemeral-pg";
import pg from "pg";

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
/** `--tables=N` and `--runs=N` (defaults: the 10,000 tables, 5 runs). */
function flag(name, fallback) {
  const match = process.argv.find((arg) => arg.startsWith(`--${name}=`));
  return match ? Number(match.slice(name.length + 3)) : fallback;
}
const tables = flag("tables", 10_000);
const runs = flag("runs", 5);
const schema = "bench";
const cli = join(repoRoot, "packages", "catalog-snapshot", "bin", "catalog-snapshot.js");
const pgDump = "/usr/bin/pg_dump";

const log = (message) => process.stderr.write(`${message}\n`);
const name = (i) => `t${String(i).padStart(5, "0")}`;

/** DDL for tables [from, to): one multi-statement batch, sent as one query. */
function tableBatch(from, to) {
  const statements = [];
  for (let i = from; i < to; i += 1) {
    const referenced = i === 1 ? name(1) : name(i - 1);
    statements.push(`create table ${schema}.${name(i)} (
  id bigint primary key,
  parent_id bigint references ${schema}.${referenced} (id),
  code text not null unique,
  label varchar(200),
  amount numeric(12, 2),
  created_at timestamptz not null default now(),
  active boolean not null default true,
  note text
);
create index ${name(i)}_label_idx on ${schema}.${name(i)} (label);`);
  }
  return statements.join("\n");
}

/** Runs a command under /usr/bin/time -v; returns wall seconds and peak RSS in MiB. */
function measure(command, args, env) {
  const result = spawnSync("/usr/bin/time", ["-v", command, ...args], {
    env,
    encoding: "utf8",
    maxBuffer: 1024 * 1024 * 64,
  });
  if (result.status !== 0) throw new Error(`${command} failed (${result.status}): ${result.stderr.slice(-2000)}`);
  const wall = /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)/.exec(result.stderr);
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(result.stderr);
  if (!wall || !rss) throw new Error(`could not read /usr/bin/time output:\n${result.stderr.slice(-2000)}`);
  const seconds = Number(wall[1] ?? 0) * 3600 + Number(wall[2]) * 60 + Number(wall[3]);
  return { seconds, rssMiB: Number(rss[1]) / 1024 };
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

const work = mkdtempSync(join(tmpdir(), "bench-catalog-snapshot-"));
mkdirSync(work, { recursive: true });
// pg_dump locks every table of the schema in one transaction: give the lock table room for 10,000+.
const cluster = await startCluster({ major: 15, settings: { max_locks_per_transaction: "1024" } });
try {
  const client = new pg.Client({ connectionString: cluster.url() });
  await client.connect();
  const buildStart = Date.now();
  await client.query(`create schema ${schema}`);
  const batch = 500;
  for (let from = 1; from <= tables; from += batch) {
    await client.query(tableBatch(from, Math.min(from + batch, tables + 1)));
    log(`built ${Math.min(from + batch - 1, tables)}/${tables} tables`);
  }
  await client.query("vacuum analyze");
  const counts = (
    await client.query(
      `select count(*) filter (where c.relkind = 'r') as tables,
              (select count(*) from pg_constraint co join pg_class t on t.oid = co.conrelid
                where t.relnamespace = '${schema}'::regnamespace and co.contype in ('p', 'f', 'u')) as constraints,
              count(*) filter (where c.relkind = 'i') as indexes
         from pg_class c where c.relnamespace = '${schema}'::regnamespace`,
    )
  ).rows[0];
  await client.end();
  const buildSeconds = (Date.now() - buildStart) / 1000;
  log(`schema built in ${buildSeconds.toFixed(1)} s: ${JSON.stringify(counts)}`);

  // The password reaches both tools the same way: PGPASSWORD, never argv.
  const env = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    PGHOST: cluster.host,
    PGPORT: String(cluster.port),
    PGUSER: cluster.superuser,
    PGDATABASE: "postgres",
    PGPASSWORD: cluster.superuserPassword,
  };
  const snapshotOut = join(work, "snapshot.json");
  const dumpOut = join(work, "dump.sql");
  const commands = {
    "catalog-snapshot": [process.execPath, [cli, "--schema", schema, "--out", snapshotOut]],
    pg_dump: [pgDump, ["--schema-only", "--schema", schema, "--file", dumpOut]],
  };
  const results = { "catalog-snapshot": [], pg_dump: [] };
  const loadBefore = loadavg()[0];
  // Warm-up of both (caches), then alternate so background load hits both alike.
  for (const [command, args] of Object.values(commands)) measure(command, args, env);
  for (let run = 1; run <= runs; run += 1) {
    for (const [label, [command, args]] of Object.entries(commands)) {
      const figures = measure(command, args, env);
      results[label].push(figures);
      log(`run ${run} ${label}: ${figures.seconds.toFixed(2)} s, ${figures.rssMiB.toFixed(1)} MiB`);
    }
  }

  const snapshot = JSON.parse(readFileSync(snapshotOut, "utf8"));
  const summary = {
    tables,
    runs,
    server: `PostgreSQL ${cluster.major} (${cluster.source})`,
    pgDump: spawnSync(pgDump, ["--version"], { encoding: "utf8" }).stdout.trim(),
    node: process.version,
    cpus: cpus().length,
    // The machine may be shared: the 1-minute load average before and after the timed runs.
    loadAverage: { before: Number(loadBefore.toFixed(2)), after: Number(loadavg()[0].toFixed(2)) },
    schemaBuildSeconds: Number(buildSeconds.toFixed(1)),
    catalogCounts: counts,
    snapshotTables: snapshot.tables.length,
    commands: {
      "catalog-snapshot": `node packages/catalog-snapshot/bin/catalog-snapshot.js --schema ${schema} --out FILE`,
      pg_dump: `pg_dump --schema-only --schema ${schema} --file FILE`,
    },
    outputBytes: { "catalog-snapshot": statSync(snapshotOut).size, pg_dump: statSync(dumpOut).size },
    medianSeconds: {},
    peakRssMiB: {},
    allSeconds: {},
  };
  for (const [label, list] of Object.entries(results)) {
    summary.medianSeconds[label] = Number(median(list.map((r) => r.seconds)).toFixed(2));
    summary.peakRssMiB[label] = Number(Math.max(...list.map((r) => r.rssMiB)).toFixed(1));
    summary.allSeconds[label] = list.map((r) => Number(r.seconds.toFixed(2)));
  }
  summary.wallTimeRatio = Number((summary.medianSeconds["catalog-snapshot"] / summary.medianSeconds.pg_dump).toFixed(3));
  summary.targets = {
    "wall time <= 0.5x pg_dump": summary.wallTimeRatio <= 0.5,
    "peak RSS <= 300 MB": summary.peakRssMiB["catalog-snapshot"] * 1.048576 <= 300,
  };
  process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
} finally {
  await cluster.stop();
  rmSync(work, { recursive: true, force: true });
}
