// Regenerates the checked-in JSON Schemas from the zod schemas (run after building):
//   node packages/drift-diff/scripts/gen-json-schema.mjs
import { writeFileSync } from "node:fs";
import { z } from "zod";
import { CatalogDiffSchema, ExpectationResultSchema, ExpectedDeltaSchema } from "../dist/schema.js";

const documents = {
  "catalog-diff": CatalogDiffSchema,
  "expected-delta": ExpectedDeltaSchema,
  "expectation-result": ExpectationResultSchema,
};
for (const [kind, schema] of Object.entries(documents)) {
  const path = new URL(`../schema/${kind}.schema.json`, import.meta.url);
  writeFileSync(path, `${JSON.stringify(z.toJSONSchema(schema), null, 2)}\n`);
  process.stderr.write(`wrote ${path.pathname}\n`);
}
