/**
 * sql-lint FILE.sql [--policy FILE] [--format json|text|sarif] [--emit-expect] [--on-error-stop-declared]
 *
 * Prints the report (or, with --emit-expect, the derived expected delta) on stdout.
 * Exit 0 pass, 1 error findings (a syntax error included), 2 unreadable file or invalid policy.
 */
import { optionValues, parseCommandLine } from "@dieu44/plumbing/cli-args";
import { ExitCode, InputError, runCli } from "@dieu44/plumbing/exit";
import yargs, { hideBin } from "@dieu44/plumbing/yargs";
import type { SqlLintArguments } from "./command.js";

const TOOL = "sql-lint";
export const FORMATS = ["json", "text", "sarif"] as const;

async function parseArguments(argv: string[]): Promise<SqlLintArguments | null> {
  const parser = yargs(argv)
    .scriptName(TOOL)
    .usage("$0 FILE.sql [--policy FILE] [--format json|text|sarif] [--emit-expect]")
    .option("policy", { type: "string", requiresArg: true, describe: "sql-lint-policy JSON (default: the built-in policy)" })
    .option("format", { choices: FORMATS, default: "json" as const, describe: "report format" })
    .option("emit-expect", {
      type: "boolean",
      default: false,
      describe: "print the derived delta as a drift-diff expected-delta document instead of the report",
    })
    .option("scope-schema", {
      type: "string",
      requiresArg: true,
      describe: "with --emit-expect: schema the expectation covers (repeatable; default the artifact's schemas)",
    })
    .option("on-error-stop-declared", {
      type: "boolean",
      default: false,
      describe: "the invocation that will run the artifact sets ON_ERROR_STOP (psql -v ON_ERROR_STOP=1)",
    })
    .strictOptions();
  const parsed = await parseCommandLine(parser, argv);
  if (!parsed) return null;
  const positional = parsed._.map(String);
  if (positional.length !== 1) {
    throw new InputError(
      positional.length === 0 ? "give the artifact: sql-lint FILE.sql" : `unexpected argument: ${positional[1]}`,
    );
  }
  return {
    file: positional[0]!,
    policy: parsed.policy,
    format: parsed.format,
    emitExpect: parsed.emitExpect,
    onErrorStopDeclared: parsed.onErrorStopDeclared,
    scopeSchema: optionValues(parsed.scopeSchema),
  };
}

await runCli(TOOL, async () => {
  const args = await parseArguments(hideBin(process.argv));
  if (!args) return ExitCode.Passed;
  const [{ sqlLint }, { writeOut }] = await Promise.all([import("./command.js"), import("@dieu44/plumbing/json-io")]);
  const outcome = await sqlLint(args);
  if (outcome.stdout !== undefined) await writeOut(outcome.stdout);
  if (outcome.stderr !== undefined) process.stderr.write(outcome.stderr);
  return outcome.exitCode;
});
