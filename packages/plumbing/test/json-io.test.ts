import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { InputError } from "../src/exit.js";
import { parseDocument, readBytes, readText, writeFileAtomically } from "../src/json-io.js";

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

describe("reading bytes and writing files", () => {
  it("reads bytes from - or a file, and writes a file whole", async () => {
    const bytes = await readBytes("-", Readable.from([Buffer.from([0xef, 0xbb]), Buffer.from([0xbf, 0x41])]));
    expect([...bytes]).toEqual([0xef, 0xbb, 0xbf, 0x41]);
    const dir = mkdtempSync(join(tmpdir(), "json-io-"));
    try {
      const path = join(dir, "out.json");
      await writeFileAtomically(path, "é\n");
      expect([...(await readBytes(path))]).toEqual([...Buffer.from("é\n")]);
      expect(readdirSync(dir)).toEqual(["out.json"]);
      await expect(writeFileAtomically(join(dir, "missing", "x.json"), "x")).rejects.toThrow(
        /x\.json: cannot write file \(ENOENT\)/,
      );
      expect(readdirSync(dir)).toEqual(["out.json"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
