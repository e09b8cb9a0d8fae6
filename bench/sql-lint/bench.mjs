// sql-lint vs squawk on the same generated artifact: median wall time, CPU time and peak RSS.
//   node bench/sql-lint/bench.mjs [--statements 20000] [--runs 7]
// Needs the built package (npx tsc -p packages/sql-lint/tsconfig.build.json). No database is
// involved: linting is offline, so no server is started. Runs are interleaved (sql-lint, squawk,
// sql-lint, ...) so that load from other processes hits both tools alike.

import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { cpus, loadavg } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { comparisonTool } from "../comparison-tools.mjs";
import { generateArtifact } from "./generate.mjs";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const WORK = join(ROOT, "bench", ".work", "sql-lint");
const option = (name, fallback) => {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
};
const statements = option("statements", 20000);
const runs = option("runs", 7);

mkdirSync(WORK, { recursive: true });
const artifact = join(WORK, `artifact-${statements}.sql`);
writeFileSync(artifact, generateArtifact(statements));
const bytes = readFileSync(artifact);
const policy = join(WORK, `policy-${statements}.json`);
writeFileSync(
  policy,
  JSON.stringify({
    kind: "sql-lint-policy",
    formatVersion: 1,
    approvedSha256: createHash("sha256").update(bytes).digest("hex"),
    allowedSchemas: ["bench"],
    // The artifact creates indexes and comments; everything else of the seed's list stays forbidden.
    forbiddenStatements: [
      "GRANT",
      "REVOKE",
      "ALTER_OWNER",
      "ALTER_SCHEMA",
      "SET_ROLE",
      "SET_SESSION_AUTHORIZATION",
      "DML",
      "DROP",
      "TRUNCATE",
      "DO",
      "COPY",
      "CREATE_SCHEMA",
    ],
  }),
);

// The parser, not the generator, says how many statements there are.
const { splitScript } = await import(join(ROOT, "packages", "sql-lint", "dist", "index.js"));
const counted = (await splitScript(bytes)).statements.length;
if (counted !== statements) throw new Error(`the artifact has ${counted} statements, not ${statements}`);

const squawkFolder = comparisonTool("squawk-cli");
const require = createRequire(join(squawkFolder, "package.json"));
const squawkWrapper = join(squawkFolder, "..", ".bin", "squawk");
let squawkBinary = null;
try {
  squawkBinary = require.resolve(`@squawk-cli/${process.platform}-${process.arch}/bin/squawk`);
} catch {
  // optional dependency missing: only the wrapper is measured
}
const squawkVersion = spawnSync(squawkWrapper, ["--version"], { encoding: "utf8" }).stdout.trim();
const sqlLint = join(ROOT, "packages", "sql-lint", "bin", "sql-lint.js");
const rel = (path) => relative(ROOT, path);

const tools = [
  {
    name: "sql-lint --format text",
    command: [process.execPath, sqlLint, artifact, "--policy", policy, "--format", "text"],
    show: `node ${rel(sqlLint)} ${rel(artifact)} --policy ${rel(policy)} --format text`,
  },
  {
    name: "sql-lint (json report)",
    command: [process.execPath, sqlLint, artifact, "--policy", policy],
    show: `node ${rel(sqlLint)} ${rel(artifact)} --policy ${rel(policy)}`,
  },
  { name: "squawk (npx wrapper)", command: [squawkWrapper, artifact], show: `npx squawk ${rel(artifact)}` },
  ...(squawkBinary
    ? [{ name: "squawk (native binary)", command: [squawkBinary, artifact], show: `${rel(squawkBinary)} ${rel(artifact)}` }]
    : []),
];

const timeBinary = existsSync("/usr/bin/time") ? "/usr/bin/time" : null;
const timeFile = join(WORK, "time.txt");

