/**
 * Worker of readSnapshotPair: reads and validates one snapshot file, then sends back its tables
 * as JSON text (strings cross threads as a copy of their bytes; objects would be cloned one by
 * one, slower than parsing) and the rest of the document, which is small.
 */
import { parentPort, workerData } from "node:worker_threads";
import { CatalogSnapshotSchema } from "@dieu44/catalog-snapshot/schema";
import { ToolError } from "@dieu44/plumbing/exit";
import { readDocument } from "@dieu44/plumbing/json-io";

export type SnapshotReaderReply =
  | { ok: true; rest: unknown; tableKeys: string[]; tableTexts: string[] }
  | { ok: false; message: string; exitCode: number | null };

const { path } = workerData as { path: string };
let reply: SnapshotReaderReply;
try {
  const snapshot = await readDocument(CatalogSnapshotSchema, path);
  reply = {
    ok: true,
    rest: { ...snapshot, tables: [] },
    tableKeys: snapshot.tables.map((table) => `${table.schema}\u0000${table.name}`),
    tableTexts: snapshot.tables.map((table) => JSON.stringify(table)),
  };
} catch (error) {
  reply = {
    ok: false,
    message: error instanceof Error ? error.message : String(error),
    exitCode: error instanceof ToolError ? error.exitCode : null,
  };
}
parentPort?.postMessage(reply);
