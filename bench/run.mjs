// The benchmark harness: `npm run bench` at the repository root (after `npm ci && npm run demo`,
// which builds every package). Starts a throwaway PostgreSQL, builds the catalogs the pairs need
// (once, shared), times each pair side by side and writes bench/RESULTS.md.
//
//   npm run bench                                   # everything, the issue's sizes (about 15-20 min on 2 cores)
//   npm run bench -- --only=snapshot,drift-diff     # some pairs
//   npm run bench -- --n=500 --runs=2               # small and quick, while developing
//
// Options: --only=<pair>[,<pair>] (startup, sql-lint, snapshot, migra, drift-diff, scaling,
// tx-apply, backup-marker), --n=<tables> (default 10000), --runs=<repetitions for every pair>,
// --scaling=<n>,<n>,... (default N/10, N, 5N), --backup-mb=<archive size> (default 200),
// --out=<file> (default bench/RESULTS.md for a complete default run, else bench/.work/RESULTS.partial.md),
// --keep (keep bench/.work/run: snapshots, dumps, artifacts), --render=<results.json> (write the
// report again from a run's raw figures, e.g. after editing bench/notes; measures nothing).
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { startCluster } from "@dieu44/ephemeral-pg";
import pg from "pg";
import { TOOL_VERSIONS, TOOLS_DIR } from "./comparison-tools.mjs";
import { createContext, PAIRS, parseOptions } from "./lib/context.mjs";
import { formatSeconds, renderReport } from "./lib/report.mjs";
import backupMarker from "./pairs/backup-marker.mjs";
import driftDiff from "./pairs/drift-diff.mjs";
import migra from "./pairs/migra.mjs";
import scaling from "./pairs/scaling.mjs";
import snapshot from "./pairs/snapshot.mjs";
import sqlLint from "./pairs/sql-lint.mjs";
import startup, { CLIS } from "./pairs/startup.mjs";
import txApply from "./pairs/tx-apply.mjs";

const modules = Object.fromEntries(
  [startup, sqlLint, snapshot, migra, driftDiff, scaling, txApply, backupMarker].map((pair) => [pair.id, pair]),
);
const benchDir = dirname(fileURLToPath(import.meta.url));
const repoRoot = join(benchDir, "..");
const log = (message) => process.stderr.write(`${message}\n`);
const load1 = () => os.loadavg()[0].toFixed(2);

/**
 * What touching fresh memory costs on this machine, per 4 KiB page: 256 MiB written twice, the
 * first pass minus the second. It differs a lot between virtual machines (from well under 1 µs to
 * more than 10 µs), and every figure of a tool that touches a lot of memory moves with it.
 */
function pageTouchMicroseconds() {
  const bytes = 256 * 2 ** 20;
  const buffer = Buffer.allocUnsafeSlow(bytes);
  let started = performance.now();
  buffer.fill(1);
  const first = performance.now() - started;
  started = performance.now();
  buffer.fill(2);
  const second = performance.now() - started;
  return ((first - second) * 1000) / (bytes / 4096);
}
const pageTouchUs = pageTouchMicroseconds();
const loads = () => os.loadavg().map((value) => value.toFixed(2));

let options;
try {
  options = parseOptions(process.argv.slice(2));
} catch (error) {
  log(`bench: ${error.message}`);
  process.exit(2);
}
if (options.render) {
  const { run, pairs } = JSON.parse(readFileSync(options.render, "utf8"));
  run.renderedAgain = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  const out = options.out ?? (run.complete ? join(benchDir, "RESULTS.md") : join(benchDir, ".work", "RESULTS.partial.md"));
  writeFileSync(out, renderReport({ run, pairs, notesDir: join(benchDir, "notes") }));
  log(`bench: wrote ${relative(process.cwd(), out) || out} from ${options.render} (figures of the run of ${run.finishedAt})`);
  process.exit(0);
}
const selected = PAIRS.filter((id) => !options.only || options.only.includes(id));
for (const tool of CLIS) {
  const dist = tool === "dieu44" ? join(repoRoot, "apps", "dieu44", "dist") : join(repoRoot, "packages", tool, "dist");
  if (!existsSync(dist)) {
    log(`bench: ${relative(repoRoot, dist)} is missing: build first (npm run build, or npm run demo)`);
    process.exit(3);
  }
}

const startedAt = new Date();
const started = performance.now();
const loadBefore = loads();
const work = join(benchDir, ".work", "run");
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
log(`bench: pairs ${selected.join(", ")}; N = ${options.n}; load average ${loadBefore.join(", ")}`);

