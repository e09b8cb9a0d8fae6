import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { CatalogDiffSchema, ExpectationResultSchema, ExpectedDeltaSchema } from "../src/schema.js";

describe("checked-in JSON Schemas", () => {
  it.each([
    ["catalog-diff", CatalogDiffSchema],
    ["expected-delta", ExpectedDeltaSchema],
    ["expectation-result", ExpectationResultSchema],
  ] as const)("%s matches the zod schema (regenerate: node packages/drift-diff/scripts/gen-json-schema.mjs)", (kind, schema) => {
    const checkedIn = JSON.parse(readFileSync(new URL(`../schema/${kind}.schema.json`, import.meta.url), "utf8"));
    expect(checkedIn).toEqual(z.toJSONSchema(schema));
  });

  it("the ws-q5 fixture expectation is a valid expected-delta document", () => {
    const text = readFileSync(new URL("./fixtures/ws-q5.expected-delta.json", import.meta.url), "utf8");
    expect(ExpectedDeltaSchema.safeParse(JSON.parse(text)).success).toBe(true);
  });
});
