/**
 * The backup-marker commands (create, verify, register) behind the command line. The CLI loads
 * this module only once the arguments parsed, so that --help does not pay for pg and zod.
 */
import { fromStdinToken } from "@dieu44/plumbing/cli-args";
import { ExitCode, InputError } from "@dieu44/plumbing/exit";
import { toJsonText, writeOut } from "@dieu44/plumbing/json-io";
import { createProgress } from "@dieu44/plumbing/progress";
import { createBackup } from "./create.js";
import { parseDuration } from "./duration.js";
import { markerPath, readMarker, writeMarker } from "./marker-file.js";
import { registerBackup } from "./register.js";
import { type ArchiveFormat, ArchiveFormatSchema, type BackupMarker } from "./schema.js";
import { verifyBackup } from "./verify.js";

const TOOL = "backup-marker";
export type OutputFormat = "json" | "text";

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

export async function create(argv: {
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

export async function verify(argv: {
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

export async function register(argv: {
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
