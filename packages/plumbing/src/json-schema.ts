/**
 * The JSON Schemas each package checks in under schema/, generated from its zod schemas.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "./zod.js";

export interface JsonSchemaFile {
  path: string;
  text: string;
}

export interface JsonSchemaDocuments {
  /** The folder the files live in (a path or a file: URL). */
  dir: string | URL;
  /** Each document kind and its zod schema: written to `<dir>/<kind>.schema.json`. */
  documents: Record<string, z.ZodType>;
  /** "input" for documents people write (defaults become optional); default: the output side. */
  io?: "input" | "output";
}

/** The file path and canonical text (two-space indent, final newline) of each document's JSON Schema. */
export function jsonSchemaFilesFor({ dir, documents, io }: JsonSchemaDocuments): JsonSchemaFile[] {
  const folder = dir instanceof URL ? fileURLToPath(dir) : dir;
  return Object.entries(documents).map(([kind, schema]) => ({
    path: join(folder, `${kind}.schema.json`),
    text: `${JSON.stringify(io === undefined ? z.toJSONSchema(schema) : z.toJSONSchema(schema, { io }), null, 2)}\n`,
  }));
}

/** Writes the files (the packages' scripts/gen-json-schema.mjs), naming each on stderr. */
export function writeJsonSchemaFiles(files: readonly JsonSchemaFile[]): void {
  for (const { path, text } of files) {
    writeFileSync(path, text);
    process.stderr.write(`wrote ${path}\n`);
  }
}
