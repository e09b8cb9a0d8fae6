import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { parseDocument } from "../src/json-io.js";
import { type DocumentSource, type OmitShared, readDocumentPair } from "../src/json-shared.js";

const Item = z.object({ name: z.string(), size: z.number().default(0) });
const schema = z.object({
  kind: z.literal("thing"),
  formatVersion: z.literal(1),
  owner: z.object({ tags: z.array(z.string()) }),
  items: z.array(Item),
  notes: z.array(z.string()),
});

const encoder = new TextEncoder();
const doc = (items: unknown[], extra: Record<string, unknown> = {}) =>
  JSON.stringify({ kind: "thing", formatVersion: 1, owner: { tags: ["a", "[b]"] }, items, notes: ["x"], ...extra });
const input = (text: string, label: string): DocumentSource => ({ bytes: encoder.encode(text), label });
const items = Array.from({ length: 40 }, (_, i) => ({ name: `item "${i}" {[,]}`, size: i }));

const dir = mkdtempSync(join(tmpdir(), "json-shared-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
/** The text as a file: read through the reused window, not whole. */
function file(text: string): DocumentSource {
  const path = join(dir, `doc${++files}.json`);
  writeFileSync(path, text);
  return { path, label: path };
}

/** What the plain reader says about two texts: their values, or the first error message. */
function plain(texts: [string, string], schemaOf: z.ZodObject = schema): unknown {
  try {
    return texts.map((text, i) => parseDocument(schemaOf, text, `doc${i}.json`));
  } catch (error) {
    return (error as Error).message;
  }
}
/** The same through the pair reader, from memory; its documents, or the error message. */
async function paired(texts: [string, string], schemaOf: z.ZodObject = schema): Promise<unknown> {
  try {
    const { documents } = await readDocumentPair(schemaOf, [input(texts[0], "doc0.json"), input(texts[1], "doc1.json")]);
    return documents;
  } catch (error) {
    return (error as Error).message;
  }
}

describe("readDocumentPair", () => {
  it("gives what parseDocument gives, and shares the elements whose text is the same", async () => {
    const before = doc(items);
    // One changed, one removed, two inserted, one without its defaulted field.
    const changed = items.map((item, i) => (i === 5 ? { ...item, size: 500 } : item)).filter((_, i) => i !== 20);
    changed.splice(30, 0, { name: "new one", size: 1 }, { name: "new two" } as { name: string; size: number });
    const after = doc(changed);
    const { documents, omitted } = await readDocumentPair(schema, [input(before, "a.json"), input(after, "b.json")]);
    const [a, b] = documents;
    expect(a).toEqual(parseDocument(schema, before, "a.json"));
    expect(b).toEqual(parseDocument(schema, after, "b.json"));
    expect(omitted).toEqual([]);
    const first = new Set(a.items);
    // Every unchanged element is the same object; the changed and new ones are not.
    expect(b.items.filter((item) => first.has(item))).toHaveLength(items.length - 2);
    expect(b.items[5]).not.toBe(a.items[5]);
    expect(b.items.find((item) => item.name === "new two")).toEqual({ name: "new two", size: 0 });
  });

  it("reads pretty-printed documents, empty arrays, escapes, and lists in the same order only", async () => {
    const pretty = JSON.stringify(JSON.parse(doc([{ name: 'a "quoted" \\ name' }, { name: "é ☃ 😀" }])), null, 2);
    const empty = doc([], { notes: [] });
    expect(await paired([pretty, empty])).toEqual(plain([pretty, empty]));
    // The lists in another order, or one list only in one document: read plainly, same values.
    const reordered = JSON.stringify({ kind: "thing", formatVersion: 1, notes: ["x"], owner: { tags: [] }, items });
    expect(await paired([doc(items), reordered])).toEqual(plain([doc(items), reordered]));
    const loose = z.object({ items: z.array(Item), notes: z.array(z.string()).optional() });
    const withNotes = JSON.stringify({ items, notes: ["only here"] });
    const withoutNotes = JSON.stringify({ items });
    expect(await paired([withNotes, withoutNotes], loose)).toEqual(plain([withNotes, withoutNotes], loose));
    expect(await paired([withoutNotes, withNotes], loose)).toEqual(plain([withoutNotes, withNotes], loose));
  });

  it("refuses what parseDocument refuses, with its message, whichever document it is in", async () => {
    const bad = [
      doc(items).replace('"size":3', '"size":"3"'), // a field of the wrong type
      doc(items).replace('"size":3}', '"size":3},'), // a trailing comma... inside the list
      `${doc(items).slice(0, -1)},"items":[{"name":1}]}`, // the list given twice
      doc(items).replace("[", "[,"), // an empty element
      `\uFEFF${doc(items)}`, // a byte-order mark
      doc(items).slice(0, -1), // cut short
      doc(items).slice(0, 200), // cut short inside the list
      "[1, 2]", // not an object
      doc(items, { extra: [1, 2] }), // an array the schema does not know (stripped, like parseDocument)
      doc(items).replace('"items"', '"it\\xems"'), // a key that is not a JSON string
      doc(items).replace('"size":3}', '"size":3 x}'), // garbage after a value
      `${doc(items)} x`,
      "",
    ];
    for (const text of bad) {
      expect(await paired([doc(items), text]), text.slice(0, 80)).toEqual(plain([doc(items), text]));
      expect(await paired([text, doc(items)]), text.slice(0, 80)).toEqual(plain([text, doc(items)]));
    }
  });

  it("refuses bytes that are not UTF-8 inside an element, in either document, as parseDocument does", async () => {
    const text = doc(items);
    const bytes = encoder.encode(text);
    const broken = new Uint8Array(bytes);
    broken[text.indexOf('item \\"3') + 1] = 0xff;
    const second = readDocumentPair(schema, [
      { bytes, label: "a.json" },
      { bytes: broken, label: "b.json" },
    ]);
    await expect(second).rejects.toThrow(/b\.json: not valid UTF-8/);
    const first = readDocumentPair(schema, [
      { bytes: broken, label: "a.json" },
      { bytes, label: "b.json" },
    ]);
    await expect(first).rejects.toThrow(/a\.json: not valid UTF-8/);
  });

  it("leaves checks on the object or on a list to the plain reader, which sees the whole list", async () => {
    const limited = z.object({ items: z.array(Item).max(2) });
    const refined = z.object({ items: z.array(Item) }).refine((value) => value.items.length < 2, "too many");
    const text = JSON.stringify({ items: [{ name: "a" }, { name: "b" }, { name: "c" }] });
    for (const checked of [limited, refined]) {
      const read = readDocumentPair(checked, [input(text, "c.json"), input(text, "d.json")]);
      await expect(read).rejects.toThrow(/c\.json: invalid document/);
    }
  });

  it("refuses a document nested too deep, as parseDocument does", async () => {
    const deep = doc([{ name: "x", size: 1, more: JSON.parse(`${"[".repeat(300)}${"]".repeat(300)}`) }]);
    expect(await paired([deep, doc(items)])).toMatch(/doc0\.json: invalid document: .*nested more than 256 levels deep/);
    expect(await paired([doc(items), deep])).toEqual(plain([doc(items), deep]));
  });

  it("reads files larger than its buffer, and an element larger than it, as parseDocument does", async () => {
    // About 2.5 MB each: elements cross the 1 MiB buffer's edges; one element is 1.5 MB alone.
    const many = Array.from({ length: 4000 }, (_, i) => ({ name: `${"é".repeat(100)} ${i} ${"x".repeat(i % 300)}`, size: i }));
    const before = doc(many);
    const huge = { name: `${"y".repeat(1_500_000)}"`.slice(0, -1), size: -1 };
    const after = doc([...many.slice(0, 1000).filter((_, i) => i !== 500), huge, ...many.slice(1000, 3990)]);
    const sources: [DocumentSource, DocumentSource] = [file(before), file(after)];
    const { documents } = await readDocumentPair(schema, sources);
    expect(documents[0]).toEqual(parseDocument(schema, before, "a"));
    expect(documents[1]).toEqual(parseDocument(schema, after, "b"));
    const first = new Set(documents[0].items);
    expect(documents[1].items.filter((item) => first.has(item))).toHaveLength(999 + 2990);
  });

  it("names a file it cannot read, the first before the second", async () => {
    const missing = { path: join(dir, "missing.json"), label: join(dir, "missing.json") };
    await expect(readDocumentPair(schema, [missing, file(doc(items))])).rejects.toThrow(
      /missing\.json: cannot read file \(ENOENT\)/,
    );
    await expect(readDocumentPair(schema, [file(doc(items)), missing])).rejects.toThrow(
      /missing\.json: cannot read file \(ENOENT\)/,
    );
  });
});

describe("readDocumentPair with omit", () => {
  const omit: OmitShared = { key: "items", identity: (value) => (value as { name: string }).name };
  const list = Array.from({ length: 30 }, (_, i) => ({ name: `item ${i}`, size: i }));

  it("leaves out of both documents exactly the elements whose text both have, and gives their identities", async () => {
    const changed = list.map((item, i) => (i === 4 ? { ...item, size: 400 } : item)).filter((_, i) => i !== 9);
    changed.splice(20, 0, { name: "new", size: 1 });
    for (const sources of [
      [input(doc(list), "a.json"), input(doc(changed), "b.json")],
      [file(doc(list)), file(doc(changed))],
    ] as [DocumentSource, DocumentSource][]) {
      const { documents, omitted } = await readDocumentPair(schema, sources, omit);
      expect(documents[0].items).toEqual([
        { name: "item 4", size: 4 },
        { name: "item 9", size: 9 },
      ]);
      expect(documents[1].items).toEqual([
        { name: "item 4", size: 400 },
        { name: "new", size: 1 },
      ]);
      expect(omitted).toEqual(list.filter((_, i) => i !== 4 && i !== 9).map((item) => item.name));
      // The other lists and fields are whole.
      expect(documents[1].notes).toEqual(["x"]);
      expect(documents[1].owner).toEqual({ tags: ["a", "[b]"] });
    }
  });

  it("does not take an element for another whose text it only starts with", async () => {
    const numbers = z.object({ items: z.array(z.number()) });
    const { documents, omitted } = await readDocumentPair(
      numbers,
      [input('{"items":[12,5]}', "a.json"), input('{"items":[123 ,5 ]}', "b.json")],
      { key: "items", identity: String },
    );
    expect(documents).toEqual([{ items: [12] }, { items: [123] }]);
    expect(omitted).toEqual(["5"]);
  });

  it("still validates the elements it leaves out: a bad one shared by both is the first file's error", async () => {
    const bad = doc(list).replace('"size":3', '"size":"3"');
    const read = readDocumentPair(schema, [input(bad, "a.json"), input(bad, "b.json")], omit);
    await expect(read).rejects.toThrow(/a\.json: invalid document: field items\[3\]\.size/);
  });

  it("keeps both documents whole when an identity it would leave out also names another element", async () => {
    const twice = [...list.slice(0, 5), { name: "item 4", size: 44 }, ...list.slice(5)];
    const { documents, omitted } = await readDocumentPair(schema, [file(doc(twice)), file(doc(list))], omit);
    expect(omitted).toEqual([]);
    expect(documents[0].items).toEqual(twice);
    expect(documents[1].items).toEqual(list);
  });
});

describe("readDocumentPair on generated pairs, through small buffers", () => {
  // A seeded generator: the same cases on every run; a failure names its case.
  function random(seed: number) {
    let state = seed >>> 0;
    return () => {
      state = (state + 0x6d2b79f5) >>> 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }
  const Thing = z.object({ name: z.string(), size: z.number(), tags: z.array(z.string()), more: z.unknown().optional() });
  const pairSchema = z.object({
    kind: z.literal("thing"),
    meta: z.object({ note: z.string() }),
    items: z.array(Thing),
    sizes: z.array(z.number()),
  });
  const alphabet = ["a", "b", "é", "🐘", '"', "\\", "[", "]", "{", "}", ",", ":", " ", "\n", "\u0001"];

  it("gives what parseDocument gives (or its error), with and without omit, at every buffer edge", async () => {
    for (let n = 0; n < 150; n++) {
      const next = random(n + 1);
      const pick = <T>(values: readonly T[]): T => values[Math.floor(next() * values.length)] as T;
      const text = (length: number) => Array.from({ length }, () => pick(alphabet)).join("");
      const thing = (i: number) => ({
        name: `${i}:${text(Math.floor(next() * 6))}`,
        size: pick([0, -1, 1.5, 1e21, 12, 123, -0.25]),
        tags: Array.from({ length: Math.floor(next() * 3) }, () => text(2)),
        ...(next() < 0.2 ? { more: [[], [{ x: [null, true] }], "x"] } : {}),
      });
      const before = Array.from({ length: Math.floor(next() * 40) }, (_, i) => thing(i));
      const after = before.flatMap((item, i) => {
        const roll = next();
        if (roll < 0.1) return []; // removed
        if (roll < 0.2) return [{ ...item, size: item.size + 1 }]; // changed
        if (roll < 0.25) return [item, thing(1000 + i)]; // one inserted after it
        return [item];
      });
      const indent = pick([0, 0, 1, 2]);
      const documentText = (items: unknown[]) => {
        const value = { kind: "thing", meta: { note: text(3) }, items, sizes: items.map((_, i) => i * 11) };
        return JSON.stringify(value, null, indent);
      };
      const texts: [string, string] = [documentText(before), documentText(after)];
      const spoilt = next() < 0.15;
      if (spoilt) {
        // Spoil one of the two somewhere: cut short, or one stray byte.
        const which = Math.floor(next() * 2);
        const at = Math.floor(next() * texts[which]!.length);
        texts[which] =
          next() < 0.5
            ? texts[which]!.slice(0, at)
            : `${texts[which]!.slice(0, at)}${pick(["x", ",", "]", "\uFFFF"])}${texts[which]!.slice(at)}`;
      }
      const label = `case ${n}`;
      let expected: unknown;
      try {
        expected = texts.map((doc, i) => parseDocument(pairSchema, doc, `doc${i}`));
      } catch (error) {
        expected = (error as Error).message;
      }
      const windowBytes = pick([16, 64, 100, 1000, 4096]);
      const sources = () => texts.map((doc, i) => ({ ...file(doc), label: `doc${i}` })) as [DocumentSource, DocumentSource];
      const read = async (omitting?: OmitShared) => {
        try {
          return await readDocumentPair(pairSchema, sources(), omitting, { windowBytes });
        } catch (error) {
          return (error as Error).message;
        }
      };
      const whole = await read();
      expect(typeof whole === "string" ? whole : whole.documents, label).toEqual(expected);
      const omitting: OmitShared = { key: "items", identity: (value) => (value as { name: string }).name };
      const left = await read(omitting);
      if (typeof expected === "string" || typeof left === "string") {
        expect(left, label).toEqual(expected);
        continue;
      }
      // Valid documents that share elements take the fast path: some are left out.
      const unchanged = before.filter((item) => after.includes(item));
      if (!spoilt && unchanged.length > 0) expect(left.omitted.length, label).toBeGreaterThan(0);
      // Each left-out element is in both documents, the same; the documents hold all the others.
      const gone = new Set(left.omitted);
      for (const [i, document] of (expected as z.output<typeof pairSchema>[]).entries()) {
        expect(left.documents[i]?.items, label).toEqual(document.items.filter((item) => !gone.has(item.name)));
        expect(left.documents[i]?.sizes, label).toEqual(document.sizes);
      }
      const [first, second] = expected as z.output<typeof pairSchema>[];
      for (const name of gone) {
        expect(
          first?.items.find((item) => item.name === name),
          label,
        ).toEqual(second?.items.find((item) => item.name === name));
      }
    }
  });
});
