// Regenerates the checked-in JSON Schemas from the zod schemas (run after building):
//   node packages/report-render/scripts/gen-json-schema.mjs
import { writeJsonSchemaFiles } from "@dieu44/plumbing/json-schema";
import { jsonSchemaFiles } from "../dist/json-schema.js";

writeJsonSchemaFiles(jsonSchemaFiles());
