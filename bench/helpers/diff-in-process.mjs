// drift-diff's library diff() alone, on two snapshot files read once as a pair, whole (readDocumentPair
// without `omit`: tables byte for byte the same are parsed and validated once, and shared): the
// secondary figure of the drift-diff pair (the CLI end to end is the primary one).
//   node bench/helpers/diff-in-process.mjs BEFORE.json AFTER.json REPEATS   -> JSON on stdout
import { CatalogSnapshotSchema } from "@dieu44/catalog-snapshot/schema";
import { diff } from "@dieu44/drift-diff";
import { readDocumentPair } from "@dieu44/plumbing/json-shared";

const [beforeFile, afterFile, repeats = "11"] = process.argv.slice(2);
const readStart = performance.now();
const {
  documents: [before, after],
} = await readDocumentPair(CatalogSnapshotSchema, [
  { path: beforeFile, label: beforeFile },
  { path: afterFile, label: afterFile },
]);
const readSeconds = (performance.now() - readStart) / 1000;
const diffSeconds = [];
let result;
for (let i = 0; i < Number(repeats); i += 1) {
  const start = performance.now();
  result = diff(before, after);
  diffSeconds.push((performance.now() - start) / 1000);
}
process.stdout.write(
  `${JSON.stringify({ readSeconds, diffSeconds, changes: result.changes.length, summary: result.summary.byKind })}\n`,
);
