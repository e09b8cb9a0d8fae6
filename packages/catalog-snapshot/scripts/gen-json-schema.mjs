// Regenerates the checked-in JSON Schema from the zod schema (run after building):
//   node packages/catalog-snapshot/scripts/gen-json-schema.mjs
import { writeFileSync } from "node:fs";
import { z } from "zod";
import { CatalogSnapshotSchema, SNAPSHOT_KIND } from "../dist/schema.js";

const path = new URL(`../schema/${SNAPSHOT_KIND}.schema.json`, import.meta.url);
writeFileSync(path, `${JSON.stringify(z.toJSONSchema(CatalogSnapshotSchema), null, 2)}\n`);
process.stderr.write(`wrote ${path.pathname}\n`);
