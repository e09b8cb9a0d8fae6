/**
 * `verify`: recomputes the checksum, proves the archive readable with pg_restore, checks freshness
 * and the cluster, and optionally restores it into a scratch database and compares catalog
 * fingerprints. Every check is named with pass/fail and a detail; none throws for a failure.
 */
import { existsSync } from "node:fs";
import { stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { type ConnectionOptions, describeConnection, resolveConnection } from "@dieu44/plumbing/connection";
import { InputError } from "@dieu44/plumbing/exit";
import { redact } from "@dieu44/plumbing/redact";
import { childEnv, lastLines, locateClient, runClient, siblingPath } from "./client-tools.js";
import { formatDuration } from "./duration.js";
import { catalogFingerprint } from "./fingerprint.js";
import { hashFile } from "./marker-file.js";
import type { BackupMarker, BackupVerification, CheckName, RestoreResult, VerificationCheck } from "./schema.js";
import { connect, countUserObjects, readSessionFacts } from "./server.js";

export interface VerifyOptions {
  /** Where the marker was read from: an archive moved together with its marker is found beside it. */
  markerPath?: string;
  /** Fail when the backup started longer ago than this. */
  maxAgeMs?: number;
  /** Fail unless the marker's system identifier is this one. */
  expectSystemIdentifier?: string;
  /** Restore into this empty scratch database and compare catalog fingerprints with the source. */
  restoreTo?: ConnectionOptions;
  /** Compare the restored copy with this live database instead of the fingerprint recorded at backup time. */
  sourceConnection?: ConnectionOptions;
  /** pg_restore binary; default: beside the marker's pg_dump, else from PATH. */
  pgRestore?: string;
  /** The time freshness is measured against (tests). */
  now?: Date;
}

/** A future start time beyond this skew is itself a failure (clock trouble or a forged marker). */
const CLOCK_SKEW_MS = 5 * 60_000;

const restorableFormats = new Set(["custom", "tar"]);

export async function verifyBackup(marker: BackupMarker, options: VerifyOptions = {}): Promise<BackupVerification> {
  const now = options.now ?? new Date();
  const checks: VerificationCheck[] = [];
  const add = (name: CheckName, status: VerificationCheck["status"], detail: string) => {
    checks.push({ name, status, detail: redact(detail) });
  };

  if (marker.status === "complete") {
    add(
      "marker-status",
      "pass",
      `complete backup made by ${marker.madeBy === "external" ? "an external tool (registered)" : "backup-marker"}`,
    );
  } else {
    add("marker-status", "fail", `the marker records a failed backup: ${marker.failure?.message ?? "no reason recorded"}`);
  }

  const archive = locateArchive(marker, options.markerPath);
  let intact = false;
  let archiveEntries: number | null = null;
  if (marker.path === null) {
    const why =
      marker.identifier !== null
        ? `external backup "${marker.identifier}" is not a file this tool can read`
        : "the marker records no archive";
    for (const name of ["archive-present", "size", "sha256", "archive-readable", "archive-data"] as const) {
      add(name, marker.identifier !== null && marker.status === "complete" ? "skipped" : "fail", why);
    }
  } else if (!archive) {
    add("archive-present", "fail", `no file at ${marker.path}${options.markerPath ? " nor beside the marker" : ""}`);
    for (const name of ["size", "sha256", "archive-readable", "archive-data"] as const) add(name, "fail", "archive missing");
  } else {
    add(
      "archive-present",
      "pass",
      archive.movedFrom ? `${archive.path} (found beside the marker; recorded at ${archive.movedFrom})` : archive.path,
    );
    const actualSize = (await stat(archive.path)).size;
    if (marker.size === null) add("size", "skipped", `no size recorded; the file has ${actualSize} bytes`);
    else if (actualSize === marker.size) add("size", "pass", `${actualSize} bytes`);
    else {
      const how = actualSize < marker.size ? "truncated" : "longer than recorded";
      add("size", "fail", `${how}: the file has ${actualSize} bytes, the marker records ${marker.size}`);
    }
    const { sha256 } = await hashFile(archive.path);
    if (marker.sha256 === null) add("sha256", "skipped", `no sha256 recorded; the file's is ${sha256}`);
    else if (sha256 === marker.sha256) add("sha256", "pass", sha256);
    else add("sha256", "fail", `the file's sha256 is ${sha256}, the marker records ${marker.sha256}`);
    intact = actualSize === marker.size && sha256 === marker.sha256;

    if (marker.format && restorableFormats.has(marker.format)) {
      const pgRestore = await locateClient(
        "pg_restore",
        options.pgRestore ?? (marker.pgDump ? siblingPath(marker.pgDump.path, "pg_restore") : undefined),
      );
      archiveEntries = await checkReadable(pgRestore.path, archive.path, marker, add);
      await checkData(pgRestore.path, archive.path, add);
    } else {
      const why = `format ${marker.format ?? "unknown"}: pg_restore cannot read it`;
      add("archive-readable", "skipped", why);
      add("archive-data", "skipped", why);
    }
  }

  if (options.maxAgeMs !== undefined) checkAge(marker, options.maxAgeMs, now, add);
  if (options.expectSystemIdentifier !== undefined) {
    const recorded = marker.server?.systemIdentifier;
    if (!recorded) add("system-identifier", "fail", "the marker records no system identifier");
    else if (recorded === options.expectSystemIdentifier.trim()) add("system-identifier", "pass", recorded);
    else add("system-identifier", "fail", `the marker records ${recorded}, expected ${options.expectSystemIdentifier.trim()}`);
  }

  let restore: RestoreResult | null = null;
  if (options.restoreTo) {
    restore = await checkRestorable(marker, archive?.path, intact, options, add);
  }

  return {
    verifiedAt: now.toISOString(),
    passed: checks.every((check) => check.status !== "fail"),
    checks,
    archiveEntries,
    maxAgeMs: options.maxAgeMs ?? null,
    expectedSystemIdentifier: options.expectSystemIdentifier?.trim() ?? null,
    restore,
  };
}

type AddCheck = (name: CheckName, status: VerificationCheck["status"], detail: string) => void;

function locateArchive(marker: BackupMarker, markerPath?: string): { path: string; movedFrom?: string } | undefined {
  if (marker.path === null) return undefined;
  if (existsSync(marker.path)) return { path: marker.path };
  if (markerPath && markerPath !== "-") {
    const beside = join(dirname(markerPath), basename(marker.path));
    if (existsSync(beside)) return { path: beside, movedFrom: marker.path };
  }
  return undefined;
}

/** `pg_restore --list`: the TOC is readable; counts entries; the header names the recorded database. */
async function checkReadable(
  pgRestore: string,
  archivePath: string,
  marker: BackupMarker,
  add: AddCheck,
): Promise<number | null> {
  const result = await runClient(pgRestore, ["--list", archivePath], process.env);
  if (result.exitCode !== 0) {
    add(
      "archive-readable",
      "fail",
      `pg_restore --list failed (exit ${result.exitCode ?? result.signal}): ${lastLines(result.stderr)}`,
    );
    return null;
  }
  const lines = result.stdout.split("\n");
  const entries = lines.filter((line) => line.trim() !== "" && !line.startsWith(";")).length;
  const dbname = lines
    .find((line) => line.startsWith(";     dbname: "))
    ?.slice(";     dbname: ".length)
    .trim();
  const dumpedFrom = lines
    .find((line) => line.startsWith(";     Dumped from database version: "))
    ?.slice(";     Dumped from database version: ".length)
    .trim();
  const recordedDb = marker.server?.database;
  if (recordedDb !== undefined && dbname !== undefined && dbname !== recordedDb) {
    add("archive-readable", "fail", `the archive is a dump of database "${dbname}", the marker records "${recordedDb}"`);
  } else if (entries === 0) {
    add("archive-readable", "fail", "pg_restore --list found no entries");
  } else {
    const from = dbname ? ` of database "${dbname}"${dumpedFrom ? ` (server ${dumpedFrom})` : ""}` : "";
    add("archive-readable", "pass", `${entries} TOC entries${from}`);
  }
  return entries;
}

/** pg_restore to /dev/null reads and decompresses every data block: a truncated or corrupt one fails. */
async function checkData(pgRestore: string, archivePath: string, add: AddCheck): Promise<void> {
  const result = await runClient(pgRestore, ["--file=/dev/null", archivePath], process.env);
  if (result.exitCode === 0) add("archive-data", "pass", "every data block read to the end");
  else
    add(
      "archive-data",
      "fail",
      `pg_restore could not read the whole archive (exit ${result.exitCode ?? result.signal}): ${lastLines(result.stderr)}`,
    );
}

function checkAge(marker: BackupMarker, maxAgeMs: number, now: Date, add: AddCheck): void {
  const started = Date.parse(marker.startedAt);
  const age = now.getTime() - started;
  if (age < -CLOCK_SKEW_MS) {
    add("max-age", "fail", `the backup claims to start ${formatDuration(-age)} in the future (${marker.startedAt})`);
  } else if (age > maxAgeMs) {
    add(
      "max-age",
      "fail",
      `the backup started ${formatDuration(age)} ago (${marker.startedAt}), more than the allowed ${formatDuration(maxAgeMs)}`,
    );
  } else {
    add("max-age", "pass", `the backup started ${formatDuration(Math.max(age, 0))} ago, within ${formatDuration(maxAgeMs)}`);
  }
}

/**
 * Restores the archive into an empty scratch database with pg_restore (one transaction, stop at
 * the first error) and compares the restored catalog's fingerprint with the source's.
 */
async function checkRestorable(
  marker: BackupMarker,
  archivePath: string | undefined,
  intact: boolean,
  options: VerifyOptions,
  add: AddCheck,
): Promise<RestoreResult> {
  const restoreTo = options.restoreTo as ConnectionOptions;
  const targetSpec = resolveConnection({ ...restoreTo, applicationName: "backup-marker" });
  const result: RestoreResult = {
    target: describeConnection(targetSpec),
    sourceFingerprintFrom: null,
    sourceFingerprint: null,
    restoredFingerprint: null,
  };
  if (!archivePath || !intact || !marker.format || !restorableFormats.has(marker.format)) {
    add("restorable", "fail", "not attempted: the archive is missing, altered or not in a format pg_restore reads");
    return result;
  }

  const target = await connect(targetSpec);
  try {
    const targetFacts = await readSessionFacts(target);
    if (
      marker.server &&
      targetFacts.server.systemIdentifier === marker.server.systemIdentifier &&
      targetFacts.server.database === marker.server.database
    ) {
      throw new InputError(`--restore-to ${result.target} is the backed-up database itself; give an empty scratch database`);
    }
    const objects = await countUserObjects(target);
    if (objects > 0) {
      throw new InputError(
        `--restore-to ${result.target} is not empty (${objects} schemas or relations); give an empty scratch database`,
      );
    }

    const pgRestore = await locateClient(
      "pg_restore",
      options.pgRestore ?? (marker.pgDump ? siblingPath(marker.pgDump.path, "pg_restore") : undefined),
    );
    const restored = await runClient(
      pgRestore.path,
      ["--exit-on-error", "--single-transaction", "--no-password", `--dbname=${targetFacts.server.database}`, archivePath],
      childEnv(targetSpec, restoreTo.env),
    );
    if (restored.exitCode !== 0) {
      add(
        "restorable",
        "fail",
        `pg_restore into ${result.target} failed (exit ${restored.exitCode ?? restored.signal}): ${lastLines(restored.stderr)}`,
      );
      return result;
    }
    result.restoredFingerprint = await catalogFingerprint(target);
  } finally {
    await target.end().catch(() => undefined);
  }

  if (options.sourceConnection) {
    const source = await connect(resolveConnection({ ...options.sourceConnection, applicationName: "backup-marker" }));
    try {
      result.sourceFingerprint = await catalogFingerprint(source);
      result.sourceFingerprintFrom = "live-source";
    } finally {
      await source.end().catch(() => undefined);
    }
  } else if (marker.catalogFingerprint) {
    result.sourceFingerprint = marker.catalogFingerprint;
    result.sourceFingerprintFrom = "marker";
  }

  if (!result.sourceFingerprint) {
    add(
      "restorable",
      "fail",
      `restored into ${result.target}, but there is no source fingerprint to compare with (the marker records none; give a source connection)`,
    );
  } else if (result.sourceFingerprint === result.restoredFingerprint) {
    const from = result.sourceFingerprintFrom === "marker" ? "recorded at backup time" : "of the live source";
    add(
      "restorable",
      "pass",
      `restored into ${result.target}; its catalog fingerprint equals the source's (${from}): ${result.sourceFingerprint}`,
    );
  } else {
    add(
      "restorable",
      "fail",
      `restored into ${result.target}, but its catalog fingerprint ${result.restoredFingerprint} differs from the source's ${result.sourceFingerprint}`,
    );
  }
  return result;
}
