/**
 * The drift-diff command as a plain async function: read both snapshots (and the expectation),
 * diff, check, render. The CLI loads this module only once the arguments parsed, so that
 * `--help` and usage errors do not pay for zod and the diff; and this module loads them only once
 * both snapshots started reading, so that the reads (on libuv's threads) and the loading (on this
 * one) overlap.
 */
import type { CatalogSnapshot, CatalogSnapshotSchema } from "@dieu44/catalog-snapshot/schema";
import { ExitCode, InputError } from "@dieu44/plumbing/exit";
import { readBytes, readDocument, sourceLabel, toJsonText } from "@dieu44/plumbing/json-io";
import type { DocumentBytes } from "@dieu44/plumbing/json-shared";
import type { Format } from "./choices.js";
import { formatMarkdown, formatText } from "./format.js";
import type { CatalogDiff, ExpectationResult, ObjectKind } from "./schema.js";

export interface DriftDiffArgs {
  before: string;
  after: string;
  scopeSchemas: string[];
  scopeKinds: ObjectKind[];
  expect?: string;
  allowDifferentClusters: boolean;
}

/** The command: read both snapshots (and the expectation), diff, check. Returns the document and its exit code. */
export async function driftDiff(args: DriftDiffArgs): Promise<{ document: CatalogDiff | ExpectationResult; exitCode: ExitCode }> {
  if (args.before === "-" && args.after === "-") throw new InputError("only one of BEFORE and AFTER can be - (stdin)");
  const paths = [args.before, args.after];
  // Files start reading now; stdin only in its turn, so that a failed file never leaves the
  // process waiting on stdin. Awaited in order below, so that which file an error names does not
  // depend on timing; until then a failed read is not an unhandled rejection.
  const reads = paths.map((path) => (path === "-" ? undefined : readBytes(path)));
  for (const read of reads) read?.catch(() => undefined);
  const [{ CatalogSnapshotSchema }, sharedReader, { check, diff, ExpectedDeltaSchema }] = await Promise.all([
    import("@dieu44/catalog-snapshot/schema"),
    import("@dieu44/plumbing/json-shared"),
    import("./index.js"),
  ]);
  const documents: DocumentBytes[] = [];
  for (const [i, path] of paths.entries()) {
    const bytes = await (reads[i] ?? readBytes(path));
    documents.push({ bytes, label: sourceLabel(path) });
  }
  const [before, after] = readPair(CatalogSnapshotSchema, documents as [DocumentBytes, DocumentBytes], sharedReader);
  const expectation = args.expect === undefined ? undefined : await readDocument(ExpectedDeltaSchema, args.expect);
  const scope = {
    ...(args.scopeSchemas.length > 0 ? { schemas: args.scopeSchemas } : {}),
    ...(args.scopeKinds.length > 0 ? { kinds: args.scopeKinds } : {}),
  };
  const result = diff(before, after, { scope, allowDifferentClusters: args.allowDifferentClusters });
  if (expectation === undefined) {
    return { document: result, exitCode: result.identical ? ExitCode.Passed : ExitCode.CheckFailed };
  }
  const outcome = check(result, expectation);
  return { document: outcome, exitCode: outcome.pass ? ExitCode.Passed : ExitCode.CheckFailed };
}

/**
 * Both snapshots, without the tables whose text is byte for byte the same in both. Those are
 * validated like the rest, but diff would find nothing to report in them (it skips tables equal
 * on both sides), so they are not kept: most of a pair's memory and collector time. Should a left-out
 * table's name also appear elsewhere (a duplicated entry, which catalog-snapshot never writes),
 * leaving it out could change what diff pairs with what, so the pair is then read whole.
 */
function readPair(
  schema: typeof CatalogSnapshotSchema,
  documents: [DocumentBytes, DocumentBytes],
  { parseDocumentPairOmittingShared, parseDocumentsSharingElements }: typeof import("@dieu44/plumbing/json-shared"),
): [CatalogSnapshot, CatalogSnapshot] {
  const tableKey = (table: { schema: string; name: string }) => `${table.schema}\u0000${table.name}`;
  const { documents: pair, omitted } = parseDocumentPairOmittingShared(schema, documents, {
    key: "tables",
    keep: (table) => tableKey(table as CatalogSnapshot["tables"][number]),
  });
  const keys = new Set(omitted as string[]);
  const unique =
    keys.size === omitted.length && pair.every((document) => document.tables.every((table) => !keys.has(tableKey(table))));
  if (unique) return pair as [CatalogSnapshot, CatalogSnapshot];
  return parseDocumentsSharingElements(schema, documents) as [CatalogSnapshot, CatalogSnapshot];
}

export function render(document: CatalogDiff | ExpectationResult, format: Format): string {
  if (format === "text") return formatText(document);
  if (format === "markdown") return formatMarkdown(document);
  return toJsonText(document);
}
