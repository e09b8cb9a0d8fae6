// Benchmark: drift-diff on two snapshots of a 10,000-table schema with 1% of the tables changed,
// and the catalog-snapshot + drift-diff pipeline side by side with `migra` (@pgkit/migra) on the
// same two databases, on a throwaway PostgreSQL 15. Each table: 8 columns, a primary key, a
// foreign key, a UNIQUE constraint and one more index (as catalog-snapshot's benchmark).
//
//   npx tsc -p packages/catalog-snapshot/tsconfig.build.json && npx tsc -p packages/drift-diff/tsconfig.build.json
//   node bench/drift-diff/run.mjs        # BENCH_TABLES=500 BENCH_RUNS=3 for a quick check
//
// Wall time and peak RSS of each child come from /usr/bin/time -v (maximum resident set size).

import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { CatalogSnapshotSchema } from "@dieu44/catalog-snapshot/schema";
import { diff } from "@dieu44/drift-diff";
import { startCluster } from "@dieu44/ephemeral-pg";
import pg from "pg";
import { comparisonTool } from "../comparison-tools.mjs";

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const tables = Number(process.env.BENCH_TABLES ?? 10_000);
const runs = Number(process.env.BENCH_RUNS ?? 5);
const schema = "bench";
const snapshotCli = join(repoRoot, "packages", "catalog-snapshot", "bin", "catalog-snapshot.js");
const driftDiffCli = join(repoRoot, "packages", "drift-diff", "bin", "drift-diff.js");
const migraCli = join(comparisonTool("@pgkit/migra"), "dist", "command.js");
const pipelineScript = join(repoRoot, "bench", "drift-diff", "pipeline.mjs");

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

/** 1% of the tables get one change each, five kinds of change in turn. */
function changeStatements() {
  const statements = [];
  let k = 0;
  for (let i = 1; i <= tables; i += 100) {
    const t = `${schema}.${name(i)}`;
    const change = [
      `alter table ${t} add column extra integer`,
      `alter table ${t} alter column label type text`,
      `create index ${name(i)}_amount_idx on ${t} (amount)`,
      `alter table ${t} drop constraint ${name(i)}_code_key`,
      `alter table ${t} add constraint ${name(i)}_amount_check check (amount >= 0)`,
    ][k % 5];
    statements.push(`${change};`);
    k += 1;
  }
  return statements;
}

/** Runs a command under /usr/bin/time -v; returns wall seconds and peak RSS in MiB. */
function measure(command, args, env, okStatuses = [0]) {
  const result = spawnSync("/usr/bin/time", ["-v", command, ...args], {
    env,
    encoding: "utf8",
    maxBuffer: 1024 * 1024 * 256,
  });
  if (!okStatuses.includes(result.status)) {
    throw new Error(`${command} ${args.join(" ")} failed (${result.status}): ${result.stderr.slice(-2000)}`);
  }
  const wall = /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)/.exec(result.stderr);
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(result.stderr);
  if (!wall || !rss) throw new Error(`could not read /usr/bin/time output:\n${result.stderr.slice(-2000)}`);
  const seconds = Number(wall[1] ?? 0) * 3600 + Number(wall[2]) * 60 + Number(wall[3]);
  return { seconds, rssMiB: Number(rss[1]) / 1024, stdout: result.stdout };
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const round = (value, digits = 2) => Number(value.toFixed(digits));

