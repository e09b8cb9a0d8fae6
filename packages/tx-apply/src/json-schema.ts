/** The JSON Schema generated from this package's zod schema, as checked in under schema/. */
import { type JsonSchemaFile, jsonSchemaFilesFor } from "@dieu44/plumbing/json-schema";
import { APPLY_LOG_KIND, ApplyLogSchema } from "./schema.js";

export function jsonSchemaFiles(): JsonSchemaFile[] {
  return jsonSchemaFilesFor({ dir: new URL("../schema/", import.meta.url), documents: { [APPLY_LOG_KIND]: ApplyLogSchema } });
}
