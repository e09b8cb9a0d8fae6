/**
 * Writing a large document without building its whole text: the same bytes as
 * `JSON.stringify(doc) + "\n"` (or, pretty, `JSON.stringify(doc, null, 2) + "\n"`, toJsonText),
 * produced one run of list elements at a time.
 */
import { writeChunksAtomically, writeChunksOut } from "@dieu44/plumbing/json-io";
import {
  ELEMENTS_PER_PIECE,
  FingerprintWhileWriting,
  fingerprintOfBuiltDocument,
  memberValueTexts,
  printedMember,
  type SnapshotContent,
  withFingerprint,
} from "./fingerprint.js";

const INDENT = "  ";

/**
 * Pretty JSON of consecutive elements of a top-level list, as they appear in the document (each
 * indented four spaces, separated by ",\n"). Wrapping them in an array inside an array lets
 * JSON.stringify do the indenting: "[\n  [\n" + elements + "\n  ]\n]".
 */
function elementsText(elements: readonly unknown[]): string {
  return JSON.stringify([elements], null, 2).slice(6, -6);
}

/** Pretty JSON of a top-level member's value (depth 1), without leading indentation. */
function memberText(value: unknown): string {
  return JSON.stringify([value], null, 2).slice(4, -2);
}

/** Pieces whose concatenation equals toJsonText(doc); top-level lists are split into runs of elements. */
export function* jsonTextPieces(doc: object): Generator<string> {
  const members = Object.entries(doc).filter(([, value]) => printedMember(value));
  if (members.length === 0) {
    yield "{}\n";
    return;
  }
  yield "{\n";
  for (let m = 0; m < members.length; m += 1) {
    const [key, value] = members[m] as [string, unknown];
    const tail = m < members.length - 1 ? ",\n" : "\n";
    if (Array.isArray(value) && value.length > 0) {
      yield `${INDENT}${JSON.stringify(key)}: [\n`;
      for (let start = 0; start < value.length; start += ELEMENTS_PER_PIECE) {
        const end = Math.min(start + ELEMENTS_PER_PIECE, value.length);
        yield `${elementsText(value.slice(start, end))}${end < value.length ? ",\n" : "\n"}`;
      }
      yield `${INDENT}]${tail}`;
    } else {
      yield `${INDENT}${JSON.stringify(key)}: ${memberText(value)}${tail}`;
    }
  }
  yield "}\n";
}

/**
 * Pieces whose concatenation equals `JSON.stringify(doc) + "\n"`; top-level lists are split into
 * runs of elements. `valueTexts` gives a member's value's texts (default memberValueTexts).
 */
export function* compactJsonTextPieces(
  doc: object,
  valueTexts: (key: string, value: unknown) => Iterable<string> = (_key, value) => memberValueTexts(value),
): Generator<string> {
  const members = Object.entries(doc).filter(([, value]) => printedMember(value));
  yield "{";
  for (let m = 0; m < members.length; m += 1) {
    const [key, value] = members[m] as [string, unknown];
    yield `${m > 0 ? "," : ""}${JSON.stringify(key)}:`;
    yield* valueTexts(key, value);
  }
  yield "}\n";
}

/**
 * Writes a snapshot as JSON (compact unless `pretty`) to a file (replaced atomically and flushed:
 * plumbing's writeChunksAtomically) or, with no path or "-", to stdout, and returns its
 * fingerprint. Compact by default: a 10,000-table snapshot is 30 MB instead of 52 MB, and every
 * reader parses it faster. A compact file is serialised once: its fingerprint is hashed from the
 * texts being written (FingerprintWhileWriting), written as a placeholder and filled in before
 * the file is flushed and renamed. Elsewhere the fingerprint has to come first, from a pass of its
 * own.
 */
export async function writeSnapshot(
  content: SnapshotContent,
  path?: string,
  options: { pretty?: boolean } = {},
): Promise<string> {
  const toFile = path !== undefined && path !== "-";
  if (options.pretty || !toFile) {
    const fingerprint = fingerprintOfBuiltDocument(content);
    const doc = withFingerprint(content, fingerprint);
    const pieces = options.pretty ? jsonTextPieces(doc) : compactJsonTextPieces(doc);
    if (toFile) await writeChunksAtomically(path, pieces);
    else await writeChunksOut(pieces);
    return fingerprint;
  }
  // The fingerprint member holds a placeholder, filled in once the rest is written and hashed.
  const doc = withFingerprint(content, "0".repeat(64));
  const hashing = new FingerprintWhileWriting(doc);
  const pieces = compactJsonTextPieces(doc, (key) => hashing.memberTexts(key));
  // The text before the fingerprint's hex digits (kind and formatVersion come first): its byte length is their offset.
  const head = `{"kind":${JSON.stringify(doc.kind)},"formatVersion":${JSON.stringify(doc.formatVersion)},"fingerprint":"`;
  let fingerprint = "";
  await writeChunksAtomically(path, pieces, () => {
    fingerprint = hashing.digest();
    return [{ offset: Buffer.byteLength(head), bytes: Buffer.from(fingerprint, "latin1") }];
  });
  return fingerprint;
}
