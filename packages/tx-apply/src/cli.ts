/**
 * tx-apply FILE.sql --role ROLE --expect-system-identifier ID --sha256 HEX
 *          [--expect-fingerprint HEX --schema NAME...] [--verify-before-commit EXPECT.json]
 *          [--dry-run] [--lock-timeout 5s] [--statement-timeout 60s] [--pipeline-depth 4]
 *          [--url URL] [--out FILE]
 *
 * Writes the apply log (JSON, or --format text) to stdout and, with --out, to a file; progress on
 * stderr. Exit 0 committed (or a clean dry run), 1 not started / rolled back / unknown, 2 bad
 * input, 3 no connection.
 */
import { optionValues, parseCommandLine } from "@dieu44/plumbing/cli-args";
import { ExitCode, InputError, runCli } from "@dieu44/plumbing/exit";
import yargs, { hideBin } from "@dieu44/plumbing/yargs";
import { DEFAULT_LOCK_TIMEOUT, DEFAULT_PIPELINE_DEPTH, DEFAULT_STATEMENT_TIMEOUT } from "./defaults.js";

const TOOL = "tx-apply";

interface Arguments {
  file: string;
  role: string;
  expectSystemIdentifier: string;
  sha256: string;
  expectFingerprint?: string;
  schema: string[];
  privilegesFor: string[];
  verifyBeforeCommit?: string;
  dryRun: boolean;
  lockTimeout: string;
  statementTimeout: string;
  advisoryLockKey?: string;
  pipelineDepth: number;
  url?: string;
  out?: string;
  format: "json" | "text";
}

/** Parses argv; usage errors become InputError (exit 2). Returns null when --help printed. */
async function parseArguments(argv: string[]): Promise<Arguments | null> {
  const parser = yargs(argv)
    .scriptName(TOOL)
    .usage(
      "$0 FILE.sql --role ROLE --expect-system-identifier ID --sha256 HEX [--expect-fingerprint HEX --schema NAME]... " +
        "[--verify-before-commit EXPECT.json] [--dry-run] [--lock-timeout 5s] [--statement-timeout 60s] [--pipeline-depth 4] [--url URL]",
    )
    .command("$0 <file>", "apply the artifact (- reads it from stdin)")
    .positional("file", { type: "string", describe: "the approved artifact (.sql)" })
    .option("role", {
      type: "string",
      requiresArg: true,
      demandOption: true,
      describe: "the approved apply role (logs in as it)",
    })
    .option("expect-system-identifier", {
      type: "string",
      requiresArg: true,
      demandOption: true,
      describe: "the target cluster's system identifier",
    })
    .option("sha256", { type: "string", requiresArg: true, demandOption: true, describe: "the approved sha256 of the artifact" })
    .option("expect-fingerprint", {
      type: "string",
      requiresArg: true,
      describe: "the preflight's catalog-snapshot fingerprint of --schema (checked right before the first statement)",
    })
    .option("schema", { type: "string", requiresArg: true, describe: "schema the fingerprint covers (repeatable)" })
    .option("privileges-for", {
      type: "string",
      requiresArg: true,
      describe: "role whose privileges the preflight snapshot recorded (repeatable; same as catalog-snapshot)",
    })
    .option("verify-before-commit", {
      type: "string",
      requiresArg: true,
      describe: "expected-delta JSON checked inside the transaction before COMMIT; ROLLBACK if it does not hold",
    })
    .option("dry-run", { type: "boolean", default: false, describe: "run everything, then ROLLBACK" })
    .option("lock-timeout", { type: "string", default: DEFAULT_LOCK_TIMEOUT, describe: "lock_timeout for the session" })
    .option("statement-timeout", {
      type: "string",
      default: DEFAULT_STATEMENT_TIMEOUT,
      describe: "statement_timeout for the session",
    })
    .option("advisory-lock-key", {
      type: "string",
      requiresArg: true,
      describe: "session advisory lock key (default: tx-apply's own)",
    })
    .option("pipeline-depth", {
      type: "number",
      default: DEFAULT_PIPELINE_DEPTH,
      describe: "artifact statements in flight at once (1: each after the previous one's answer, as psql)",
    })
    .option("url", {
      alias: "dsn",
      type: "string",
      describe: "postgres:// URL or key=value DSN (default: the libpq environment; the user is --role)",
    })
    .option("out", { type: "string", describe: "also write the JSON apply log to this file" })
    .option("format", { choices: ["json", "text"] as const, default: "json" as const, describe: "stdout format" })
    .strict();
  const parsed = await parseCommandLine(parser, argv);
  if (!parsed) return null;
  const single = <T>(value: T | T[] | undefined, option: string): T | undefined => {
    if (Array.isArray(value)) throw new InputError(`--${option} given more than once`);
    return value;
  };
  return {
    file: String(parsed.file),
    role: single(parsed.role, "role") ?? "",
    expectSystemIdentifier: single(parsed.expectSystemIdentifier, "expect-system-identifier") ?? "",
    sha256: single(parsed.sha256, "sha256") ?? "",
    expectFingerprint: single(parsed.expectFingerprint, "expect-fingerprint"),
    schema: optionValues(parsed.schema),
    privilegesFor: optionValues(parsed.privilegesFor),
    verifyBeforeCommit: single(parsed.verifyBeforeCommit, "verify-before-commit"),
    dryRun: parsed.dryRun,
    lockTimeout: single(parsed.lockTimeout, "lock-timeout") ?? DEFAULT_LOCK_TIMEOUT,
    statementTimeout: single(parsed.statementTimeout, "statement-timeout") ?? DEFAULT_STATEMENT_TIMEOUT,
    advisoryLockKey: single(parsed.advisoryLockKey, "advisory-lock-key"),
    pipelineDepth: single(parsed.pipelineDepth, "pipeline-depth") ?? DEFAULT_PIPELINE_DEPTH,
    url: single(parsed.url, "url"),
    out: single(parsed.out, "out"),
    format: parsed.format,
  };
}

