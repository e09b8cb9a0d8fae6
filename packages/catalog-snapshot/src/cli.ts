/**
 * catalog-snapshot [--url URL] [--schema NAME]... [--privileges-for ROLE]... [--out FILE]
 *
 * Writes the snapshot as JSON to stdout (or to --out, replaced atomically); progress on stderr.
 * A large catalog is read over up to --jobs connections sharing one exported snapshot.
 */
import { optionValues, parseCommandLine } from "@dieu44/plumbing/cli-args";
import { ExitCode, InputError, runCli } from "@dieu44/plumbing/exit";
import { importPg } from "@dieu44/plumbing/pg-import";
import yargs, { hideBin } from "@dieu44/plumbing/yargs";
import { DEFAULT_LOCK_TIMEOUT_MS, DEFAULT_MAX_CONNECTIONS, DEFAULT_STATEMENT_TIMEOUT_MS } from "./defaults.js";

const TOOL = "catalog-snapshot";

interface Arguments {
  url?: string;
  schema: string[];
  privilegesFor: string[];
  out?: string;
  pretty: boolean;
  statementTimeoutMs: number;
  lockTimeoutMs: number;
  jobs: number;
}

/** Parses argv; usage errors become InputError (exit 2). Returns null when --help printed. */
async function parseArguments(argv: string[]): Promise<Arguments | null> {
  const parser = yargs(argv)
    .scriptName(TOOL)
    .usage("$0 [--url URL] [--schema NAME]... [--privileges-for ROLE]... [--out FILE] [--jobs N]")
    .option("url", {
      alias: "dsn",
      type: "string",
      describe: "postgres:// URL or key=value DSN (default: the libpq environment, PGHOST etc.)",
    })
    .option("schema", {
      type: "string",
      requiresArg: true,
      describe: "schema to snapshot (repeatable; default every non-system schema)",
    })
    .option("privileges-for", {
      type: "string",
      requiresArg: true,
      describe: "role whose attributes and schema privileges to record (repeatable)",
    })
    .option("out", { type: "string", describe: "write the JSON to this file instead of stdout" })
    .option("pretty", { type: "boolean", default: false, describe: "indent the JSON (default: compact, one line)" })
    .option("statement-timeout-ms", {
      type: "number",
      default: DEFAULT_STATEMENT_TIMEOUT_MS,
      describe: "statement_timeout for the snapshot transaction",
    })
    .option("lock-timeout-ms", {
      type: "number",
      default: DEFAULT_LOCK_TIMEOUT_MS,
      describe: "lock_timeout for the catalog reads (a table held in ACCESS EXCLUSIVE mode makes some wait)",
    })
    .option("jobs", {
      alias: "j",
      type: "number",
      default: DEFAULT_MAX_CONNECTIONS,
      describe: "most connections to read a large catalog with (one exported snapshot); 1 = one connection",
    })
    .strict();
  const parsed = await parseCommandLine(parser, argv);
  if (!parsed) return null;
  if (parsed._.length > 0) throw new InputError(`unexpected argument: ${String(parsed._[0])}`);
  const timeout = parsed.statementTimeoutMs;
  if (!Number.isInteger(timeout) || timeout < 0) throw new InputError("--statement-timeout-ms must be a non-negative integer");
  const lockTimeout = parsed.lockTimeoutMs;
  if (!Number.isInteger(lockTimeout) || lockTimeout < 0) throw new InputError("--lock-timeout-ms must be a non-negative integer");
  const jobs = parsed.jobs;
  if (!Number.isInteger(jobs) || jobs < 1) throw new InputError("--jobs must be a positive integer");
  for (const name of [...optionValues(parsed.schema), ...optionValues(parsed.privilegesFor)]) {
    if (name === "") throw new InputError("--schema and --privileges-for need a non-empty name");
  }
  return {
    url: parsed.url,
    schema: optionValues(parsed.schema),
    privilegesFor: optionValues(parsed.privilegesFor),
    out: parsed.out,
    pretty: parsed.pretty,
    statementTimeoutMs: timeout,
    lockTimeoutMs: lockTimeout,
    jobs,
  };
}

await runCli(TOOL, async () => {
  const args = await parseArguments(hideBin(process.argv));
  if (!args) return ExitCode.Passed;
  // Loaded once the arguments parsed, so that --help and usage errors do not pay for pg. The
  // snapshot module, not the index: the CLI has no use for zod, which is slow to load.
  const [{ snapshotContent }, { writeSnapshot }, { createProgress }] = await Promise.all([
    importPg(() => import("pg")).then(() => import("./snapshot.js")),
    import("./output.js"),
    import("@dieu44/plumbing/progress"),
  ]);
  const progress = createProgress(TOOL);
  // The content only: the fingerprint is hashed from the text as it is written.
  const content = await snapshotContent(
    { url: args.url },
    {
      schemas: args.schema.length > 0 ? args.schema : undefined,
      privilegesFor: args.privilegesFor,
      statementTimeoutMs: args.statementTimeoutMs,
      lockTimeoutMs: args.lockTimeoutMs,
      maxConnections: args.jobs,
      onProgress: (done, total) => progress.update(done, total, " catalog queries"),
    },
  );
  progress.done(`${content.tables.length} tables`);
  await writeSnapshot(content, args.out, { pretty: args.pretty });
  return ExitCode.Passed;
});
