/** Reading two snapshots in worker threads gives the diff of the whole documents, and the same errors. */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { diff } from "../src/index.js";
import { readSnapshotPair } from "../src/snapshot-pair.js";
import { check, column, governanceLaw, snapshot, wsq5Tables } from "./documents.js";

let dir: string;
const file = (name: string) => join(dir, name);
const inWorkers = { parallelMinBytes: 0 };

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "drift-diff-pair-"));
  const changed = wsq5Tables();
  changed[2]!.columns[1] = column(2, "label", "text", { default: "'x'::text" });
  changed[4]!.constraints.push(check("positive", "CHECK (id > 0)", ["id"]));
  changed.splice(7, 1);
  writeFileSync(file("before.json"), JSON.stringify(snapshot({ tables: [governanceLaw(), ...wsq5Tables()] })));
  writeFileSync(file("after.json"), JSON.stringify(snapshot({ tables: [...changed, governanceLaw()] })));
  writeFileSync(file("bad-field.json"), JSON.stringify({ ...snapshot({ tables: [governanceLaw()] }), fingerprint: 7 }));
});

describe("readSnapshotPair", () => {
  it("leaves out only the tables that are the same in both, so the diff is that of the whole documents", async () => {
    const [before, after] = await readSnapshotPair(file("before.json"), file("after.json"), inWorkers);
    const [wholeBefore, wholeAfter] = await readSnapshotPair(file("before.json"), file("after.json"));
    expect(wholeBefore.tables).toHaveLength(13);
    // Changed: two tables; removed: one; the other ten are identical and left out.
    expect(before.tables.map((table) => table.name).sort()).toEqual(
      [wsq5Tables()[2]!.name, wsq5Tables()[4]!.name, wsq5Tables()[7]!.name].sort(),
    );
    expect(after.tables).toHaveLength(2);
    const pruned = diff(before, after);
    const whole = diff(wholeBefore, wholeAfter);
    expect(pruned.changes.length).toBeGreaterThan(0);
    expect(pruned).toEqual(whole);
  });

  it("fails as the reader in this thread would, naming the file and field", async () => {
    const inThread = await readSnapshotPair(file("bad-field.json"), file("after.json")).catch((error: Error) => error);
    const inWorker = await readSnapshotPair(file("bad-field.json"), file("after.json"), inWorkers).catch((error: Error) => error);
    expect(inWorker).toBeInstanceOf(Error);
    expect((inWorker as Error).message).toBe((inThread as Error).message);
    expect((inWorker as Error).message).toMatch(/bad-field\.json: .*fingerprint/);
    expect((inWorker as { exitCode?: number }).exitCode).toBe(2);
  });
});