const work = mkdtempSync(join(tmpdir(), "bench-drift-diff-"));
const cluster = await startCluster({ major: 15, settings: { max_locks_per_transaction: "1024" } });
try {
  const admin = new pg.Client({ connectionString: cluster.url() });
  await admin.connect();
  const buildStart = Date.now();
  await admin.query("create database bench_before");
  const before = new pg.Client({ connectionString: cluster.url({ database: "bench_before" }) });
  await before.connect();
  await before.query(`create schema ${schema}`);
  const batch = 500;
  for (let from = 1; from <= tables; from += batch) {
    await before.query(tableBatch(from, Math.min(from + batch, tables + 1)));
    log(`built ${Math.min(from + batch - 1, tables)}/${tables} tables`);
  }
  await before.end();
  // The after database is a copy of the before one with 1% of its tables changed.
  await admin.query("create database bench_after template bench_before");
  const after = new pg.Client({ connectionString: cluster.url({ database: "bench_after" }) });
  await after.connect();
  const changes = changeStatements();
  await after.query(changes.join("\n"));
  await after.end();
  await admin.query("vacuum analyze");
  await admin.end();
  const buildSeconds = (Date.now() - buildStart) / 1000;
  log(`two databases built in ${buildSeconds.toFixed(1)} s; ${changes.length} tables changed`);

  // Passwords reach the tools through PGPASSWORD (catalog-snapshot) and, for migra, which takes
  // only URLs, in its argv: this is a throwaway local cluster.
  const env = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    PGHOST: cluster.host,
    PGPORT: String(cluster.port),
    PGUSER: cluster.superuser,
    PGPASSWORD: cluster.superuserPassword,
  };
  const beforeFile = join(work, "before.json");
  const afterFile = join(work, "after.json");
  const stages = {
    "snapshot before": [
      process.execPath,
      [snapshotCli, "--url", `postgres://${cluster.host}:${cluster.port}/bench_before`, "--schema", schema, "--out", beforeFile],
      [0],
    ],
    "snapshot after": [
      process.execPath,
      [snapshotCli, "--url", `postgres://${cluster.host}:${cluster.port}/bench_after`, "--schema", schema, "--out", afterFile],
      [0],
    ],
    "drift-diff": [process.execPath, [driftDiffCli, beforeFile, afterFile, "--format", "text"], [1]],
  };
  const migra = [
    process.execPath,
    [
      migraCli,
      cluster.url({ database: "bench_before" }),
      cluster.url({ database: "bench_after" }),
      "--schema",
      schema,
      "--unsafe",
      "--with-privileges",
    ],
    // migra exits 2 when it found differences, as the Python original does.
    [0, 2],
  ];

  const inProcess = [process.execPath, [pipelineScript, "bench_before", "bench_after", schema], [1]];

  const pipeline = [];
  const inProcessFigures = [];
  const stageFigures = { "snapshot before": [], "snapshot after": [], "drift-diff": [] };
  const migraFigures = [];
  let driftDiffText = "";
  let migraText = "";
  // Warm-up of both (caches), then alternate so background load hits both alike.
  for (const [command, args, ok] of Object.values(stages)) measure(command, args, env, ok);
  measure(inProcess[0], inProcess[1], env, inProcess[2]);
  measure(migra[0], migra[1], env, migra[2]);
  for (let run = 1; run <= runs; run += 1) {
    let seconds = 0;
    let rssMiB = 0;
    for (const [label, [command, args, ok]] of Object.entries(stages)) {
      const figures = measure(command, args, env, ok);
      stageFigures[label].push(figures);
      seconds += figures.seconds;
      rssMiB = Math.max(rssMiB, figures.rssMiB);
      if (label === "drift-diff") driftDiffText = figures.stdout;
    }
    pipeline.push({ seconds, rssMiB });
    log(`run ${run} snapshot+snapshot+drift-diff CLIs: ${seconds.toFixed(2)} s, ${rssMiB.toFixed(1)} MiB`);
    const library = measure(inProcess[0], inProcess[1], env, inProcess[2]);
    inProcessFigures.push(library);
    log(`run ${run} library pipeline: ${library.seconds.toFixed(2)} s, ${library.rssMiB.toFixed(1)} MiB`);
    const figures = measure(migra[0], migra[1], env, migra[2]);
    migraFigures.push(figures);
    migraText = figures.stdout;
    log(`run ${run} migra: ${figures.seconds.toFixed(2)} s, ${figures.rssMiB.toFixed(1)} MiB`);
  }

  // The library diff() alone, in this process, on the parsed snapshots (median of 11).
  const parseStart = performance.now();
  const beforeDoc = CatalogSnapshotSchema.parse(JSON.parse(readFileSync(beforeFile, "utf8")));
  const afterDoc = CatalogSnapshotSchema.parse(JSON.parse(readFileSync(afterFile, "utf8")));
  const parseSeconds = (performance.now() - parseStart) / 1000;
  const diffTimes = [];
  let result;
  for (let i = 0; i < 11; i += 1) {
    const start = performance.now();
    result = diff(beforeDoc, afterDoc);
    diffTimes.push((performance.now() - start) / 1000);
  }

  const changedTables = new Set(result.changes.map((change) => change.parent ?? change.identity));
  const summary = {
    tables,
    tablesChanged: changes.length,
    runs,
    server: `PostgreSQL ${cluster.major} (${cluster.source})`,
    node: process.version,
    buildSeconds: round(buildSeconds, 1),
    snapshotBytes: { before: statSync(beforeFile).size, after: statSync(afterFile).size },
    diff: {
      changes: result.changes.length,
      objectsAffected: changedTables.size,
      summary: result.summary.byKind,
      statTail: driftDiffText.trim().split("\n").slice(-2),
    },
    migraStatements: migraText.split("\n").filter((line) => line.trim().endsWith(";")).length,
    commands: {
      pipeline: [
        `node packages/catalog-snapshot/bin/catalog-snapshot.js --url postgres://HOST:PORT/bench_before --schema ${schema} --out before.json`,
        `node packages/catalog-snapshot/bin/catalog-snapshot.js --url postgres://HOST:PORT/bench_after --schema ${schema} --out after.json`,
        "node packages/drift-diff/bin/drift-diff.js before.json after.json --format text",
      ],
      libraryPipeline: `node bench/drift-diff/pipeline.mjs bench_before bench_after ${schema}`,
      migra: `node node_modules/@pgkit/migra/dist/command.js URL_BEFORE URL_AFTER --schema ${schema} --unsafe --with-privileges`,
    },
    medianSeconds: {
      "library diff() on parsed snapshots": round(median(diffTimes), 3),
      "parse+validate both snapshots (in process, once)": round(parseSeconds, 3),
      "drift-diff CLI (read, validate, diff, print)": round(median(stageFigures["drift-diff"].map((f) => f.seconds))),
      "catalog-snapshot before": round(median(stageFigures["snapshot before"].map((f) => f.seconds))),
      "catalog-snapshot after": round(median(stageFigures["snapshot after"].map((f) => f.seconds))),
      "pipeline (2 snapshots + drift-diff, sequential)": round(median(pipeline.map((p) => p.seconds))),
      "library pipeline (snapshot() x2 concurrently + diff(), one process)": round(
        median(inProcessFigures.map((f) => f.seconds)),
      ),
      migra: round(median(migraFigures.map((f) => f.seconds))),
    },
    peakRssMiB: {
      "drift-diff CLI": round(Math.max(...stageFigures["drift-diff"].map((f) => f.rssMiB)), 1),
      pipeline: round(Math.max(...pipeline.map((p) => p.rssMiB)), 1),
      "library pipeline": round(Math.max(...inProcessFigures.map((f) => f.rssMiB)), 1),
      migra: round(Math.max(...migraFigures.map((f) => f.rssMiB)), 1),
    },
    allSeconds: {
      pipeline: pipeline.map((p) => round(p.seconds)),
      "library pipeline": inProcessFigures.map((f) => round(f.seconds)),
      "drift-diff CLI": stageFigures["drift-diff"].map((f) => round(f.seconds)),
      migra: migraFigures.map((f) => round(f.seconds)),
    },
  };
  summary.pipelineToMigraRatio = round(
    summary.medianSeconds["pipeline (2 snapshots + drift-diff, sequential)"] / summary.medianSeconds.migra,
    3,
  );
  summary.libraryPipelineToMigraRatio = round(
    summary.medianSeconds["library pipeline (snapshot() x2 concurrently + diff(), one process)"] / summary.medianSeconds.migra,
    3,
  );
  summary.targets = {
    "library diff() < 1 s": summary.medianSeconds["library diff() on parsed snapshots"] < 1,
    "drift-diff CLI < 1 s": summary.medianSeconds["drift-diff CLI (read, validate, diff, print)"] < 1,
    "CLI pipeline <= 0.1x migra": summary.pipelineToMigraRatio <= 0.1,
    "library pipeline <= 0.1x migra": summary.libraryPipelineToMigraRatio <= 0.1,
  };
  process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
} finally {
  await cluster.stop();
  rmSync(work, { recursive: true, force: true });
}
