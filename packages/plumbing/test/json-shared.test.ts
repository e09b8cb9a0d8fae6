import { describe, expect, it } from "vitest";
import { z } from "zod";
import { parseDocument } from "../src/json-io.js";
import { parseDocumentPairOmittingShared, parseDocumentsSharingElements, topLevelArrays } from "../src/json-shared.js";

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
const input = (text: string, label: string) => ({ bytes: encoder.encode(text), label });

/** What the plain reader says about the texts: their values, or the first error message. */
function plain(texts: string[]): unknown {
  try {
    return texts.map((text, i) => parseDocument(schema, text, `doc${i}.json`));
  } catch (error) {
    return (error as Error).message;
  }
}
/** The same through the shared reader. */
function shared(texts: string[]): unknown {
  try {
    return parseDocumentsSharingElements(
      schema,
      texts.map((text, i) => input(text, `doc${i}.json`)),
    );
  } catch (error) {
    return (error as Error).message;
  }
}

describe("parseDocumentsSharingElements", () => {
  const items = Array.from({ length: 40 }, (_, i) => ({ name: `item "${i}" {[,]}`, size: i }));

  it("gives what parseDocument gives, and shares the elements whose text is the same", () => {
    const before = doc(items);
    // One changed, one removed, two inserted, one without its defaulted field.
    const changed = items.map((item, i) => (i === 5 ? { ...item, size: 500 } : item)).filter((_, i) => i !== 20);
    changed.splice(30, 0, { name: "new one", size: 1 }, { name: "new two" } as { name: string; size: number });
    const after = doc(changed);
    const [a, b] = parseDocumentsSharingElements(schema, [input(before, "a.json"), input(after, "b.json")]);
    expect(a).toEqual(parseDocument(schema, before, "a.json"));
    expect(b).toEqual(parseDocument(schema, after, "b.json"));
    const first = new Set(a?.items);
    const reused = b?.items.filter((item) => first.has(item)) ?? [];
    // Every unchanged element is the same object; the changed and new ones are not.
    expect(reused).toHaveLength(items.length - 2);
    expect(b?.items[5]).not.toBe(a?.items[5]);
    expect(b?.items.find((item) => item.name === "new two")).toEqual({ name: "new two", size: 0 });
  });

  it("reads pretty-printed documents, empty arrays and escapes the same way", () => {
    const pretty = JSON.stringify(JSON.parse(doc([{ name: 'a "quoted" \\ name' }, { name: "é ☃ 😀" }])), null, 2);
    const empty = doc([], { notes: [] });
    expect(shared([pretty, empty])).toEqual(plain([pretty, empty]));
  });

  it("refuses what parseDocument refuses, with its message", () => {
    const bad = [
      doc(items).replace('"size":3', '"size":"3"'), // a field of the wrong type
      doc(items).replace('"size":3}', '"size":3},'), // a trailing comma... inside the list
      `${doc(items).slice(0, -1)},"items":[{"name":1}]}`, // the list given twice
      doc(items).replace("[", "[,"), // an empty element
      `\uFEFF${doc(items)}`, // a byte-order mark
      doc(items).slice(0, -1), // cut short
      "[1, 2]", // not an object
      doc(items, { extra: [1, 2] }), // an array the schema does not know (stripped, like parseDocument)
      doc(items).replace('"items"', '"it\\xems"'), // a key that is not a JSON string
      `${doc(items)} x`,
      "",
    ];
    for (const text of bad) {
      expect(shared([doc(items), text]), text.slice(0, 80)).toEqual(plain([doc(items), text]));
    }
  });

  it("leaves checks on the object or on a list to the plain reader, which sees the whole list", () => {
    const limited = z.object({ items: z.array(Item).max(2) });
    const refined = z.object({ items: z.array(Item) }).refine((value) => value.items.length < 2, "too many");
    const text = JSON.stringify({ items: [{ name: "a" }, { name: "b" }, { name: "c" }] });
    for (const checked of [limited, refined]) {
      expect(() => parseDocumentsSharingElements(checked, [input(text, "c.json")])).toThrow(/c\.json: invalid document/);
    }
  });

  it("refuses a document nested too deep, as parseDocument does", () => {
    const deep = doc([{ name: "x", size: 1, more: JSON.parse(`${"[".repeat(300)}${"]".repeat(300)}`) }]);
    expect(shared([deep])).toMatch(/doc0\.json: invalid document: .*nested more than 256 levels deep/);
    expect(shared([deep])).toEqual(plain([deep]));
  });
});

