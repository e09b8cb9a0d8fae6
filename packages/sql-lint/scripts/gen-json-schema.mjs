// Regenerates the checked-in JSON Schemas from the zod schemas (run after building):
//   node packages/sql-lint/scripts/gen-json-schema.mjs
import { writeFileSync } from "node:fs";
import { jsonSchemaFiles } from "../dist/json-schema.js";

for (const { path, text } of jsonSchemaFiles()) {
  writeFileSync(path, text);
  process.stderr.write(`wrote ${path}\n`);
}
