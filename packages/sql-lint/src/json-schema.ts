/**
 * The checked-in JSON Schemas (packages/sql-lint/schema/*.schema.json), generated from the zod schemas.
 */
import { type JsonSchemaFile, jsonSchemaFilesFor } from "@dieu44/plumbing/json-schema";
import { LintPolicySchema, LintReportSchema, POLICY_KIND, REPORT_KIND } from "./schema.js";

const dir = new URL("../schema/", import.meta.url);

/** Every JSON Schema file this package checks in, with its text. */
export function jsonSchemaFiles(): JsonSchemaFile[] {
  return [
    // The policy is input: its schema describes what may be written (defaults optional).
    ...jsonSchemaFilesFor({ dir, documents: { [POLICY_KIND]: LintPolicySchema }, io: "input" }),
    ...jsonSchemaFilesFor({ dir, documents: { [REPORT_KIND]: LintReportSchema } }),
  ];
}
