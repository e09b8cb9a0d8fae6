import { type CatalogSnapshot, CatalogSnapshotSchema } from "@dieu44/catalog-snapshot/schema";
import { fromStdinToken, parseCommandLine, protectStdinDash } from "@dieu44/plumbing/cli-args";
import { ExitCode, InputError, runCli } from "@dieu44/plumbing/exit";
import { readDocument, toJsonText, writeOut } from "@dieu44/plumbing/json-io";
import yargs from "yargs";
import { hideBin } from "yargs/helpers";
import { check, diff, formatMarkdown, formatText } from "./index.js";
import { type CatalogDiff, type ExpectationResult, ExpectedDeltaSchema, type ObjectKind, ObjectKindSchema } from "./schema.js";

const FORMATS = ["json", "text", "markdown"] as const;
type Format = (typeof FORMATS)[number];

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
  const before: CatalogSnapshot = await readDocument(CatalogSnapshotSchema, args.before);
  const after: CatalogSnapshot = await readDocument(CatalogSnapshotSchema, args.after);
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

function render(document: CatalogDiff | ExpectationResult, format: Format): string {
  if (format === "text") return formatText(document);
  if (format === "markdown") return formatMarkdown(document);
  return toJsonText(document);
}

await runCli("drift-diff", async () => {
  // BEFORE, AFTER and --expect may be - (stdin), which yargs would not pass through as it is.
  const args = protectStdinDash(hideBin(process.argv));
  const parser = yargs(args)
    .scriptName("drift-diff")
    .usage(
      "$0 BEFORE AFTER [options]\n\nCompare two catalog-snapshot documents (either may be - for stdin) and optionally check the delta against an expected-delta spec.\nExit 0: no difference (or expectation met); 1: differences (or expectation violated); 2: bad input.",
    )
    .command("$0 <before> <after>", false)
    .positional("before", { type: "string", describe: "snapshot taken before (file or -)" })
    .positional("after", { type: "string", describe: "snapshot taken after (file or -)" })
    .option("scope-schema", { type: "string", array: true, default: [], describe: "only compare this schema (repeatable)" })
    .option("scope-kind", {
      type: "string",
      array: true,
      default: [],
      choices: ObjectKindSchema.options,
      describe: "only report this object kind (repeatable)",
    })
    .option("expect", { type: "string", describe: "expected-delta document to check the diff against" })
    .option("format", { choices: FORMATS, default: "json" as Format, describe: "output format" })
    .option("allow-different-clusters", {
      type: "boolean",
      default: false,
      describe: "compare snapshots of different clusters (e.g. staging against production)",
    })
    .strict();
  const argv = await parseCommandLine(parser, args);
  if (!argv) return ExitCode.Passed;
  const { document, exitCode } = await driftDiff({
    before: fromStdinToken(String(argv.before)),
    after: fromStdinToken(String(argv.after)),
    scopeSchemas: argv["scope-schema"].map(String),
    scopeKinds: argv["scope-kind"] as ObjectKind[],
    expect: argv.expect === undefined ? undefined : fromStdinToken(argv.expect),
    allowDifferentClusters: argv["allow-different-clusters"],
  });
  await writeOut(render(document, argv.format));
  return exitCode;
});
