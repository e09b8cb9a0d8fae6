import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { InputError } from "../src/exit.js";
import {
  decodeUtf8,
  invalidUtf8Offset,
  jsonErrorOffset,
  parseDocument,
  parseJson,
  readBytes,
  readText,
  writeChunksAtomically,
  writeChunksOut,
  writeFileAtomically,
} from "../src/json-io.js";

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

/** Runs `body` in a new temporary folder, removed afterwards whatever happens. */
async function inTempDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "json-io-"));
  try {
    await body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("reading bytes and writing files", () => {
  it("reads bytes from - or a file, and writes a file whole", async () => {
    const bytes = await readBytes("-", Readable.from([Buffer.from([0xef, 0xbb]), Buffer.from([0xbf, 0x41])]));
    expect([...bytes]).toEqual([0xef, 0xbb, 0xbf, 0x41]);
    await inTempDir(async (dir) => {
      const path = join(dir, "out.json");
      await writeFileAtomically(path, "é\n");
      expect([...(await readBytes(path))]).toEqual([...Buffer.from("é\n")]);
      expect(readdirSync(dir)).toEqual(["out.json"]);
      await expect(writeFileAtomically(join(dir, "missing", "x.json"), "x")).rejects.toThrow(
        /x\.json: cannot write file \(ENOENT\)/,
      );
      expect(readdirSync(dir)).toEqual(["out.json"]);
    });
  });

  it("reads any file's bytes exactly: a large one, an empty one, a pipe, one whose stat says 0 bytes; a folder is refused", async () => {
    await inTempDir(async (dir) => {
      const large = join(dir, "large.json");
      const content = Buffer.alloc(3 * 2 ** 20 + 7, "0123456789abcdef");
      writeFileSync(large, content);
      expect((await readBytes(large)).equals(content)).toBe(true);
      const empty = join(dir, "empty.json");
      writeFileSync(empty, "");
      expect((await readBytes(empty)).length).toBe(0);
      const fifo = join(dir, "pipe");
      spawnSync("mkfifo", [fifo]);
      const writer = spawn("sh", ["-c", `printf 'through a pipe' > '${fifo}'`], { stdio: "ignore" });
      const written = new Promise((resolve) => writer.once("exit", resolve));
      expect((await readBytes(fifo)).toString()).toBe("through a pipe");
      expect(await written).toBe(0);
      // /proc files stat as empty and still have content.
      expect((await readBytes("/proc/self/status")).toString()).toMatch(/^Name:/);
      await expect(readBytes(dir)).rejects.toThrow(/cannot read file \(EISDIR\)/);
    });
  });

  it("writes text made piece by piece whole, and keeps the old file when the pieces fail midway", async () => {
    await inTempDir(async (dir) => {
      const path = join(dir, "big.json");
      const pieces = Array.from({ length: 50 }, (_, i) => `${String(i % 10).repeat(50_000)}é`);
      await writeChunksAtomically(
        path,
        (async function* () {
          yield* pieces;
        })(),
      );
      expect(readFileSync(path, "utf8")).toBe(pieces.join(""));
      const failing = function* () {
        yield "partial";
        throw new Error("the document could not be built");
      };
      await expect(writeChunksAtomically(path, failing())).rejects.toThrow(/big\.json: cannot write file/);
      // The previous content, whole, and no temporary file left behind.
      expect(readFileSync(path, "utf8")).toBe(pieces.join(""));
      expect(readdirSync(dir)).toEqual(["big.json"]);
    });
  });

  it("writes the exact UTF-8 of the pieces, to a file and to a stream, whatever straddles a megabyte", async () => {
    const MiB = 2 ** 20;
    // Within the first piece, a 2-, a 3- and a 4-byte character (the last a surrogate pair) each
    // come where a 1 MiB buffer has 1 or 2 bytes of room left; then small pieces, one larger than
    // two buffers, an empty one.
    const pieces = [
      `${"a".repeat(MiB - 1)}é${"€".repeat(400_001)}${"😀".repeat(300_000)}`,
      "b".repeat(MiB - 3),
      "€",
      "d".repeat(2 * MiB + 5),
      "",
      "end\n",
    ];
    const expected = Buffer.from(pieces.join(""), "utf8");
    await inTempDir(async (dir) => {
      const path = join(dir, "doc.json");
      await writeChunksAtomically(path, pieces);
      expect(readFileSync(path).equals(expected)).toBe(true);
      const stream = new PassThrough();
      const received: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => received.push(Buffer.from(chunk)));
      await writeChunksOut(pieces, stream);
      expect(Buffer.concat(received).equals(expected)).toBe(true);
    });
  });

  it("keeps concurrent writes of one path apart: the file ends whole, as one of them wrote it", async () => {
    await inTempDir(async (dir) => {
      const path = join(dir, "doc.json");
      const texts = Array.from({ length: 20 }, (_, i) => `${String(i).repeat(100_000)}\n`);
      await Promise.all(texts.map((text) => writeFileAtomically(path, text)));
      expect(texts).toContain(readFileSync(path, "utf8"));
      expect(readdirSync(dir)).toEqual(["doc.json"]);
    });
  });
});

