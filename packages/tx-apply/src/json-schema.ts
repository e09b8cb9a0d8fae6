/** The JSON Schema generated from this package's zod schema, as checked in under schema/. */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { APPLY_LOG_KIND, ApplyLogSchema } from "./schema.js";

const SCHEMA_DIR = join(dirname(fileURLToPath(import.meta.url)), "..", "schema");

export function jsonSchemaFiles(): { path: string; text: string }[] {
  return [
    {
      path: join(SCHEMA_DIR, `${APPLY_LOG_KIND}.schema.json`),
      text: `${JSON.stringify(z.toJSONSchema(ApplyLogSchema), null, 2)}\n`,
    },
  ];
}
