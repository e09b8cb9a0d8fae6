/** The JSON Schemas generated from this package's zod schemas, as checked in under schema/. */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { EVIDENCE_MANIFEST_KIND, EvidenceManifestSchema, PROCEDURE_RESULT_KIND, ProcedureResultSchema } from "./schema.js";

const SCHEMA_DIR = join(dirname(fileURLToPath(import.meta.url)), "..", "schema");

export function jsonSchemaFiles(): { path: string; text: string }[] {
  return [
    [PROCEDURE_RESULT_KIND, ProcedureResultSchema],
    [EVIDENCE_MANIFEST_KIND, EvidenceManifestSchema],
  ].map(([kind, schema]) => ({
    path: join(SCHEMA_DIR, `${kind as string}.schema.json`),
    text: `${JSON.stringify(z.toJSONSchema(schema as z.ZodType), null, 2)}\n`,
  }));
}
