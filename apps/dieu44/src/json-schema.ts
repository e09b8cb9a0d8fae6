/** The JSON Schema generated from the plan's zod schema, as checked in under schema/. */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { PLAN_KIND, PlanSchema } from "./schema.js";

const SCHEMA_DIR = join(dirname(fileURLToPath(import.meta.url)), "..", "schema");

export function jsonSchemaFiles(): { path: string; text: string }[] {
  return [
    {
      path: join(SCHEMA_DIR, `${PLAN_KIND}.schema.json`),
      text: `${JSON.stringify(z.toJSONSchema(PlanSchema, { io: "input" }), null, 2)}\n`,
    },
  ];
}
