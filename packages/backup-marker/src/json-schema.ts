/** The JSON Schema generated from the marker's zod schema, as checked in under schema/. */
import { type JsonSchemaFile, jsonSchemaFilesFor } from "@dieu44/plumbing/json-schema";
import { BACKUP_MARKER_KIND, BackupMarkerSchema } from "./schema.js";

export function jsonSchemaFiles(): JsonSchemaFile[] {
  return jsonSchemaFilesFor({
    dir: new URL("../schema/", import.meta.url),
    documents: { [BACKUP_MARKER_KIND]: BackupMarkerSchema },
  });
}
