// Benchmark: `tx-apply FILE` against `psql -1 -v ON_ERROR_STOP=1 -f FILE`, side by side on the same
// throwaway PostgreSQL 15, with the same generated artifact of --statements (default 1,000) DDL
// statements between BEGIN and COMMIT (250 tables: CREATE TABLE, a foreign key, an index, a comment).
// Every run gets a fresh database; each run checks afterwards that all tables were committed.
//
//   npx tsc -p packages/tx-apply/tsconfig.build.json   # build first
//   node bench/tx-apply/bench.mjs                      # --statements=200 --runs=2 for a quick check
//
// Runs alternate (psql first on odd runs) after one untimed warm-up of each. Wall time is measured
// around each child process (node start-up, parsing and guards included for tx-apply); peak RSS
// comes from /usr/bin/time -v.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os, { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { startCluster } from "@dieu44/ephemeral-pg";
import { apply } from "@dieu44/tx-apply";
import pg from "pg";

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
/** `--statements=N`, `--runs=N`. */
const flag = (name, fallback) => {
  const given = process.argv.find((arg) => arg.startsWith(`--${name}=`));
  return given ? Number(given.slice(name.length + 3)) : fallback;
};
const statementCount = Math.max(4, Math.floor(flag("statements", 1000) / 4) * 4);
const runs = flag("runs", 7);
const cli = join(repoRoot, "packages", "tx-apply", "bin", "tx-apply.js");
const role = "bench_applier";
const rolePassword = "bench-applier-secret";

const log = (message) => process.stderr.write(`${message}\n`);
const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

/** BEGIN, then per table: CREATE TABLE, a foreign key to the previous table, an index, a comment; COMMIT. */
function artifact(count) {
  const tables = count / 4;
  const lines = ["-- generated benchmark artifact", "\\set ON_ERROR_STOP on", "", "BEGIN;", ""];
  for (let i = 0; i < tables; i++) {
    const t = `bench.item_${String(i).padStart(4, "0")}`;
    lines.push(
      `CREATE TABLE ${t} (\n  id bigint NOT NULL,\n  parent_id bigint,\n  code text NOT NULL,\n  created_at timestamptz NOT NULL,\n` +
        `  CONSTRAINT item_${i}_pkey PRIMARY KEY (id),\n  CONSTRAINT item_${i}_code_key UNIQUE (code)\n);`,
      i === 0
        ? `ALTER TABLE ${t} ADD CONSTRAINT item_${i}_parent_fk FOREIGN KEY (parent_id) REFERENCES ${t} (id);`
        : `ALTER TABLE ${t} ADD CONSTRAINT item_${i}_parent_fk FOREIGN KEY (parent_id) REFERENCES bench.item_${String(i - 1).padStart(4, "0")} (id);`,
      `CREATE INDEX item_${i}_parent_idx ON ${t} (parent_id);`,
      `COMMENT ON TABLE ${t} IS 'benchmark table ${i}; generated';`,
      "",
    );
  }
  lines.push("COMMIT;", "");
  return lines.join("\n");
}

