import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { jsonSchemaFiles } from "../src/json-schema.js";
import { LintPolicySchema } from "../src/schema.js";
import { FIXTURE_POLICY } from "./helpers.js";

describe("JSON Schemas", () => {
  it.each(jsonSchemaFiles())(
    "$path is the one generated from the zod schema (regenerate: node packages/sql-lint/scripts/gen-json-schema.mjs)",
    ({ path, text }) => {
      expect(readFileSync(path, "utf8")).toBe(text);
    },
  );

  it("the fixture policy is a valid sql-lint-policy", () => {
    expect(() => LintPolicySchema.parse(FIXTURE_POLICY)).not.toThrow();
  });
});
