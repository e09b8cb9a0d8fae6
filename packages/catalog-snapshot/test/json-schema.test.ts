/** The checked-in JSON Schema is the one generated from the zod schema, and the fingerprint rules. */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import {
  type CatalogSnapshot,
  CatalogSnapshotSchema,
  canonicalJson,
  compactJsonTextPieces,
  compareText,
  computeFingerprint,
  jsonTextPieces,
  SNAPSHOT_KIND,
} from "../src/index.js";
import { writeSnapshot } from "../src/output.js";

describe("JSON Schema", () => {
  it("matches the file checked in (regenerate: node packages/catalog-snapshot/scripts/gen-json-schema.mjs)", () => {
    const checkedIn = readFileSync(new URL(`../schema/${SNAPSHOT_KIND}.schema.json`, import.meta.url), "utf8");
    expect(checkedIn).toBe(`${JSON.stringify(z.toJSONSchema(CatalogSnapshotSchema), null, 2)}\n`);
  });
});

function minimalDoc(): CatalogSnapshot {
  const content = {
    kind: "catalog-snapshot" as const,
    formatVersion: 1 as const,
    server: {
      systemIdentifier: "7611578671664259111",
      serverVersion: "15.18",
      serverVersionNum: 150018,
      database: "d",
      currentUser: "u",
      sessionUser: "u",
      inRecovery: false,
      takenAt: "2026-01-01T00:00:00.000000Z",
    },
    scope: { schemas: ["s"], privilegesFor: [] },
    schemas: [{ name: "s", exists: false, owner: null, acl: [] }],
    tables: [],
    views: [],
    sequences: [],
    enums: [],
    domains: [],
    compositeTypes: [],
    routines: [],
    extensions: [],
    roles: [],
  };
  return { ...content, fingerprint: computeFingerprint(content) };
}

const reverseKeys = (value: unknown): unknown =>
  Array.isArray(value)
    ? value.map(reverseKeys)
    : value && typeof value === "object"
      ? Object.fromEntries(
          Object.entries(value)
            .reverse()
            .map(([key, item]) => [key, reverseKeys(item)]),
        )
      : value;

describe("output", () => {
  it("writes exactly the text of JSON.stringify(doc) (or, pretty, JSON.stringify(doc, null, 2)), piece by piece", () => {
    const docs: object[] = [
      minimalDoc(),
      {},
      { a: [] },
      { a: [1, { b: [], c: { d: [null, 'x\n"y'] } }], e: null, f: undefined, g: "🐘" },
      { list: [undefined, [], {}] },
      { many: Array.from({ length: 600 }, (_, i) => ({ i, nested: [i, { deep: [] }] })), after: "x" },
    ];
    for (const doc of docs) {
      expect([...jsonTextPieces(doc)].join("")).toBe(`${JSON.stringify(doc, null, 2)}\n`);
      expect([...compactJsonTextPieces(doc)].join("")).toBe(`${JSON.stringify(doc)}\n`);
    }
  });
});

describe("writeSnapshot", () => {
  // Lists long enough for several pieces, in several members, with keys in code point order (as
  // the snapshot builds them): the file's fingerprint is hashed while the file is written.
  const element = (i: number) => ({ acl: [], name: `n${String(i).padStart(3, "0")}`, note: 'é 🐘 "q"', schema: "s" });
  const { fingerprint: _, ...base } = minimalDoc();
  const content = {
    ...base,
    scope: { privilegesFor: [], schemas: ["s"] },
    roles: [{ name: "r" }],
    routines: Array.from({ length: 20 }, (_, i) => element(i)),
    schemas: [{ acl: [], exists: true, name: "s", owner: "o" }],
    tables: Array.from({ length: 70 }, (_, i) => element(i)),
    views: Array.from({ length: 17 }, (_, i) => element(i)),
  } as unknown as Omit<CatalogSnapshot, "fingerprint">;
  const expected = { ...content, fingerprint: computeFingerprint(content) };
  const { kind, formatVersion, fingerprint, server, ...rest } = expected;
  // The file's key order: kind, formatVersion, fingerprint, server, then the content.
  const ordered = { kind, formatVersion, fingerprint, server, ...rest };

  it("writes a file whose text is JSON.stringify of the document and whose fingerprint is computeFingerprint's", async () => {
    const dir = mkdtempSync(join(tmpdir(), "write-snapshot-"));
    try {
      const compact = join(dir, "compact.json");
      expect(await writeSnapshot(content, compact)).toBe(expected.fingerprint);
      expect(readFileSync(compact, "utf8")).toBe(`${JSON.stringify(ordered)}\n`);
      const pretty = join(dir, "pretty.json");
      expect(await writeSnapshot(content, pretty, { pretty: true })).toBe(expected.fingerprint);
      expect(readFileSync(pretty, "utf8")).toBe(`${JSON.stringify(ordered, null, 2)}\n`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("fingerprint", () => {
  it("uses canonical JSON with sorted keys, independent of key order", () => {
    expect(canonicalJson({ b: 1, a: [{ d: null, c: "x" }], e: undefined })).toBe('{"a":[{"c":"x","d":null}],"b":1}');
    expect(canonicalJson({ é: 1, z: 2, "🐘": 3, "\uff21": 4 })).toBe('{"z":2,"é":1,"Ａ":4,"🐘":3}');
  });

  it("ignores the server header and the fingerprint field, and sees any content change", () => {
    const doc = minimalDoc();
    expect(CatalogSnapshotSchema.parse(doc)).toEqual(doc);
    expect(computeFingerprint(doc)).toBe(doc.fingerprint);
    const otherServer = {
      ...doc,
      server: { ...doc.server, takenAt: "2027-01-01T00:00:00Z", systemIdentifier: "1" },
      fingerprint: "0".repeat(64),
    };
    expect(computeFingerprint(otherServer)).toBe(doc.fingerprint);
    const reordered = reverseKeys(doc) as CatalogSnapshot;
    expect(Object.keys(reordered).at(-1)).toBe("kind");
    expect(computeFingerprint(reordered)).toBe(doc.fingerprint);
    expect(computeFingerprint({ ...doc, schemas: [{ name: "s", exists: true, owner: "o", acl: [] }] })).not.toBe(doc.fingerprint);
    expect(computeFingerprint({ ...doc, scope: { schemas: ["s"], privilegesFor: ["r"] } })).not.toBe(doc.fingerprint);
  });

  it("takes the fast path and the general one to the same canonical text", () => {
    const value = { b: [{ y: 1, x: [true, null] }], a: "é", "10": 1, "2": 2, c: { toJSON: () => ({ z: 1, a: 2 }) } };
    const expected = '{"10":1,"2":2,"a":"é","b":[{"x":[true,null],"y":1}],"c":{"a":2,"z":1}}';
    expect(canonicalJson(value)).toBe(expected);
    expect(canonicalJson(reverseKeys(value))).toBe(expected);
    expect(canonicalJson(JSON.parse(expected))).toBe(expected);
    expect(canonicalJson([undefined, () => 1])).toBe("[null,null]");
  });

  it("orders text by code point, whatever the locale", () => {
    const names = ["b", "B", "Ä", "a", "\uff21", "🐘", "日"];
    expect([...names].sort(compareText)).toEqual(["B", "a", "b", "Ä", "日", "\uff21", "🐘"]);
    expect([...names].sort(compareText)).toEqual(
      [...names].sort((x, y) => Buffer.compare(Buffer.from(x, "utf8"), Buffer.from(y, "utf8"))),
    );
  });
});
