// Regenerates the checked-in JSON Schema from the zod schema (run after building):
//   node apps/dieu44/scripts/gen-json-schema.mjs
import { writeFileSync } from "node:fs";
import { jsonSchemaFiles } from "../dist/json-schema.js";

for (const { path, text } of jsonSchemaFiles()) {
  writeFileSync(path, text);
  process.stderr.write(`wrote ${path}\n`);
}
