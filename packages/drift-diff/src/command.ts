/**
 * The drift-diff command as a plain async function: read both snapshots (and the expectation),
 * diff, check, render. The CLI loads this module only once the arguments parsed, so that
 * `--help` and usage errors do not pay for zod and the diff.
 */
import type { CatalogSnapshot, CatalogSnapshotSchema } from "@dieu44/catalog-snapshot/schema";
import { ExitCode, InputError } from "@dieu44/plumbing/exit";
import { readDocument, sourceLabel, toJsonText } from "@dieu44/plumbing/json-io";
import type { DocumentSource } from "@dieu44/plumbing/json-shared";
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
  const [{ CatalogSnapshotSchema }, { readDocumentPair }, { check, diff, ExpectedDeltaSchema }] = await Promise.all([
    import("@dieu44/catalog-snapshot/schema"),
    import("@dieu44/plumbing/json-shared"),
    import("./index.js"),
  ]);
  const [before, after] = await readPair(CatalogSnapshotSchema, [args.before, args.after], readDocumentPair);
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
 * Both snapshots, read side by side, without the tables whose text is byte for byte the same in
 * both (readDocumentPair's `omit`). Those are validated like the rest, but diff pairs tables by
 * qualified name and reports nothing about one equal on both sides, so they are not kept: most of
 * a pair's memory and collector time.
 */
async function readPair(
  schema: typeof CatalogSnapshotSchema,
  paths: [string, string],
  readDocumentPair: typeof import("@dieu44/plumbing/json-shared").readDocumentPair,
): Promise<[CatalogSnapshot, CatalogSnapshot]> {
  const sources = paths.map((path) => ({ path, label: sourceLabel(path) })) as [DocumentSource, DocumentSource];
  const { documents } = await readDocumentPair(schema, sources, {
    key: "tables",
    identity: (table) => {
      const { schema, name } = table as CatalogSnapshot["tables"][number];
      return `${schema}\u0000${name}`;
    },
  });
  return documents as [CatalogSnapshot, CatalogSnapshot];
}

export function render(document: CatalogDiff | ExpectationResult, format: Format): string {
  if (format === "text") return formatText(document);
  if (format === "markdown") return formatMarkdown(document);
  return toJsonText(document);
}
