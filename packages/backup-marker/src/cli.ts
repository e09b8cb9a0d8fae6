/** The backup-marker command line: create, verify, register. */
import { fromStdinToken, parseCommandLine, protectStdinDash } from "@dieu44/plumbing/cli-args";
import { ExitCode, InputError, runCli } from "@dieu44/plumbing/exit";
import { toJsonText, writeOut } from "@dieu44/plumbing/json-io";
import { createProgress } from "@dieu44/plumbing/progress";
import yargs from "yargs";
import { hideBin } from "yargs/helpers";
import { createBackup } from "./create.js";
import { parseDuration } from "./duration.js";
import { markerPath, readMarker, writeMarker } from "./marker-file.js";
import { registerBackup } from "./register.js";
import { type ArchiveFormat, ArchiveFormatSchema, type BackupMarker } from "./schema.js";
import { verifyBackup } from "./verify.js";

const TOOL = "backup-marker";
type OutputFormat = "json" | "text";

/** A short human summary for `--format text`. */
function textSummary(marker: BackupMarker): string {
  const lines = [
    `${marker.id}: ${marker.status} (${marker.madeBy === "external" ? "external, registered" : "made by backup-marker"})`,
    `  ${marker.path ?? marker.identifier ?? "(no archive)"}`,
  ];
  if (marker.sha256) lines.push(`  sha256 ${marker.sha256}, ${marker.size} bytes`);
  if (marker.server)
    lines.push(`  cluster ${marker.server.systemIdentifier}, database ${marker.server.database}, ${marker.server.version}`);
  lines.push(`  started ${marker.startedAt}, finished ${marker.finishedAt}`);
  if (marker.failure) lines.push(`  failed (${marker.failure.stage}): ${marker.failure.message}`);
  if (marker.verification) {
    lines.push(`  verification at ${marker.verification.verifiedAt}: ${marker.verification.passed ? "PASS" : "FAIL"}`);
    for (const check of marker.verification.checks) lines.push(`    ${check.status.padEnd(7)} ${check.name}: ${check.detail}`);
  }
  return `${lines.join("\n")}\n`;
}

async function emit(marker: BackupMarker, format: OutputFormat): Promise<void> {
  await writeOut(format === "text" ? textSummary(marker) : toJsonText(marker));
}

async function create(argv: {
  outDir: string;
  url?: string;
  label?: string;
  pgDump?: string;
  progress?: boolean;
  format: OutputFormat;
}) {
  const progress = createProgress(`${TOOL}: archive`, argv.progress === undefined ? {} : { enabled: argv.progress });
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    const marker = await createBackup({
      connection: { url: argv.url },
      outDir: argv.outDir,
      label: argv.label,
      pgDump: argv.pgDump,
      signal: abort.signal,
      onProgress: ({ bytes }) => progress.update(Math.floor(bytes / 1_048_576), undefined, " MiB written"),
    });
    progress.done(marker.status === "complete" ? `${marker.size} bytes written` : "failed");
    process.stderr.write(`${TOOL}: ${marker.status}: marker ${markerPath(argv.outDir, marker.id)}\n`);
    if (marker.failure) process.stderr.write(`${TOOL}: ${marker.failure.message}\n`);
    await emit(marker, argv.format);
    return marker.status === "complete" ? ExitCode.Passed : ExitCode.CheckFailed;
  } finally {
    process.removeListener("SIGINT", onSignal);
    process.removeListener("SIGTERM", onSignal);
  }
}

async function verify(argv: {
  marker: string;
  maxAge?: string;
  expectSystemIdentifier?: string;
  restoreTo?: string;
  sourceUrl?: string;
  pgRestore?: string;
  write: boolean;
  format: OutputFormat;
}) {
  const maxAgeMs = argv.maxAge === undefined ? undefined : parseDuration(argv.maxAge);
  const path = fromStdinToken(argv.marker);
  const fromStdin = path === "-";
  const marker = await readMarker(path);
  const verification = await verifyBackup(marker, {
    markerPath: fromStdin ? undefined : path,
    maxAgeMs,
    expectSystemIdentifier: argv.expectSystemIdentifier,
    restoreTo: argv.restoreTo === undefined ? undefined : { url: argv.restoreTo },
    sourceConnection: argv.sourceUrl === undefined ? undefined : { url: argv.sourceUrl },
    pgRestore: argv.pgRestore,
  });
  const verified: BackupMarker = { ...marker, verification };
  if (argv.write && !fromStdin) await writeMarker(path, verified);
  const failed = verification.checks.filter((check) => check.status === "fail").map((check) => check.name);
  process.stderr.write(`${TOOL}: verify ${failed.length ? `FAILED: ${failed.join(", ")}` : "passed"}\n`);
  await emit(verified, argv.format);
  return verification.passed ? ExitCode.Passed : ExitCode.CheckFailed;
}