describe("refusing text that is not UTF-8 JSON", () => {
  it("refuses invalid UTF-8 with its offset instead of replacing it with U+FFFD", async () => {
    const bytes = Buffer.concat([Buffer.from('{"kind":"thing",\n"name":"a'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]);
    expect(() => decodeUtf8(bytes, "in.json")).toThrow(/in\.json: not valid UTF-8 \(byte 0xC3 at byte offset 26, line 2\)/);
    await expect(readText("-", Readable.from([bytes]))).rejects.toThrow(InputError);
    // Overlong forms, surrogates, code points above U+10FFFF and cut sequences are not UTF-8 either.
    for (const invalid of [[0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82], [0xff], [0x80]]) {
      expect(invalidUtf8Offset(Uint8Array.from(invalid))).toBe(0);
    }
    expect(decodeUtf8(Buffer.from("héllo € 𝄞"), "x")).toBe("héllo € 𝄞");
    expect(invalidUtf8Offset(Buffer.from("héllo € 𝄞"))).toBe(-1);
  });

  it("names the line and column where the text stops being JSON, and an empty file or a BOM", () => {
    expect(() => parseJson('{"a": 1,\n "b": NaN}', "in.json")).toThrow(
      /in\.json: not valid JSON at line 2, column 7: unexpected character 'N'/,
    );
    expect(() => parseJson('{"a": [1, 2', "in.json")).toThrow(/line 1, column 12: unexpected end of the text/);
    expect(() => parseJson("", "in.json")).toThrow(/in\.json: empty file/);
    expect(() => parseJson('\ufeff{"a":1}', "in.json")).toThrow(/byte-order mark/);
    expect(() => parseDocument(schema, '{"kind":"thing",}', "in.json")).toThrow(/in\.json: not valid JSON at line 1, column 17/);
  });

  it("refuses a document nested deeper than the limit instead of overflowing the stack while validating", () => {
    const recursive = z.object({ kind: z.literal("thing"), data: z.json() });
    const deep = `{"kind":"thing","data":${"[".repeat(50_000)}${"]".repeat(50_000)}}`;
    expect(() => parseDocument(recursive, deep, "deep.json")).toThrow(
      /deep\.json: invalid document: field data\[0\]\[0\].*: nested more than 256 levels deep/,
    );
    const shallow = `{"kind":"thing","data":${"[".repeat(200)}${"]".repeat(200)}}`;
    expect(parseDocument(recursive, shallow, "ok.json").kind).toBe("thing");
  });

  it("finds the offset JSON.parse refuses, for every kind of syntax error", () => {
    const cases: [string, number][] = [
      ["{", 1],
      ['{"a":1,}', 7],
      ["[1,]", 3],
      ["[,1]", 1],
      ["[1 2]", 3],
      ["{}{}", 2],
      ['{"a":01}', 6],
      ['{"a":1.}', 6],
      ['{"a":"\\q"}', 7],
      ['{"a":"\\u12G4"}', 10],
      ['{"a":"x\ny"}', 7],
      ['{"a" 1}', 5],
      ["tru", 0],
      [`${"[".repeat(100_000)}1${"]".repeat(99_999)}`, 200_000],
    ];
    for (const [text, offset] of cases) {
      expect(() => JSON.parse(text)).toThrow(SyntaxError);
      expect(jsonErrorOffset(text)).toBe(offset);
    }
  });
});