/** Runs a command under /usr/bin/time -v; returns wall seconds, peak RSS (MiB), status and output. */
function measure(command, args, env) {
  const started = process.hrtime.bigint();
  const result = spawnSync("/usr/bin/time", ["-v", command, ...args], { env, encoding: "utf8", maxBuffer: 256 << 20 });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const rssKb = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(result.stderr)?.[1] ?? Number.NaN);
  return { seconds, rssMiB: rssKb / 1024, status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const loadAtStart = os.loadavg();
const cluster = await startCluster({ major: 15 });
const work = mkdtempSync(join(tmpdir(), "bench-tx-apply-"));
try {
  const admin = new pg.Client({ connectionString: cluster.url() });
  await admin.connect();
  await admin.query(`CREATE ROLE ${role} LOGIN PASSWORD '${rolePassword}'`);
  const systemIdentifier = (await admin.query("SELECT system_identifier::text AS id FROM pg_control_system()")).rows[0].id;

  const sql = artifact(statementCount);
  const file = join(work, "artifact.sql");
  writeFileSync(file, sql);
  const sha256 = createHash("sha256").update(sql).digest("hex");
  log(`artifact: ${statementCount} statements between BEGIN and COMMIT, ${Buffer.byteLength(sql)} bytes, sha256 ${sha256}`);

  let databaseNumber = 0;
  /** A fresh database with an empty schema owned by the apply role. */
  const freshDatabase = async () => {
    const name = `bench_${++databaseNumber}`;
    await admin.query(`CREATE DATABASE ${name}`);
    const client = new pg.Client({ connectionString: cluster.url({ database: name }) });
    await client.connect();
    await client.query(`CREATE SCHEMA bench AUTHORIZATION ${role}`);
    await client.end();
    return name;
  };
  const tablesIn = async (name) => {
    const client = new pg.Client({ connectionString: cluster.url({ database: name }) });
    await client.connect();
    const { rows } = await client.query("SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'bench'");
    await client.end();
    return rows[0].n;
  };
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, PGPASSWORD: rolePassword };
  const psql = join(cluster.binDir, "psql");

  const commands = {
    psql: (database) => [
      psql,
      [
        "-X",
        "-q",
        "-h",
        cluster.host,
        "-p",
        String(cluster.port),
        "-U",
        role,
        "-d",
        database,
        "-v",
        "ON_ERROR_STOP=1",
        "-1",
        "-f",
        file,
      ],
    ],
    "tx-apply": (database) => [
      process.execPath,
      [
        cli,
        file,
        "--role",
        role,
        "--expect-system-identifier",
        systemIdentifier,
        "--sha256",
        sha256,
        "--url",
        `postgres://${role}@${cluster.host}:${cluster.port}/${database}`,
      ],
    ],
  };

  const results = { psql: [], "tx-apply": [] };
  const phases = [];
  const runOnce = async (tool, record) => {
    const database = await freshDatabase();
    const [command, args] = commands[tool](database);
    const measured = measure(command, args, env);
    if (measured.status !== 0) throw new Error(`${tool} failed (${measured.status}): ${measured.stderr.slice(-2000)}`);
    const tables = await tablesIn(database);
    if (tables !== statementCount / 4) throw new Error(`${tool}: ${tables} tables after the run, expected ${statementCount / 4}`);
    if (tool === "tx-apply") {
      const applyLog = JSON.parse(measured.stdout);
      if (applyLog.outcome !== "committed") throw new Error(`tx-apply outcome ${applyLog.outcome}`);
      if (record) phases.push(applyLog.timings);
    }
    await admin.query(`DROP DATABASE ${database}`);
    if (record) results[tool].push(measured);
    log(`${record ? "run" : "warm-up"} ${tool}: ${measured.seconds.toFixed(3)} s, peak RSS ${measured.rssMiB.toFixed(1)} MiB`);
  };

  await runOnce("psql", false);
  await runOnce("tx-apply", false);
  for (let run = 1; run <= runs; run++) {
    const order = run % 2 ? ["psql", "tx-apply"] : ["tx-apply", "psql"];
    for (const tool of order) await runOnce(tool, true);
  }
  // For the analysis only: the library called in this (already warm) process, so node start-up,
  // module loading and a cold JIT are out of the picture; what is left is the apply itself.
  const inProcess = [];
  for (let run = 1; run <= 3; run++) {
    const database = await freshDatabase();
    const started = process.hrtime.bigint();
    const applyLog = await apply(
      { url: `postgres://${role}@${cluster.host}:${cluster.port}/${database}`, env: { PGPASSWORD: rolePassword } },
      { path: file },
      { role, expectSystemIdentifier: systemIdentifier, sha256 },
    );
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (applyLog.outcome !== "committed") throw new Error(`in-process apply: ${applyLog.outcome}`);
    inProcess.push({ seconds: Number(seconds.toFixed(3)), statementsMs: Math.round(applyLog.timings.statementsMs) });
    await admin.query(`DROP DATABASE ${database}`);
    log(`in-process apply(): ${seconds.toFixed(3)} s (statements ${Math.round(applyLog.timings.statementsMs)} ms)`);
  }
  await admin.end();

  const summary = Object.fromEntries(
    Object.entries(results).map(([tool, list]) => [
      tool,
      {
        medianSeconds: median(list.map((entry) => entry.seconds)),
        minSeconds: Math.min(...list.map((entry) => entry.seconds)),
        maxSeconds: Math.max(...list.map((entry) => entry.seconds)),
        peakRssMiB: Math.max(...list.map((entry) => entry.rssMiB)),
      },
    ]),
  );
  const ratio = summary["tx-apply"].medianSeconds / summary.psql.medianSeconds;
  // Each run's two commands ran back to back under the same machine load: their ratio is steadier
  // than the ratio of medians when the load swings.
  const pairedRatios = results.psql.map((entry, run) => results["tx-apply"][run].seconds / entry.seconds);
  const phaseMedians = Object.fromEntries(
    ["connectMs", "guardsMs", "statementsMs", "commitMs", "totalMs"].map((key) => [
      key,
      median(phases.map((timing) => timing[key])),
    ]),
  );
  const report = {
    postgres: `${cluster.major} (${cluster.source})`,
    statements: statementCount,
    artifactBytes: Buffer.byteLength(sql),
    runs,
    psqlCommand: `psql -X -q -h HOST -p PORT -U ${role} -d DB -v ON_ERROR_STOP=1 -1 -f artifact.sql`,
    txApplyCommand: `node packages/tx-apply/bin/tx-apply.js artifact.sql --role ${role} --expect-system-identifier ID --sha256 HEX --url postgres://${role}@HOST:PORT/DB`,
    ...summary,
    ratio,
    medianPairedRatio: median(pairedRatios),
    runsSeconds: Object.fromEntries(
      Object.entries(results).map(([tool, list]) => [tool, list.map((entry) => Number(entry.seconds.toFixed(3)))]),
    ),
    loadAverage1m: { start: Number(loadAtStart[0].toFixed(2)), end: Number(os.loadavg()[0].toFixed(2)) },
    target: "tx-apply median <= 1.2 x psql median",
    targetMet: ratio <= 1.2,
    txApplyPhaseMediansMs: phaseMedians,
    inProcessApply: inProcess,
  };
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
} finally {
  await cluster.stop();
  rmSync(work, { recursive: true, force: true });
}
