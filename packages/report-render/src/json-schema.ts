/** The JSON Schemas generated from this package's zod schemas, as checked in under schema/. */
import { type JsonSchemaFile, jsonSchemaFilesFor } from "@dieu44/plumbing/json-schema";
import { EVIDENCE_MANIFEST_KIND, EvidenceManifestSchema, PROCEDURE_RESULT_KIND, ProcedureResultSchema } from "./schema.js";

export function jsonSchemaFiles(): JsonSchemaFile[] {
  return jsonSchemaFilesFor({
    dir: new URL("../schema/", import.meta.url),
    documents: { [PROCEDURE_RESULT_KIND]: ProcedureResultSchema, [EVIDENCE_MANIFEST_KIND]: EvidenceManifestSchema },
  });
}