describe("topLevelArrays", () => {
  it("finds each top-level list and its elements, not the lists nested deeper", () => {
    const text = '{ "a" : [ 1 , "x,]" , {"b":[2]} ] , "o":{"c":[3]}, "d":[], "e":[null,true] }';
    const arrays = topLevelArrays(encoder.encode(text)) ?? [];
    const slices = arrays.map((array) => {
      const parts: string[] = [];
      for (let i = 0; i < array.elements.length; i += 2) parts.push(text.slice(array.elements[i], array.elements[i + 1]));
      return [array.key, parts];
    });
    expect(slices).toEqual([
      ["a", ["1", '"x,]"', '{"b":[2]}']],
      ["d", []],
      ["e", ["null", "true"]],
    ]);
  });

  it("is null for what it cannot read exactly", () => {
    for (const text of ["[1]", '{"a":[1,]}', '{"a":[,1]}', '{"a":[1],"a":[2]}', '{"a":[1]', '{"a":"x', '{"a":[1]} {}']) {
      expect(topLevelArrays(encoder.encode(text)), text).toBeNull();
    }
    expect(topLevelArrays(encoder.encode('{"a":[[[1]]]}'), 3)).toBeNull();
    expect(topLevelArrays(encoder.encode('{"a":[[1]]}'), 3)).not.toBeNull();
  });
});

describe("parseDocumentPairOmittingShared", () => {
  const items = Array.from({ length: 30 }, (_, i) => ({ name: `item ${i}`, size: i }));
  const keep = (value: unknown) => (value as { name: string }).name;
  const pair = (before: string, after: string) =>
    parseDocumentPairOmittingShared(schema, [input(before, "a.json"), input(after, "b.json")], { key: "items", keep });

  it("leaves out of both documents exactly the elements whose text both have, and keeps what `keep` returns", () => {
    const changed = items.map((item, i) => (i === 4 ? { ...item, size: 400 } : item)).filter((_, i) => i !== 9);
    changed.splice(20, 0, { name: "new", size: 1 });
    const { documents, omitted } = pair(doc(items), doc(changed));
    expect(documents[0].items).toEqual([
      { name: "item 4", size: 4 },
      { name: "item 9", size: 9 },
    ]);
    expect(documents[1].items).toEqual([
      { name: "item 4", size: 400 },
      { name: "new", size: 1 },
    ]);
    expect(omitted).toEqual(items.filter((_, i) => i !== 4 && i !== 9).map((item) => item.name));
    // The other lists and fields are whole.
    expect(documents[1].notes).toEqual(["x"]);
    expect(documents[1].owner).toEqual({ tags: ["a", "[b]"] });
  });

  it("does not take an element for another whose text it only starts with", () => {
    const numbers = z.object({ items: z.array(z.number()) });
    const { documents, omitted } = parseDocumentPairOmittingShared(
      numbers,
      [input('{"items":[12,5]}', "a.json"), input('{"items":[123 ,5 ]}', "b.json")],
      { key: "items", keep: (value) => value },
    );
    expect(documents).toEqual([{ items: [12] }, { items: [123] }]);
    expect(omitted).toEqual([5]);
  });

  it("still validates the elements it leaves out: a bad one shared by both is the first file's error", () => {
    const bad = doc(items).replace('"size":3', '"size":"3"');
    expect(() => pair(bad, bad)).toThrow(/a\.json: invalid document: field items\[3\]\.size/);
  });

  it("gives both documents whole when no text is shared, or the pair cannot take the fast path", () => {
    const pretty = JSON.stringify(JSON.parse(doc(items)), null, 2);
    const { documents, omitted } = pair(pretty, doc(items));
    expect(omitted).toHaveLength(0);
    expect(documents[0].items).toEqual(items);
    expect(documents[1].items).toEqual(items);
    const checked = z.object({ items: z.array(Item).max(40) });
    const whole = parseDocumentPairOmittingShared(checked, [input(doc(items), "a.json"), input(doc(items), "b.json")], {
      key: "items",
      keep,
    });
    expect(whole.omitted).toEqual([]);
    expect(whole.documents[0].items).toHaveLength(30);
  });
});
