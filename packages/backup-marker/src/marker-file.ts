/** Reading and writing marker files, marker ids, and hashing archive files. */
import { createHash, randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { open, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { readDocument, toJsonText } from "@dieu44/plumbing/json-io";
import { type BackupMarker, BackupMarkerSchema } from "./schema.js";

/** "2026-05-18T10:15:00.123Z" → "20260518T101500Z". */
export function compactTime(date: Date): string {
  return date
    .toISOString()
    .replace(/\.\d+Z$/, "Z")
    .replace(/[-:]/g, "");
}

/** A database name made safe for a file name. */
function safeName(name: string): string {
  return name.replace(/[^A-Za-z0-9_.-]+/g, "_").slice(0, 40) || "db";
}

/** A readable, unique id: start time, cluster (system identifier), database, short hash. */
export function markerId(parts: { startedAt: Date; systemIdentifier?: string; database?: string; shortHash: string }): string {
  return [
    compactTime(parts.startedAt),
    parts.systemIdentifier ?? "unknown-cluster",
    ...(parts.database ? [safeName(parts.database)] : []),
    parts.shortHash,
  ].join("-");
}

export function randomHex(bytes = 4): string {
  return randomBytes(bytes).toString("hex");
}

/** The marker file for an id, next to its archive. */
export function markerPath(outDir: string, id: string): string {
  return join(outDir, `${id}.marker.json`);
}

/** Writes a marker atomically (temporary name, fsync, rename): a reader never sees half a marker. */
export async function writeMarker(path: string, marker: BackupMarker): Promise<void> {
  const checked = BackupMarkerSchema.parse(marker);
  const temporary = join(dirname(path), `.${basename(path)}.${randomHex()}.tmp`);
  const handle = await open(temporary, "wx", 0o644);
  try {
    await handle.writeFile(toJsonText(checked));
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
  await syncDirectory(dirname(path));
}

/** Reads and validates a marker file (`-` for stdin); errors name the file and the field. */
export function readMarker(path: string): Promise<BackupMarker> {
  return readDocument(BackupMarkerSchema, path);
}

/** fsync of a directory makes a rename durable; some file systems refuse it, which is not fatal. */
export async function syncDirectory(dir: string): Promise<void> {
  try {
    const handle = await open(dir, "r");
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // best effort
  }
}

/** Streams a file through sha256; also returns the bytes read. */
export async function hashFile(path: string): Promise<{ sha256: string; size: number }> {
  const hash = createHash("sha256");
  let size = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha256: hash.digest("hex"), size };
}
