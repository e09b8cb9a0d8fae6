/** The JSON Schemas generated from this package's zod schemas, as checked in under schema/. */
import { type JsonSchemaFile, jsonSchemaFilesFor } from "@dieu44/plumbing/json-schema";
import {
  CATALOG_DIFF_KIND,
  CatalogDiffSchema,
  EXPECTATION_RESULT_KIND,
  EXPECTED_DELTA_KIND,
  ExpectationResultSchema,
  ExpectedDeltaSchema,
} from "./schema.js";

export function jsonSchemaFiles(): JsonSchemaFile[] {
  return jsonSchemaFilesFor({
    dir: new URL("../schema/", import.meta.url),
    documents: {
      [CATALOG_DIFF_KIND]: CatalogDiffSchema,
      [EXPECTED_DELTA_KIND]: ExpectedDeltaSchema,
      [EXPECTATION_RESULT_KIND]: ExpectationResultSchema,
    },
  });
}
