import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { jsonSchemaFiles } from "../src/json-schema.js";

describe("checked-in JSON Schema", () => {
  for (const { path, text } of jsonSchemaFiles()) {
    it(`${path.split("/").pop()} matches the zod schema (regenerate: node packages/tx-apply/scripts/gen-json-schema.mjs)`, () => {
      expect(readFileSync(path, "utf8")).toBe(text);
    });
  }
});
