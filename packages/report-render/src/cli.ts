/**
 * report-render [--template NAME|FILE] [--data FILE|-]... [--out FILE] [--templates DIR]
 * report-render bundle EVIDENCE_DIR [--out DIR] [--templates DIR]
 *
 * The first form renders each document (default: stdin) with the template, or with the template
 * named after its kind, to stdout or --out. `bundle` writes the procedure's three markdown files
 * into --out (default: the evidence folder) and prints their names and sha256 as JSON, with
 * whether each matches the file of that name the manifest lists (rendered when the app ran).
 */
import { optionValues, parseCommandLine } from "@dieu44/plumbing/cli-args";
import { ExitCode, InputError, runCli } from "@dieu44/plumbing/exit";
import yargs, { hideBin } from "@dieu44/plumbing/yargs";

const TOOL = "report-render";

export type Arguments =
  | { command: "render"; template: string | null; data: string[]; out?: string; templates?: string }
  | { command: "bundle"; evidenceDir: string; out?: string; templates?: string };

/** Parses argv; usage errors become InputError (exit 2). Returns null when --help was printed. */
async function parseArguments(argv: string[]): Promise<Arguments | null> {
  const parser = yargs(argv)
    .scriptName(TOOL)
    .usage(
      "$0 [--template NAME|FILE] [--data FILE|-]... [--out FILE] [--templates DIR]\n$0 bundle EVIDENCE_DIR [--out DIR] [--templates DIR]",
    )
    .command("bundle <evidence-dir>", "render the procedure's execution log, verification result and report", (command) =>
      command.positional("evidence-dir", { type: "string", describe: "folder with manifest.json and procedure-result.json" }),
    )
    .option("template", {
      type: "string",
      requiresArg: true,
      describe: "template name in the templates folder, or a .hbs file (default: the document's kind)",
    })
    .option("data", { type: "string", requiresArg: true, describe: "JSON document to render, - for stdin (repeatable)" })
    .option("out", { type: "string", requiresArg: true, describe: "output file (render) or folder (bundle)" })
    .option("templates", {
      type: "string",
      requiresArg: true,
      describe: "folder whose NAME.hbs and partials/*.hbs override the default templates",
    })
    .strict();
  const parsed = await parseCommandLine(parser, argv);
  if (!parsed) return null;
  const out = parsed.out === undefined ? undefined : String(parsed.out);
  const templates = parsed.templates === undefined ? undefined : String(parsed.templates);
  if (parsed._[0] === "bundle") {
    if (parsed._.length > 1) throw new InputError(`unexpected argument: ${String(parsed._[1])}`);
    if (parsed.template !== undefined || parsed.data !== undefined) throw new InputError("bundle takes no --template or --data");
    return { command: "bundle", evidenceDir: String(parsed.evidenceDir), out, templates };
  }
  if (parsed._.length > 0) throw new InputError(`unexpected argument: ${String(parsed._[0])}`);
  const template = optionValues(parsed.template);
  if (template.length > 1) throw new InputError("--template may be given once");
  const data = optionValues(parsed.data);
  return { command: "render", template: template[0] ?? null, data: data.length > 0 ? data : ["-"], out, templates };
}

await runCli(TOOL, async () => {
  const args = await parseArguments(hideBin(process.argv));
  if (!args) return ExitCode.Passed;
  const { bundleCommand, renderCommand } = await import("./commands.js");
  if (args.command === "bundle") return bundleCommand(args);
  await renderCommand(args);
  return ExitCode.Passed;
});
