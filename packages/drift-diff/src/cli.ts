import { fromStdinToken, parseCommandLine, protectStdinDash } from "@dieu44/plumbing/cli-args";
import { ExitCode, runCli } from "@dieu44/plumbing/exit";
import yargs, { hideBin } from "@dieu44/plumbing/yargs";
import { FORMATS, type Format, OBJECT_KINDS, type ObjectKind } from "./choices.js";

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
      choices: OBJECT_KINDS,
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
  const { driftDiff, render } = await import("./command.js");
  const { document, exitCode } = await driftDiff({
    before: fromStdinToken(String(argv.before)),
    after: fromStdinToken(String(argv.after)),
    scopeSchemas: argv["scope-schema"].map(String),
    scopeKinds: argv["scope-kind"] as ObjectKind[],
    expect: argv.expect === undefined ? undefined : fromStdinToken(argv.expect),
    allowDifferentClusters: argv["allow-different-clusters"],
  });
  const { writeOut } = await import("@dieu44/plumbing/json-io");
  await writeOut(render(document, argv.format));
  return exitCode;
});
