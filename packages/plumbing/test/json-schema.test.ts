import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { jsonSchemaFilesFor, writeJsonSchemaFiles } from "../src/json-schema.js";

const Thing = z.object({ kind: z.literal("thing"), size: z.number().default(1) });

describe("JSON Schema files", () => {
  it("names each file after its kind and writes canonical JSON of the output or input side", () => {
    const [output] = jsonSchemaFilesFor({ dir: "/x/schema", documents: { thing: Thing } });
    expect(output?.path).toBe("/x/schema/thing.schema.json");
    expect(output?.text).toBe(`${JSON.stringify(z.toJSONSchema(Thing), null, 2)}\n`);
    expect(JSON.parse(output?.text ?? "").required).toEqual(["kind", "size"]);
    const [input] = jsonSchemaFilesFor({ dir: new URL("file:///x/schema/"), documents: { thing: Thing }, io: "input" });
    expect(input?.path).toBe("/x/schema/thing.schema.json");
    expect(JSON.parse(input?.text ?? "").required).toEqual(["kind"]);
  });

  it("writes the files", () => {
    const dir = mkdtempSync(join(tmpdir(), "json-schema-"));
    try {
      const files = jsonSchemaFilesFor({ dir: pathToFileURL(`${dir}/`), documents: { a: Thing, b: z.string() } });
      writeJsonSchemaFiles(files);
      for (const { path, text } of files) expect(readFileSync(path, "utf8")).toBe(text);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
