// What every pair gets: options, the throwaway cluster, the libpq environment, the catalogs
// (built once and shared between pairs), paths of the CLIs and the client binaries, a logger.
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { comparisonTools } from "../comparison-tools.mjs";
import { buildCatalog, buildChangedCopy, SCHEMA } from "./catalog.mjs";
import { measure, timeFileIn } from "./measure.mjs";

export const PAIRS = ["startup", "sql-lint", "snapshot", "migra", "drift-diff", "scaling", "tx-apply", "backup-marker"];

export function parseOptions(argv) {
  const value = (name) => argv.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3);
  const number = (name) => {
    const text = value(name);
    if (text === undefined) return undefined;
    const parsed = Number(text.replaceAll("_", ""));
    if (!Number.isInteger(parsed) || parsed < 1) throw new Error(`--${name} must be a positive integer, got ${text}`);
    return parsed;
  };
  for (const arg of argv) {
    if (!/^--(only|n|runs|scaling|backup-mb|out|keep|render)(=|$)/.test(arg)) throw new Error(`unknown option ${arg}`);
  }
  const only = value("only")?.split(",").filter(Boolean);
  for (const pair of only ?? []) if (!PAIRS.includes(pair)) throw new Error(`unknown pair ${pair}; pairs: ${PAIRS.join(", ")}`);
  const n = number("n") ?? 10_000;
  const scaling = value("scaling")
    ?.split(",")
    .map((text) => Number(text.replaceAll("_", "")));
  if (scaling?.some((size) => !Number.isInteger(size) || size < 1))
    throw new Error("--scaling takes sizes like 1000,10000,50000");
  const options = {
    only,
    n,
    runs: number("runs"),
    // Default scaling points: a tenth of N, N and five times N (1,000, 10,000 and 50,000 for N = 10,000).
    scaling: scaling ?? [...new Set([Math.max(1, Math.round(n / 10)), n, n * 5])],
    backupMb: number("backup-mb") ?? 200,
    out: value("out"),
    keep: argv.includes("--keep"),
    // Write the report again from a run's results.json (e.g. after editing bench/notes), measuring nothing.
    render: value("render"),
  };
  // Only a run of everything at the defaults replaces the checked-in bench/RESULTS.md.
  options.complete = !only && !value("n") && !options.runs && !value("scaling") && !value("backup-mb");
  return options;
}

export function createContext({ options, cluster, repoRoot, work, log }) {
  const env = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: process.env.HOME ?? work,
    LANG: "C.UTF-8",
    PGHOST: cluster.host,
    PGPORT: String(cluster.port),
    PGUSER: cluster.superuser,
    PGPASSWORD: cluster.superuserPassword,
    PGDATABASE: "postgres",
  };
  const client = (name) => {
    const inBinDir = join(cluster.binDir, name);
    return existsSync(inBinDir) ? inBinDir : name;
  };
  const catalogs = new Map();
  const changed = new Map();
  const snapshotFiles = new Map();
  let tools;
  const context = {
    options,
    cluster,
    repoRoot,
    work,
    log,
    env,
    schema: SCHEMA,
    /** The real client binaries of the server's major (not Debian's pg_wrapper, a Perl script). */
    pgDump: client("pg_dump"),
    psql: client("psql"),
    /** Runs of a pair: --runs if given, else the pair's default. */
    runs: (fallback) => options.runs ?? fallback,
    cli: (tool) =>
      tool === "dieu44"
        ? join(repoRoot, "apps", "dieu44", "bin", "dieu44.js")
        : join(repoRoot, "packages", tool, "bin", `${tool}.js`),
    /** measure() with the harness's environment and time file. */
    measure: (command, args, opts = {}) => measure(command, args, { env, cwd: repoRoot, timeFile: timeFileIn(work), ...opts }),
    /** One folder per pair under the run's work folder. */
    folder: (name) => {
      const folder = join(work, name);
      mkdirSync(folder, { recursive: true });
      return folder;
    },
    tools: () => {
      tools ??= comparisonTools(log);
      return tools;
    },
    /** Database `catalog_N` with N tables (built on first use). */
    catalog: async (tables) => {
      if (!catalogs.has(tables)) {
        const database = `catalog_${tables}`;
        log(`  building ${database}: ${tables} tables ...`);
        const built = await buildCatalog(cluster, { database, tables, log });
        log(`  built ${database} in ${built.seconds.toFixed(1)} s: ${JSON.stringify(built.counts)}`);
        catalogs.set(tables, { database, ...built });
      }
      return catalogs.get(tables);
    },
    /** Database `catalog_N_after`: a copy of catalog_N with 1% of its tables changed. */
    changedCatalog: async (tables) => {
      if (!changed.has(tables)) {
        const before = await context.catalog(tables);
        const database = `${before.database}_after`;
        const started = performance.now();
        const tablesChanged = await buildChangedCopy(cluster, { from: before.database, to: database, tables });
        const seconds = (performance.now() - started) / 1000;
        log(`  built ${database} in ${seconds.toFixed(1)} s (${tablesChanged} tables changed)`);
        changed.set(tables, { database, tablesChanged, seconds });
      }
      return changed.get(tables);
    },
    /** Where catalog-snapshot's JSON of catalog_N (or _after) lives, once a pair has written it. */
    snapshotFile: (tables, which) => join(context.folder("snapshots"), `${which}-${tables}.json`),
    noteSnapshot: (tables, which) => snapshotFiles.set(`${which}-${tables}`, true),
    hasSnapshot: (tables, which) => snapshotFiles.has(`${which}-${tables}`),
    /** Figures a pair leaves for another (e.g. the N-table snapshot timings for the scaling table). */
    shared: {},
  };
  return context;
}