const settings = { max_locks_per_transaction: "1024", shared_buffers: "1GB", autovacuum: "off" };
const cluster = await startCluster({ major: 15, settings });
const results = [];
let serverVersion = "?";
try {
  const admin = new pg.Client({ connectionString: cluster.url() });
  await admin.connect();
  serverVersion = (await admin.query("show server_version")).rows[0].server_version;
  await admin.end();
  const ctx = createContext({ options, cluster, repoRoot, work, log });
  for (const id of selected) {
    const pair = modules[id];
    log(`\n== ${pair.title}`);
    const pairLoad = load1();
    const pairStarted = performance.now();
    let result;
    try {
      result = await pair.run(ctx);
    } catch (error) {
      log(`  failed: ${error.stack ?? error}`);
      result = { error: String(error.message ?? error), targets: [] };
    }
    const seconds = (performance.now() - pairStarted) / 1000;
    results.push({ id, title: pair.title, issue: pair.issue, ...result, seconds, loadBefore: pairLoad, loadAfter: load1() });
    log(`  ${id} done in ${formatSeconds(seconds)}`);
  }
} finally {
  await cluster.stop();
  if (!options.keep) rmSync(work, { recursive: true, force: true });
}

const versionOf = (command) => {
  const result = spawnSync(command, ["--version"], { encoding: "utf8" });
  return result.status === 0 ? result.stdout.trim() : "not found";
};
const toolVersion = (name) => {
  const file = join(TOOLS_DIR, "node_modules", ...name.split("/"), "package.json");
  return existsSync(file)
    ? JSON.parse(readFileSync(file, "utf8")).version
    : `not used in this run (pinned ${TOOL_VERSIONS[name]})`;
};
const git = (args) => spawnSync("git", args, { cwd: repoRoot, encoding: "utf8" }).stdout?.trimEnd() ?? "";
const clientBinary = (name) => (existsSync(join(cluster.binDir, name)) ? join(cluster.binDir, name) : name);
const squawkBin = join(TOOLS_DIR, "node_modules", ".bin", "squawk");
const totalSeconds = (performance.now() - started) / 1000;
const run = {
  startedAt: startedAt.toISOString().replace(/\.\d+Z$/, "Z"),
  finishedAt: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
  totalSeconds,
  optionsText: process.argv.slice(2).join(" ") || "none (the defaults: every pair, N = 10,000)",
  complete: options.complete,
  commit: git(["rev-parse", "--short", "HEAD"]) || "unknown",
  dirty: git(["status", "--porcelain", "--", "packages", "apps", "bench", "package.json", "package-lock.json"])
    .split("\n")
    .filter(Boolean)
    .map((line) => line.slice(3))
    .join(", "),
  machine: {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model?.trim() ?? "unknown",
    memoryGiB: os.totalmem() / 2 ** 30,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    loadBefore,
    loadAfter: loads(),
    pageTouchUs,
  },
  versions: {
    node: process.version,
    server: serverVersion,
    serverSource: cluster.source,
    serverSettings: Object.entries(settings)
      .map(([name, value]) => `${name}=${value}`)
      .join(", ")
      .concat(", and ephemeral-pg's fsync=off, synchronous_commit=off, full_page_writes=off"),
    pgDump: versionOf(clientBinary("pg_dump")),
    psql: versionOf(clientBinary("psql")),
    squawk: existsSync(squawkBin) ? versionOf(squawkBin) : `not used in this run (pinned ${TOOL_VERSIONS["squawk-cli"]})`,
    migra: toolVersion("@pgkit/migra"),
    schemainspect: toolVersion("@pgkit/schemainspect"),
  },
};
const markdown = renderReport({ run, pairs: results, notesDir: join(benchDir, "notes") });
const out = options.out ?? (options.complete ? join(benchDir, "RESULTS.md") : join(benchDir, ".work", "RESULTS.partial.md"));
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, markdown);
writeFileSync(join(benchDir, ".work", "results.json"), `${JSON.stringify({ run, pairs: results }, null, 2)}\n`);

// The summary on stdout: each target and the total wall time.
const summaryStart = markdown.indexOf("## Summary");
process.stdout.write(`${markdown.slice(summaryStart, markdown.indexOf("## Machine")).trim()}\n\n`);
process.stdout.write(
  `Wrote ${relative(process.cwd(), out) || out}. Total wall time: ${formatSeconds(totalSeconds)} (${(totalSeconds / 60).toFixed(1)} min).\n`,
);
process.exitCode = results.some((pair) => pair.error) ? 1 : 0;
