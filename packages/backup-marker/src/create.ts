/**
 * `create`: runs pg_dump in custom format, streams the archive to a temporary file while hashing
 * it in the same pass, fsyncs, and renames it into place. Any failure removes the partial file and
 * yields a marker that says what failed.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { link, mkdir, open, rm, stat, unlink } from "node:fs/promises";
import { join, resolve } from "node:path";
import { type ConnectionOptions, describeConnection, resolveConnection } from "@dieu44/plumbing/connection";
import { EnvironmentError, InputError } from "@dieu44/plumbing/exit";
import { redact } from "@dieu44/plumbing/redact";
import type pg from "pg";
import { childEnv, lastLines, locateClient, serverMajor, TailBuffer } from "./client-tools.js";
import { fingerprintInTransaction } from "./fingerprint.js";
import { markerId, markerPath, randomHex, syncDirectory, writeMarker } from "./marker-file.js";
import {
  BACKUP_MARKER_FORMAT_VERSION,
  BACKUP_MARKER_KIND,
  type BackupFailure,
  type BackupMarker,
  BackupMarkerSchema,
} from "./schema.js";
import { connect, readSessionFacts } from "./server.js";

export interface CreateProgress {
  /** Archive bytes written so far. */
  bytes: number;
}

export interface CreateOptions {
  connection: ConnectionOptions;
  /** Where the archive and its marker go (created if missing). */
  outDir: string;
  label?: string;
  /** pg_dump binary (path or name on PATH); default `pg_dump` from PATH. */
  pgDump?: string;
  onProgress?: (progress: CreateProgress) => void;
  /** Aborting kills pg_dump, removes the partial archive and yields a failed marker. */
  signal?: AbortSignal;
  /** Write the marker file next to the archive (default true). */
  writeMarkerFile?: boolean;
  /**
   * pg_dump's --lock-wait-timeout, in milliseconds: give up (a failed marker) instead of waiting
   * forever for a table another session holds exclusively. Default: wait, as pg_dump does.
   */
  lockWaitTimeoutMs?: number;
}

interface DumpOutcome {
  bytes: number;
  sha256: string;
  failure: BackupFailure | null;
}

/**
 * Makes a fresh backup. Throws only when the environment prevents an attempt (no usable pg_dump,
 * a pg_dump older than the server, an unreachable server, an unwritable out dir); a dump that
 * fails returns a marker with status "failed".
 */
export async function createBackup(options: CreateOptions): Promise<BackupMarker> {
  const spec = resolveConnection({
    ...options.connection,
    applicationName: options.connection.applicationName ?? "backup-marker",
  });
  const lockWait = options.lockWaitTimeoutMs;
  if (lockWait !== undefined && !(Number.isSafeInteger(lockWait) && lockWait > 0)) {
    throw new InputError(`lock wait timeout must be a positive number of milliseconds, not ${lockWait}`);
  }
  const pgDump = await locateClient("pg_dump", options.pgDump);
  const outDir = resolve(options.outDir);
  const client = await connect(spec);
  let outcome: DumpOutcome;
  let facts: Awaited<ReturnType<typeof readSessionFacts>>;
  let fingerprint: string | null = null;
  let startedAt: Date;
  let partialPath: string;
  try {
    facts = await readSessionFacts(client);
    const needed = serverMajor(facts.server.versionNum);
    if (pgDump.major < needed) {
      throw new EnvironmentError(
        `${pgDump.path} is version ${pgDump.major} and cannot dump a PostgreSQL ${needed} server (${facts.server.version}): ` +
          `pg_dump must be at least the server's major version; install a newer client or pass --pg-dump`,
      );
    }
    await mkdir(outDir, { recursive: true }).catch((error: NodeJS.ErrnoException) => {
      throw new EnvironmentError(`cannot create out dir ${outDir}: ${error.code ?? "error"}`);
    });
    // pg_dump imports the snapshot this transaction exports, so the catalog fingerprint recorded
    // here describes exactly the dumped state. The transaction stays open until pg_dump is done.
    startedAt = new Date();
    const snapshotId = await exportSnapshot(client);
    // The fingerprint's catalog reads wait for a table another session holds exclusively
    // (pg_get_indexdef locks the relation): bound that wait like pg_dump's own.
    if (snapshotId && lockWait !== undefined) await client.query(`set local lock_timeout = ${lockWait}`);
    if (snapshotId) fingerprint = await fingerprintInTransaction(client);
    // Not the final name: that carries the archive's hash, known only at the end.
    partialPath = join(
      outDir,
      `${markerId({ startedAt, systemIdentifier: facts.server.systemIdentifier, database: facts.server.database, shortHash: randomHex() })}.dump.partial`,
    );
    const args = [
      "--format=custom",
      "--no-password",
      ...(snapshotId ? [`--snapshot=${snapshotId}`] : []),
      ...(lockWait === undefined ? [] : [`--lock-wait-timeout=${lockWait}`]),
    ];
    outcome = await dumpTo(partialPath, pgDump.path, args, childEnv(spec, options.connection.env), options);
  } finally {
    await client.query("rollback").catch(() => undefined);
    await client.end().catch(() => undefined);
  }

  const base = {
    kind: BACKUP_MARKER_KIND,
    formatVersion: BACKUP_MARKER_FORMAT_VERSION,
    madeBy: "backup-marker",
    label: options.label ?? null,
    identifier: null,
    startedAt: startedAt.toISOString(),
    pgDump: { path: pgDump.path, version: pgDump.version, major: pgDump.major },
    server: facts.server,
    role: facts.role,
    connection: describeConnection(spec),
    verification: null,
  } as const;
  const idParts = { startedAt, systemIdentifier: facts.server.systemIdentifier, database: facts.server.database };

  let marker: BackupMarker;
  if (outcome.failure) {
    await rm(partialPath, { force: true });
    marker = {
      ...base,
      id: markerId({ ...idParts, shortHash: `failed-${randomHex(3)}` }),
      status: "failed",
      path: null,
      format: null,
      size: null,
      sha256: null,
      finishedAt: new Date().toISOString(),
      catalogFingerprint: null,
      failure: outcome.failure,
    };
  } else {
    const { id, path } = await moveIntoPlace(
      partialPath,
      outDir,
      markerId({ ...idParts, shortHash: outcome.sha256.slice(0, 8) }),
    );
    const size = (await stat(path)).size;
    marker = {
      ...base,
      id,
      status: "complete",
      path,
      format: "custom",
      size,
      sha256: outcome.sha256,
      finishedAt: new Date().toISOString(),
      catalogFingerprint: fingerprint,
      failure: null,
    };
  }
  if (options.writeMarkerFile ?? true) await writeMarker(markerPath(outDir, marker.id), marker);
  // Parsing also puts the fields in the schema's order.
  return BackupMarkerSchema.parse(marker);
}