async function register(argv: {
  file?: string;
  identifier?: string;
  takenAt?: string;
  archiveFormat?: string;
  label?: string;
  url?: string;
  outDir?: string;
  format: OutputFormat;
}) {
  let takenAt: Date | undefined;
  if (argv.takenAt !== undefined) {
    takenAt = new Date(argv.takenAt);
    if (Number.isNaN(takenAt.getTime())) throw new InputError(`--taken-at "${argv.takenAt}" is not a valid time`);
  }
  let archiveFormat: ArchiveFormat | undefined;
  if (argv.archiveFormat !== undefined) {
    const parsed = ArchiveFormatSchema.safeParse(argv.archiveFormat);
    if (!parsed.success) throw new InputError(`--archive-format must be one of ${ArchiveFormatSchema.options.join(", ")}`);
    archiveFormat = parsed.data;
  }
  const marker = await registerBackup({
    file: argv.file,
    identifier: argv.identifier,
    takenAt,
    format: archiveFormat,
    label: argv.label,
    connection: argv.url === undefined ? undefined : { url: argv.url },
    outDir: argv.outDir ?? ".",
  });
  process.stderr.write(`${TOOL}: registered external backup: marker ${markerPath(argv.outDir ?? ".", marker.id)}\n`);
  await emit(marker, argv.format);
  return ExitCode.Passed;
}

async function main(): Promise<number> {
  let result: Promise<number> | undefined;
  // A marker given as - (stdin) must reach the command as it is.
  const args = protectStdinDash(hideBin(process.argv));
  const parser = yargs(args)
    .scriptName(TOOL)
    .usage("$0 <command>: a fresh, verified, secret-free backup record")
    .option("format", { choices: ["json", "text"] as const, default: "json" as OutputFormat, describe: "stdout format" })
    .command(
      "create",
      "run pg_dump (custom format) into --out-dir and write a marker beside the archive",
      (y) =>
        y
          .option("out-dir", { type: "string", demandOption: true, describe: "directory for the archive and its marker" })
          .option("url", {
            alias: "dsn",
            type: "string",
            describe: "postgres:// URL or key=value DSN (default: libpq environment)",
          })
          .option("label", { type: "string", describe: "free text recorded in the marker" })
          .option("pg-dump", { type: "string", describe: "pg_dump binary (default: pg_dump on PATH)" })
          .option("progress", { type: "boolean", describe: "bytes written on stderr (default: when stderr is a terminal)" }),
      (argv) => {
        result = create(argv);
      },
    )
    .command(
      "verify <marker>",
      "recompute the checksum, prove the archive readable, check freshness, cluster and optionally restorability",
      (y) =>
        y
          .positional("marker", { type: "string", demandOption: true, describe: "marker JSON file (- for stdin)" })
          .option("max-age", { type: "string", describe: "fail when the backup started longer ago, e.g. 1h, 30m, 2d" })
          .option("expect-system-identifier", { type: "string", describe: "fail unless the backup is of this cluster" })
          .option("restore-to", {
            type: "string",
            describe: "empty scratch database URL: restore there and compare catalog fingerprints",
          })
          .option("source-url", {
            type: "string",
            describe: "compare the restored copy with this live database instead of the recorded fingerprint",
          })
          .option("pg-restore", {
            type: "string",
            describe: "pg_restore binary (default: beside the recorded pg_dump, else PATH)",
          })
          .option("write", {
            type: "boolean",
            default: true,
            describe: "record the result in the marker file (--no-write: leave it)",
          }),
      (argv) => {
        result = verify(argv);
      },
    )
    .command(
      "register [file]",
      "record a backup made elsewhere (a file, or --identifier for e.g. a managed snapshot id), marked external",
      (y) =>
        y
          .positional("file", { type: "string", describe: "the backup file (hashed and sized)" })
          .option("identifier", { type: "string", describe: "an opaque backup identifier instead of a file" })
          .option("taken-at", { type: "string", describe: "when the backup was taken (ISO 8601; default for a file: its mtime)" })
          .option("archive-format", { type: "string", describe: "override the detected file format" })
          .option("label", { type: "string", describe: "free text recorded in the marker" })
          .option("url", { alias: "dsn", type: "string", describe: "the backed-up database: server facts are read from it" })
          .option("out-dir", { type: "string", describe: "where to write the marker (default: current directory)" }),
      (argv) => {
        result = register(argv);
      },
    )
    .demandCommand(1, "give a command: create, verify or register")
    .strict();
  await parseCommandLine(parser, args);
  // --help printed usage and ran no command.
  return result ? await result : ExitCode.Passed;
}

await runCli(TOOL, main);
