import { spawnSync } from "node:child_process";
import { PassThrough, Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { InputError } from "../src/exit.js";
import { parseDocument, readText } from "../src/json-io.js";

const schema = z.object({
  kind: z.literal("thing"),
  formatVersion: z.literal(1),
  items: z.array(z.object({ name: z.string() })),
});

describe("json-io", () => {
  it("names the file and the failing field", () => {
    expect(() =>
      parseDocument(schema, JSON.stringify({ kind: "thing", formatVersion: 1, items: [{ name: 3 }] }), "in.json"),
    ).toThrow(/in\.json: invalid document: field items\[0\]\.name/);
    expect(() => parseDocument(schema, "{nope", "in.json")).toThrow(InputError);
  });

  it("reads - from stdin", async () => {
    const text = await readText("-", Readable.from([Buffer.from('{"a":'), Buffer.from("1}")]));
    expect(JSON.parse(text)).toEqual({ a: 1 });
    await expect(readText("/nonexistent/file.json")).rejects.toThrow(/cannot read file/);
    expect(new PassThrough()).toBeTruthy();
  });

  it("writing to a closed pipe is not a crash", () => {
    const script = `import { writeOut } from ${JSON.stringify(new URL("../dist/json-io.js", import.meta.url).pathname)};
      import { runCli } from ${JSON.stringify(new URL("../dist/exit.js", import.meta.url).pathname)};
      await runCli("t", async () => { for (let i = 0; i < 20000; i++) await writeOut("line " + i + "\\n"); return 0; });`;
    const result = spawnSync("sh", ["-c", `node --input-type=module -e '${script.replace(/'/g, "'\\''")}' | head -n 1`], {
      encoding: "utf8",
    });
    expect(result.stdout).toBe("line 0\n");
    expect(result.stderr).toBe("");
  });
});
