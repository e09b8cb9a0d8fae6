/**
 * The checked-in JSON Schemas (packages/sql-lint/schema/*.schema.json), generated from the zod schemas.
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { LintPolicySchema, LintReportSchema, POLICY_KIND, REPORT_KIND } from "./schema.js";

const SCHEMA_DIR = join(dirname(fileURLToPath(import.meta.url)), "..", "schema");

/** Every JSON Schema file this package checks in, with its text. */
export function jsonSchemaFiles(): Array<{ path: string; text: string }> {
  return [
    // The policy is input: its schema describes what may be written (defaults optional).
    { path: join(SCHEMA_DIR, `${POLICY_KIND}.schema.json`), schema: z.toJSONSchema(LintPolicySchema, { io: "input" }) },
    { path: join(SCHEMA_DIR, `${REPORT_KIND}.schema.json`), schema: z.toJSONSchema(LintReportSchema) },
  ].map(({ path, schema }) => ({ path, text: `${JSON.stringify(schema, null, 2)}\n` }));
}