/**
 * Opens a REPEATABLE READ transaction and exports its snapshot for pg_dump. Null when the server
 * refuses (pg_dump then takes its own snapshot and no fingerprint is recorded).
 */
async function exportSnapshot(client: pg.Client): Promise<string | null> {
  try {
    await client.query("begin isolation level repeatable read read only");
    const { rows } = await client.query<{ id: string }>("select pg_export_snapshot() as id");
    return rows[0]?.id ?? null;
  } catch {
    await client.query("rollback").catch(() => undefined);
    return null;
  }
}

/** Renames without ever replacing an existing file (link + unlink); a clash gets a suffix. */
async function moveIntoPlace(partialPath: string, outDir: string, id: string): Promise<{ id: string; path: string }> {
  for (let attempt = 0; ; attempt += 1) {
    const candidate = attempt === 0 ? id : `${id}-${randomHex(2)}`;
    const path = join(outDir, `${candidate}.dump`);
    try {
      await link(partialPath, path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EEXIST" && attempt < 5) continue;
      await rm(partialPath, { force: true });
      throw new EnvironmentError(`cannot move the archive into place at ${path}: ${(error as NodeJS.ErrnoException).code}`);
    }
    await unlink(partialPath);
    await syncDirectory(outDir);
    return { id: candidate, path };
  }
}

/** Runs pg_dump -Fc, streaming stdout to `partialPath` and through sha256 in one pass. */
async function dumpTo(
  partialPath: string,
  pgDumpPath: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  options: CreateOptions,
): Promise<DumpOutcome> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(partialPath, "wx", 0o600);
  } catch (error) {
    throw new EnvironmentError(`cannot write in ${options.outDir}: ${(error as NodeJS.ErrnoException).code ?? "error"}`);
  }
  // Connection and password travel in the environment only: argv is visible to every local user.
  const child = spawn(pgDumpPath, args, { env, stdio: ["ignore", "pipe", "pipe"] });
  const stderr = new TailBuffer();
  child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; spawnError?: Error }>((done) => {
    child.once("error", (spawnError) => done({ code: null, signal: null, spawnError }));
    child.once("close", (code, signal) => done({ code, signal }));
  });
  let aborted = false;
  const onAbort = () => {
    aborted = true;
    child.kill("SIGTERM");
  };
  if (options.signal?.aborted) onAbort();
  options.signal?.addEventListener("abort", onAbort, { once: true });

  const hash = createHash("sha256");
  let bytes = 0;
  let writeError: NodeJS.ErrnoException | undefined;
  try {
    for await (const chunk of child.stdout) {
      const buffer = chunk as Buffer;
      hash.update(buffer);
      await handle.write(buffer);
      bytes += buffer.length;
      options.onProgress?.({ bytes });
    }
    await handle.sync();
  } catch (error) {
    writeError = error as NodeJS.ErrnoException;
    child.kill("SIGTERM");
  } finally {
    await handle.close().catch(() => undefined);
    options.signal?.removeEventListener("abort", onAbort);
  }
  const { code, signal, spawnError } = await exited;
  const sha256 = hash.digest("hex");

  if (spawnError) {
    return { bytes, sha256, failure: failure("dump", `cannot run ${pgDumpPath}: ${redact(spawnError.message)}`, null, null) };
  }
  if (aborted) {
    return { bytes, sha256, failure: failure("aborted", `aborted after ${bytes} bytes; pg_dump was stopped`, code, signal) };
  }
  if (writeError) {
    return {
      bytes,
      sha256,
      failure: failure(
        "write",
        `writing the archive failed after ${bytes} bytes: ${writeError.code ?? redact(writeError.message)}`,
        code,
        signal,
      ),
    };
  }
  if (code !== 0 || signal !== null) {
    const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
    return {
      bytes,
      sha256,
      failure: failure("dump", `pg_dump ${how} after ${bytes} bytes: ${lastLines(stderr.toString())}`, code, signal),
    };
  }
  if (bytes === 0) {
    return { bytes, sha256, failure: failure("dump", "pg_dump exited 0 but wrote nothing", code, signal) };
  }
  return { bytes, sha256, failure: null };
}

function failure(stage: BackupFailure["stage"], message: string, exitCode: number | null, signal: string | null): BackupFailure {
  return { stage, message: redact(message), exitCode, signal };
}
