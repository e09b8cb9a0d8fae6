/**
 * The drift-diff command as a plain async function: read both snapshots (and the expectation),
 * diff, check, render. The CLI loads this module only once the arguments parsed, so that
 * `--help` and usage errors do not pay for zod and the diff.
 */
import { type CatalogSnapshot, CatalogSnapshotSchema } from "@dieu44/catalog-snapshot/schema";
import { ExitCode, InputError } from "@dieu44/plumbing/exit";
import { readDocument, toJsonText } from "@dieu44/plumbing/json-io";
import { readDocumentsSharingElements } from "@dieu44/plumbing/json-shared";
import type { Format } from "./choices.js";
import { check, diff, formatMarkdown, formatText } from "./index.js";
import { type CatalogDiff, type ExpectationResult, ExpectedDeltaSchema, type ObjectKind } from "./schema.js";

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
  // Read as a pair: the tables the two have byte for byte the same are parsed and validated once.
  const [before, after] = (await readDocumentsSharingElements(CatalogSnapshotSchema, [args.before, args.after])) as [
    CatalogSnapshot,
    CatalogSnapshot,
  ];
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

export function render(document: CatalogDiff | ExpectationResult, format: Format): string {
  if (format === "text") return formatText(document);
  if (format === "markdown") return formatMarkdown(document);
  return toJsonText(document);
}
