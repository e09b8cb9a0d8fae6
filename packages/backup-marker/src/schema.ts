/**
 * The backup-marker document: what was backed up, from which cluster, when, by whom, with which
 * checksum, and the result of the latest verification. It never carries a secret.
 */
import { z } from "@dieu44/plumbing/zod";

export const BACKUP_MARKER_KIND = "backup-marker";
export const BACKUP_MARKER_FORMAT_VERSION = 1;

const Sha256Schema = z.string().regex(/^[0-9a-f]{64}$/);
const TimestampSchema = z.iso.datetime({ offset: true });

/** The names of the checks `verify` can run, in the order it runs them. */
export const CheckNameSchema = z.enum([
  /** The marker records a complete backup (not a failed one). */
  "marker-status",
  /** The archive file exists where the marker says. */
  "archive-present",
  /** Its size equals the recorded size (a truncated or extended file fails here). */
  "size",
  /** Its sha256, recomputed, equals the recorded one. */
  "sha256",
  /** `pg_restore --list` reads the table of contents; its header names the recorded database. */
  "archive-readable",
  /** `pg_restore` reads every data block to the end (a readable TOC does not prove the data). */
  "archive-data",
  /** The backup is not older than --max-age (measured from its start: the data is as of then). */
  "max-age",
  /** The recorded system identifier equals the expected one. */
  "system-identifier",
  /** Restored into a scratch database, its catalog fingerprint equals the source's. */
  "restorable",
]);
export type CheckName = z.infer<typeof CheckNameSchema>;

export const VerificationCheckSchema = z.object({
  name: CheckNameSchema,
  /** `skipped` when the check cannot apply to this marker (say so in detail); it does not fail. */
  status: z.enum(["pass", "fail", "skipped"]),
  detail: z.string(),
});
export type VerificationCheck = z.infer<typeof VerificationCheckSchema>;

export const RestoreResultSchema = z.object({
  /** The scratch database, as a URL without password. */
  target: z.string(),
  /** Where the source fingerprint came from: recorded at backup time, or read from a live source now. */
  sourceFingerprintFrom: z.enum(["marker", "live-source"]).nullable(),
  sourceFingerprint: Sha256Schema.nullable(),
  restoredFingerprint: Sha256Schema.nullable(),
});
export type RestoreResult = z.infer<typeof RestoreResultSchema>;

export const BackupVerificationSchema = z.object({
  verifiedAt: TimestampSchema,
  /** True when no check failed. */
  passed: z.boolean(),
  checks: z.array(VerificationCheckSchema),
  /** TOC entries `pg_restore --list` counted, when it ran. */
  archiveEntries: z.number().int().nonnegative().nullable(),
  maxAgeMs: z.number().int().positive().nullable(),
  expectedSystemIdentifier: z.string().nullable(),
  restore: RestoreResultSchema.nullable(),
});
export type BackupVerification = z.infer<typeof BackupVerificationSchema>;

/** Facts read from the server itself, never taken from the caller. */
export const ServerFactsSchema = z.object({
  /** pg_control_system().system_identifier as a decimal string (does not fit a JS number). */
  systemIdentifier: z.string().regex(/^\d+$/),
  version: z.string(),
  versionNum: z.number().int(),
  database: z.string(),
});
export type ServerFacts = z.infer<typeof ServerFactsSchema>;

export const PgDumpFactsSchema = z.object({
  path: z.string(),
  /** `pg_dump --version` output, e.g. "pg_dump (PostgreSQL) 15.18". */
  version: z.string(),
  major: z.number().int(),
});
export type PgDumpFacts = z.infer<typeof PgDumpFactsSchema>;

export const BackupFailureSchema = z.object({
  /** Which step failed: reading the catalog, running pg_dump, writing the archive, or an abort. */
  stage: z.enum(["dump", "write", "aborted"]),
  /** What failed, redacted (pg_dump's last stderr lines when it failed). */
  message: z.string(),
  exitCode: z.number().int().nullable(),
  signal: z.string().nullable(),
});
export type BackupFailure = z.infer<typeof BackupFailureSchema>;

export const ArchiveFormatSchema = z.enum(["custom", "tar", "plain", "gzip", "unknown"]);
export type ArchiveFormat = z.infer<typeof ArchiveFormatSchema>;

export const BackupMarkerSchema = z.object({
  kind: z.literal(BACKUP_MARKER_KIND),
  formatVersion: z.literal(BACKUP_MARKER_FORMAT_VERSION),
  /** Unique and readable: start time (UTC), cluster system identifier, database, short hash. */
  id: z.string().min(1),
  status: z.enum(["complete", "failed"]),
  /** `backup-marker` when this tool ran pg_dump; `external` when the backup was made elsewhere and registered. */
  madeBy: z.enum(["backup-marker", "external"]),
  label: z.string().nullable(),
  /** Absolute path of the archive file; null for an identifier-only external backup or a failed dump. */
  path: z.string().nullable(),
  /** An opaque identifier of an external backup (e.g. a managed-service snapshot id). */
  identifier: z.string().nullable(),
  /** Archive format; null for identifier-only external backups. */
  format: ArchiveFormatSchema.nullable(),
  size: z.number().int().nonnegative().nullable(),
  sha256: Sha256Schema.nullable(),
  startedAt: TimestampSchema,
  finishedAt: TimestampSchema,
  /** The pg_dump that made the archive (null for external backups). */
  pgDump: PgDumpFactsSchema.nullable(),
  /** Read from the server (null for an external backup registered without a connection). */
  server: ServerFactsSchema.nullable(),
  /** The role the dump ran as (current_user of a session with the same connection). */
  role: z.string().nullable(),
  /** The connection as a URL without password. */
  connection: z.string().nullable(),
  /**
   * catalog-snapshot fingerprint of the source database (every non-system schema), taken just
   * before and just after the dump; null when the two differed or the snapshot could not be taken.
   */
  catalogFingerprint: Sha256Schema.nullable(),
  failure: BackupFailureSchema.nullable(),
  /** The latest verification result, null until `verify` has run. */
  verification: BackupVerificationSchema.nullable(),
});
export type BackupMarker = z.infer<typeof BackupMarkerSchema>;
