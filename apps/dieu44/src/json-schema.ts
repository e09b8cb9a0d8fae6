/** The JSON Schema generated from the plan's zod schema, as checked in under schema/. */
import { type JsonSchemaFile, jsonSchemaFilesFor } from "@dieu44/plumbing/json-schema";
import { PLAN_KIND, PlanSchema } from "./schema.js";

export function jsonSchemaFiles(): JsonSchemaFile[] {
  // The plan is written by people: its schema describes the input side (defaults optional).
  return jsonSchemaFilesFor({ dir: new URL("../schema/", import.meta.url), documents: { [PLAN_KIND]: PlanSchema }, io: "input" });
}
