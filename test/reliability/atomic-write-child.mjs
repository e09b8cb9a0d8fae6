// Child process of faults-atomic-writes.test.ts: writes ever newer versions of one large document
// to one path through a given writer, printing "writing N" before and "wrote N" after each, until
// it is killed.
//   node atomic-write-child.mjs WRITER PATH FIRST_VERSION
// Writers: atomic (plumbing writeFileAtomically), evidence (dieu44 EvidenceFolder.writeDocument),
// marker (backup-marker writeMarker), plain (fs.writeFile: the control, expected to tear).
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { basename, dirname } from "node:path";

const [writer, path, first] = process.argv.slice(2);
const sha256 = (text) => createHash("sha256").update(text).digest("hex");

/**
 * About 2 MiB that differ from one version to the next, and their hash. Short words: redact(),
 * which the evidence writer applies to every string, is quadratic in the length of an unbroken
 * run of letters and digits (faults-atomic-writes.test.ts keeps that as a known defect).
 */
function probe(version) {
  const word = `${sha256(String(version)).slice(0, 8)} `;
  const payload = `${version}: ${word.repeat(233_000)}`;
  return { kind: "reliability-probe", formatVersion: 1, version, payloadSha256: sha256(payload), payload };
}

let write;
if (writer === "atomic") {
  const { toJsonText, writeFileAtomically } = await import("@dieu44/plumbing/json-io");
  write = (version) => writeFileAtomically(path, toJsonText(probe(version)));
} else if (writer === "evidence") {
  const { EvidenceFolder } = await import("../../apps/dieu44/dist/evidence.js");
  const folder = new EvidenceFolder(dirname(path));
  write = (version) => folder.writeDocument(basename(path), probe(version));
} else if (writer === "marker") {
  // The marker writer alone: the package's index would load pg and the rest for nothing.
  const { writeMarker } = await import("../../packages/backup-marker/dist/marker-file.js");
  const template = JSON.parse(
    readFileSync(new URL("../../packages/report-render/test/fixtures/evidence/pass/backup-marker.json", import.meta.url), "utf8"),
  );
  // The label carries the probe (the marker schema has no free-form field of its own).
  write = (version) => {
    const { payload, payloadSha256 } = probe(version);
    return writeMarker(path, { ...template, label: `${version} ${payloadSha256} ${payload}` });
  };
} else if (writer === "plain") {
  write = (version) => writeFile(path, `${JSON.stringify(probe(version), null, 2)}\n`);
} else {
  throw new Error(`unknown writer ${writer}`);
}

process.stdout.write("ready\n");
for (let version = Number(first); ; version += 1) {
  process.stdout.write(`writing ${version}\n`);
  await write(version);
  process.stdout.write(`wrote ${version}\n`);
}