function measure(command) {
  const argv = timeBinary ? [timeBinary, "-f", "%U %S %M", "-o", timeFile, ...command] : command;
  const started = process.hrtime.bigint();
  const result = spawnSync(argv[0], argv.slice(1), { cwd: ROOT, maxBuffer: 1 << 30 });
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  let cpuMs = null;
  let rssMb = null;
  if (timeBinary) {
    const line = readFileSync(timeFile, "utf8").trim().split("\n").at(-1).split(" ").map(Number);
    cpuMs = (line[0] + line[1]) * 1000;
    rssMb = line[2] / 1024;
  }
  return { wallMs, cpuMs, rssMb, status: result.status, stdoutBytes: result.stdout.length };
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

const samples = new Map(tools.map((tool) => [tool.name, []]));
measure(tools[0].command); // warm the file cache
for (let round = 0; round < runs; round++) {
  for (const tool of tools) samples.get(tool.name).push(measure(tool.command));
  process.stderr.write(`round ${round + 1}/${runs} done\n`);
}

// The library alone, warm, in this process.
const { lint } = await import(join(ROOT, "packages", "sql-lint", "dist", "index.js"));
const policyDocument = JSON.parse(readFileSync(policy, "utf8"));
const inProcess = [];
for (let i = 0; i < 5; i++) {
  const started = process.hrtime.bigint();
  const report = await lint(bytes, policyDocument);
  inProcess.push(Number(process.hrtime.bigint() - started) / 1e6);
  if (!report.pass) throw new Error("the benchmark artifact should pass its policy");
}

// Where a cold run's CPU goes (fresh processes, medians of 3).
const phaseRuns = [];
for (let i = 0; i < 3; i++) {
  const result = spawnSync(process.execPath, [join(ROOT, "bench", "sql-lint", "phases.mjs"), artifact, policy], {
    cwd: ROOT,
    encoding: "utf8",
  });
  if (result.status !== 0) throw new Error(`phases.mjs failed: ${result.stderr}`);
  phaseRuns.push(JSON.parse(result.stdout));
}
const phases = Object.fromEntries(Object.keys(phaseRuns[0]).map((key) => [key, median(phaseRuns.map((run) => run[key]))]));

const summary = {
  statements,
  artifactBytes: bytes.length,
  runs,
  cpus: cpus().length,
  loadAverageAtEnd: loadavg().map((value) => Number(value.toFixed(2))),
  node: process.version,
  squawk: squawkVersion,
  tools: tools.map((tool) => {
    const list = samples.get(tool.name);
    return {
      name: tool.name,
      command: tool.show,
      exitCodes: [...new Set(list.map((sample) => sample.status))],
      stdoutBytes: list[0].stdoutBytes,
      medianWallMs: Math.round(median(list.map((sample) => sample.wallMs))),
      minWallMs: Math.round(Math.min(...list.map((sample) => sample.wallMs))),
      medianCpuMs: list[0].cpuMs === null ? null : Math.round(median(list.map((sample) => sample.cpuMs))),
      medianPeakRssMb: list[0].rssMb === null ? null : Math.round(median(list.map((sample) => sample.rssMb))),
    };
  }),
  libraryLintWarmMedianMs: Math.round(median(inProcess)),
  coldRunCpuPhasesMs: phases,
};
rmSync(timeFile, { force: true });

const squawk = summary.tools.find((tool) => tool.name === "squawk (npx wrapper)");
const lines = [
  `| tool | median wall | min wall | median CPU (user+sys) | median peak RSS | exit | stdout |`,
  `|---|---|---|---|---|---|---|`,
  ...summary.tools.map(
    (tool) =>
      `| ${tool.name} | ${tool.medianWallMs} ms | ${tool.minWallMs} ms | ${tool.medianCpuMs ?? "?"} ms | ${tool.medianPeakRssMb ?? "?"} MB | ${tool.exitCodes.join(",")} | ${tool.stdoutBytes} B |`,
  ),
];
console.log(lines.join("\n"));
for (const tool of summary.tools.filter((tool) => tool.name.startsWith("sql-lint"))) {
  console.log(
    `${tool.name}: ${(tool.medianWallMs / squawk.medianWallMs).toFixed(2)}x squawk's median wall time (wrapper), ${(tool.medianCpuMs / squawk.medianCpuMs).toFixed(2)}x its CPU`,
  );
}
console.log(JSON.stringify(summary, null, 2));
