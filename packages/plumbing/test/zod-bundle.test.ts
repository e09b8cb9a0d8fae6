import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { z as zod } from "zod";

// The build's output, which every package's schemas load (the test runs after `npm run build`).
const bundle = fileURLToPath(new URL("../dist/zod.js", import.meta.url));
const { z } = (await import(bundle)) as typeof import("../src/zod.js");

describe("the bundled zod the packages build their schemas with", () => {
  it("is one file, without the parts of zod the packages do not use", () => {
    const text = readFileSync(bundle, "utf8");
    expect([...text.matchAll(/^import .* from "([^"]+)";$/gm)]).toEqual([]);
    // What made zod's own entry slow to load: sixty locales, each a module (en is the default).
    expect(text).toContain("node_modules/zod/v4/locales/en.js");
    expect(text).not.toContain("node_modules/zod/v4/locales/fr.js");
    expect(text).not.toContain("node_modules/zod/v4/classic/from-json-schema.js");
  });

  it("checks documents as zod does, with the same messages", () => {
    const Doc = z.object({ kind: z.literal("doc"), count: z.number().int(), tags: z.array(z.string()) });
    const Same = zod.object({ kind: zod.literal("doc"), count: zod.number().int(), tags: zod.array(zod.string()) });
    const bad = { kind: "doc", count: 1.5, tags: ["a", 2] };
    expect(Doc.parse({ kind: "doc", count: 2, tags: [] })).toEqual({ kind: "doc", count: 2, tags: [] });
    const ours = Doc.safeParse(bad);
    const theirs = Same.safeParse(bad);
    expect(ours.success).toBe(false);
    expect(ours.error?.issues).toEqual(theirs.error?.issues);
    expect(z.toJSONSchema(Doc)).toEqual(zod.toJSONSchema(Same));
  });

  it("composes with an application's own zod both ways", () => {
    // A library user nests a dieu44 schema in their own zod schema, and the other way round.
    const Ours = z.object({ name: z.string() });
    const Theirs = zod.object({ inner: Ours, list: zod.array(Ours) });
    expect(Theirs.parse({ inner: { name: "a" }, list: [{ name: "b" }] })).toEqual({
      inner: { name: "a" },
      list: [{ name: "b" }],
    });
    expect(Theirs.safeParse({ inner: { name: 1 }, list: [] }).error?.issues[0]?.path).toEqual(["inner", "name"]);
    expect(zod.toJSONSchema(Theirs)).toEqual(
      zod.toJSONSchema(
        zod.object({ inner: zod.object({ name: zod.string() }), list: zod.array(zod.object({ name: zod.string() })) }),
      ),
    );
    const Nested = z.object({ theirs: zod.string().min(2) });
    expect(Nested.safeParse({ theirs: "x" }).success).toBe(false);
    expect(z.array(zod.number()) instanceof zod.ZodArray).toBe(true);
    expect(zod.array(z.number()) instanceof z.ZodArray).toBe(true);
  });
});
