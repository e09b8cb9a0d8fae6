/** The JSON Schema generated from the snapshot's zod schema, as checked in under schema/. */
import { type JsonSchemaFile, jsonSchemaFilesFor } from "@dieu44/plumbing/json-schema";
import { CatalogSnapshotSchema, SNAPSHOT_KIND } from "./schema.js";

export function jsonSchemaFiles(): JsonSchemaFile[] {
  return jsonSchemaFilesFor({
    dir: new URL("../schema/", import.meta.url),
    documents: { [SNAPSHOT_KIND]: CatalogSnapshotSchema },
  });
}
