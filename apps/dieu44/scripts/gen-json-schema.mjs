// Regenerates the checked-in JSON Schema from the zod schema (run after building):
//   node apps/dieu44/scripts/gen-json-schema.mjs
import { writeJsonSchemaFiles } from "@dieu44/plumbing/json-schema";
import { jsonSchemaFiles } from "../dist/json-schema.js";

writeJsonSchemaFiles(jsonSchemaFiles());
