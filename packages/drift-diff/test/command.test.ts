import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CatalogSnapshotSchema } from "@dieu44/catalog-snapshot/schema";
import { parseDocument } from "@dieu44/plumbing/json-io";
import { afterAll, describe, expect, it } from "vitest";
import { type DriftDiffArgs, driftDiff } from "../src/command.js";
import { diff } from "../src/index.js";
import { column, snapshot, table } from "./documents.js";

const dir = mkdtempSync(join(tmpdir(), "drift-diff-command-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, document: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(document));
  return path;
}
const args = (before: string, after: string): DriftDiffArgs => ({
  before,
  after,
  scopeSchemas: [],
  scopeKinds: [],
  allowDifferentClusters: false,
});
/** What diff() gives on both files read whole, one at a time. */
function plainDiff(before: unknown, after: unknown) {
  const read = (document: unknown, label: string) => parseDocument(CatalogSnapshotSchema, JSON.stringify(document), label);
  return diff(read(before, "before"), read(after, "after"));
}

const s = "cutter_governance";
const tables = Array.from({ length: 40 }, (_, i) => table(s, `t${String(i).padStart(2, "0")}`));

describe("driftDiff reading the pair (unchanged tables read, validated, and not kept)", () => {
  it("reports what diff() on the whole documents reports", async () => {
    const changed = tables.map((t, i) => (i === 7 ? { ...t, columns: [...t.columns, column(3, "extra", "text")] } : t));
    const after = [...changed.filter((_, i) => i !== 30), table(s, "t99")];
    const before = snapshot({ tables });
    const afterDocument = snapshot({ tables: after });
    const { document, exitCode } = await driftDiff(args(write("a.json", before), write("b.json", afterDocument)));
    expect(exitCode).toBe(1);
    expect(document).toEqual(plainDiff(before, afterDocument));
    expect(document).toMatchObject({
      summary: { byKind: { table: { added: 1, removed: 1, changed: 0 }, column: { added: 3 } } },
    });
  });

  it("reads the pair whole when a table appears twice, so that diff pairs the same tables", async () => {
    // Not something catalog-snapshot writes: a table listed twice, once as it is in the other file.
    const twice = [...tables.slice(0, 5), { ...tables[4]!, owner: "someone_else" }, ...tables.slice(5)];
    const before = snapshot({ tables: twice });
    const afterDocument = snapshot({ tables });
    const { document } = await driftDiff(args(write("c.json", before), write("d.json", afterDocument)));
    expect(document).toEqual(plainDiff(before, afterDocument));
  });

  it("validates the tables both files share: a bad one is refused, naming the first file", async () => {
    const bad = snapshot({ tables }) as unknown as { tables: Record<string, unknown>[] };
    bad.tables[12] = { ...bad.tables[12], owner: 3 };
    const before = write("e.json", bad);
    await expect(driftDiff(args(before, write("f.json", bad)))).rejects.toThrow(
      /e\.json: invalid document: field tables\[12\]\.owner/,
    );
  });
});
