/**
 * `register`: records a backup made elsewhere (a dump file, or an opaque identifier such as a
 * managed-service snapshot id) in the same marker format, marked `madeBy: "external"`.
 */
import { createHash } from "node:crypto";
import { open, stat } from "node:fs/promises";
import { resolve } from "node:path";
import { type ConnectionOptions, describeConnection, resolveConnection } from "@dieu44/plumbing/connection";
import { InputError } from "@dieu44/plumbing/exit";
import { hashFile, markerId, markerPath, writeMarker } from "./marker-file.js";
import {
  type ArchiveFormat,
  BACKUP_MARKER_FORMAT_VERSION,
  BACKUP_MARKER_KIND,
  type BackupMarker,
  BackupMarkerSchema,
} from "./schema.js";
import { connect, readSessionFacts, type SessionFacts } from "./server.js";

export interface RegisterOptions {
  /** The backup file (a pg_dump archive or SQL script). Exactly one of file and identifier. */
  file?: string;
  /** An opaque identifier of a backup this tool cannot read (e.g. a managed snapshot id). */
  identifier?: string;
  /** When the backup was taken; default for a file: its modification time. Required for an identifier. */
  takenAt?: Date;
  /** Override the detected format of a file. */
  format?: ArchiveFormat;
  label?: string;
  /** The backed-up database: when given, server facts are read from it (never taken from the caller). */
  connection?: ConnectionOptions;
  /** Write `<id>.marker.json` here when given. */
  outDir?: string;
}

/** Detects a file's format from its first bytes. */
export async function detectFormat(path: string): Promise<ArchiveFormat> {
  const handle = await open(path, "r");
  try {
    const head = Buffer.alloc(512);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    const bytes = head.subarray(0, bytesRead);
    if (bytes.subarray(0, 5).toString("latin1") === "PGDMP") return "custom";
    if (bytes.length >= 262 && bytes.subarray(257, 262).toString("latin1") === "ustar") return "tar";
    if (bytes[0] === 0x1f && bytes[1] === 0x8b) return "gzip";
    const text = bytes.toString("utf8");
    if (/^(--|SET |CREATE |\\connect|BEGIN)/m.test(text) && !text.includes("\u0000")) return "plain";
    return "unknown";
  } finally {
    await handle.close();
  }
}

export async function registerBackup(options: RegisterOptions): Promise<BackupMarker> {
  if ((options.file === undefined) === (options.identifier === undefined)) {
    throw new InputError("register needs exactly one of a backup file or --identifier");
  }
  if (options.takenAt && Number.isNaN(options.takenAt.getTime())) throw new InputError("--taken-at is not a valid time");

  let facts: SessionFacts | null = null;
  let connection: string | null = null;
  if (options.connection) {
    const spec = resolveConnection({ ...options.connection, applicationName: "backup-marker" });
    connection = describeConnection(spec);
    const client = await connect(spec);
    try {
      facts = await readSessionFacts(client);
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  let path: string | null = null;
  let size: number | null = null;
  let sha256: string | null = null;
  let format: ArchiveFormat | null = null;
  let takenAt = options.takenAt;
  let shortHash: string;
  if (options.file !== undefined) {
    path = resolve(options.file);
    let info: Awaited<ReturnType<typeof stat>>;
    try {
      info = await stat(path);
    } catch (error) {
      throw new InputError(`${options.file}: cannot read file (${(error as NodeJS.ErrnoException).code ?? "error"})`);
    }
    if (!info.isFile()) throw new InputError(`${options.file}: not a regular file (directory-format dumps are not supported)`);
    ({ sha256, size } = await hashFile(path));
    format = options.format ?? (await detectFormat(path));
    takenAt ??= info.mtime;
    shortHash = sha256.slice(0, 8);
  } else {
    const identifier = (options.identifier as string).trim();
    if (!identifier) throw new InputError("--identifier must not be empty");
    if (!takenAt) throw new InputError("--taken-at is required for an identifier: the marker must say when the backup was taken");
    shortHash = createHash("sha256").update(identifier).digest("hex").slice(0, 8);
  }
  const taken = takenAt as Date;

  const marker: BackupMarker = {
    kind: BACKUP_MARKER_KIND,
    formatVersion: BACKUP_MARKER_FORMAT_VERSION,
    id: markerId({
      startedAt: taken,
      ...(facts ? { systemIdentifier: facts.server.systemIdentifier, database: facts.server.database } : {}),
      shortHash: `ext-${shortHash}`,
    }),
    status: "complete",
    madeBy: "external",
    label: options.label ?? null,
    path,
    identifier: options.identifier?.trim() ?? null,
    format,
    size,
    sha256,
    startedAt: taken.toISOString(),
    finishedAt: taken.toISOString(),
    pgDump: null,
    server: facts?.server ?? null,
    // Who made an external backup is unknown; the connection only read the server facts.
    role: null,
    connection,
    catalogFingerprint: null,
    failure: null,
    verification: null,
  };
  if (options.outDir) await writeMarker(markerPath(resolve(options.outDir), marker.id), marker);
  return BackupMarkerSchema.parse(marker);
}
