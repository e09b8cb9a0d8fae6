/**
 * Reading the two snapshots of a comparison at once. Parsing and validating a 10,000-table
 * snapshot takes about half a second; the two files are read side by side in two worker threads,
 * and the tables that are the same in both (almost all of them, between two snapshots worth
 * comparing) never reach this thread as objects: diff() would skip them anyway.
 */
import { stat } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { type CatalogSnapshot, CatalogSnapshotSchema } from "@dieu44/catalog-snapshot/schema";
import { type ExitCode, ToolError } from "@dieu44/plumbing/exit";
import { readDocument } from "@dieu44/plumbing/json-io";
import type { SnapshotReaderReply } from "./snapshot-reader-worker.js";

// The compiled worker: from dist/ this is dist/ itself, from src/ (under a test runner) the build's
// output beside it, since a worker thread cannot load TypeScript.
const WORKER = fileURLToPath(new URL("../dist/snapshot-reader-worker.js", import.meta.url));

type ReaderResult = Extract<SnapshotReaderReply, { ok: true }>;

function readInWorker(path: string): Promise<ReaderResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER, { workerData: { path } });
    worker.once("message", (reply: SnapshotReaderReply) => {
      if (reply.ok) resolve(reply);
      else if (reply.exitCode !== null) reject(new ToolError(reply.message, reply.exitCode as ExitCode));
      else reject(new Error(reply.message));
    });
    worker.once("error", reject);
    worker.once("exit", (code) => {
      if (code !== 0) reject(new Error(`the reader of ${path} stopped (exit ${code})`));
    });
  });
}

/** Below this size a worker's start-up (about 80 ms: its own Node context, zod) costs more than it saves. */
export const PARALLEL_MIN_BYTES = 8 * 1024 * 1024;

const sizeOf = (path: string) =>
  stat(path).then(
    (stats) => stats.size,
    () => 0, // unreadable: the reader names the problem
  );

/**
 * Both snapshots, validated with the catalog-snapshot schema, minus the tables that are identical
 * in both when read in workers: diff() of the result equals diff() of the whole documents.
 * `-` (stdin) and small files are read in this thread.
 */
export async function readSnapshotPair(
  beforePath: string,
  afterPath: string,
  options: { parallelMinBytes?: number } = {},
): Promise<[CatalogSnapshot, CatalogSnapshot]> {
  const minBytes = options.parallelMinBytes ?? PARALLEL_MIN_BYTES;
  const small =
    beforePath === "-" ||
    afterPath === "-" ||
    Math.min(...(await Promise.all([sizeOf(beforePath), sizeOf(afterPath)]))) < minBytes;
  if (small) {
    const before = await readDocument(CatalogSnapshotSchema, beforePath);
    return [before, await readDocument(CatalogSnapshotSchema, afterPath)];
  }
  const [before, after] = await Promise.all([readInWorker(beforePath), readInWorker(afterPath)]);
  const afterTexts = new Map<string, string>();
  for (const [index, key] of after.tableKeys.entries()) afterTexts.set(key, after.tableTexts[index] as string);
  const same = new Set<string>();
  for (const [index, key] of before.tableKeys.entries()) {
    if (afterTexts.get(key) === before.tableTexts[index]) same.add(key);
  }
  const differing = (side: ReaderResult): CatalogSnapshot => ({
    ...(side.rest as CatalogSnapshot),
    tables: side.tableKeys.flatMap((key, index) => (same.has(key) ? [] : [JSON.parse(side.tableTexts[index] as string)])),
  });
  return [differing(before), differing(after)];
}