await runCli(TOOL, async () => {
  const args = await parseArguments(hideBin(process.argv));
  if (!args) return ExitCode.Passed;
  // Loaded once the arguments parsed (the bin has already started loading pg and the parser).
  // Not ./index.js: that re-exports the zod schemas, which the apply itself does not need.
  const [{ apply }, { formatText }, { readBytes, readDocument, toJsonText, writeFileAtomically, writeOut }, { createProgress }] =
    await Promise.all([
      import("./apply.js"),
      import("./format.js"),
      import("@dieu44/plumbing/json-io"),
      import("@dieu44/plumbing/progress"),
    ]);
  const expectation = args.verifyBeforeCommit
    ? await readDocument((await import("@dieu44/drift-diff/schema")).ExpectedDeltaSchema, args.verifyBeforeCommit)
    : undefined;
  const bytes = args.file === "-" ? await readBytes("-") : undefined;
  const progress = createProgress(TOOL);
  const log = await apply(
    { url: args.url },
    { path: args.file, bytes },
    {
      role: args.role,
      expectSystemIdentifier: args.expectSystemIdentifier,
      sha256: args.sha256,
      expectFingerprint: args.expectFingerprint,
      schemas: args.schema,
      privilegesFor: args.privilegesFor,
      verifyBeforeCommit: expectation,
      dryRun: args.dryRun,
      lockTimeout: args.lockTimeout,
      statementTimeout: args.statementTimeout,
      advisoryLockKey: args.advisoryLockKey,
      pipelineDepth: args.pipelineDepth,
      onStatement: (event) => {
        if (event.phase === "end") progress.update(event.index + 1, event.total, " statements");
      },
    },
  );
  progress.done(log.outcome);
  const json = toJsonText(log);
  if (args.out) await writeFileAtomically(args.out, json);
  await writeOut(args.format === "text" ? formatText(log) : json);
  return log.passed ? ExitCode.Passed : ExitCode.CheckFailed;
});
