/**
 * report-render [--template NAME|FILE] [--data FILE|-]... [--out FILE] [--templates DIR]
 * report-render bundle EVIDENCE_DIR [--out DIR] [--templates DIR]
 *
 * The first form renders each document (default: stdin) with the template, or with the template
 * named after its kind, to stdout or --out. `bundle` writes the procedure's three markdown files
 * into --out (default: the evidence folder) and prints their names and sha256 as JSON, with
 * whether each matches the file of that name the manifest lists (rendered when the app ran).
 */
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { optionValues, parseCommandLine } from "@dieu44/plumbing/cli-args";
import { ExitCode, InputError, runCli, ToolError } from "@dieu44/plumbing/exit";
import { parseDocument, readText, toJsonText, writeFileAtomically, writeOut } from "@dieu44/plumbing/json-io";
import yargs from "yargs";
import { hideBin } from "yargs/helpers";
import { renderBundle, renderDocuments } from "./index.js";
import { EvidenceManifestSchema, MANIFEST_FILE } from "./schema.js";

const TOOL = "report-render";

type Arguments =
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

async function renderCommand(args: Extract<Arguments, { command: "render" }>): Promise<void> {
  if (args.data.filter((path) => path === "-").length > 1) throw new InputError("--data - (stdin) may be given once");
  const documents: { label: string; data: unknown }[] = [];
  for (const path of args.data) {
    const label = path === "-" ? "stdin" : path;
    const text = await readText(path);
    try {
      documents.push({ label, data: JSON.parse(text) });
    } catch (error) {
      throw new InputError(`${label}: not valid JSON (${(error as Error).message})`);
    }
  }
  const text = renderDocuments(args.template, documents, { templatesDir: args.templates });
  if (args.out && args.out !== "-") await writeFileAtomically(args.out, text);
  else await writeOut(text);
}

/**
 * Renders into --out (default: the evidence folder). When the manifest already lists a file of
 * the same name (markdown rendered when the evidence was written), the output reports whether the
 * new rendering matches it; inside the evidence folder a differing file is never overwritten (exit 1).
 */
async function bundleCommand(args: Extract<Arguments, { command: "bundle" }>): Promise<ExitCode> {
  const { files } = renderBundle(args.evidenceDir, { templatesDir: args.templates });
  const manifest = parseDocument(
    EvidenceManifestSchema,
    readFileSync(join(args.evidenceDir, MANIFEST_FILE), "utf8"),
    join(args.evidenceDir, MANIFEST_FILE),
  );
  const outDir = args.out ?? args.evidenceDir;
  const intoEvidence = resolve(outDir) === resolve(args.evidenceDir);
  const outputs = files.map((file) => {
    const sha256 = createHash("sha256").update(file.content, "utf8").digest("hex");
    const listed = manifest.files.find((entry) => entry.name === file.name)?.sha256 ?? null;
    return { file, sha256, listed };
  });
  const changed = outputs.filter((output) => output.listed !== null && output.listed !== output.sha256);
  if (intoEvidence && changed.length > 0) {
    const names = changed.map((output) => output.file.name).join(", ");
    throw new ToolError(
      `${names}: the rendering differs from the file ${MANIFEST_FILE} lists; not overwritten (render elsewhere with --out DIR to compare)`,
      ExitCode.CheckFailed,
    );
  }
  mkdirSync(outDir, { recursive: true });
  const written = [];
  for (const { file, sha256, listed } of outputs) {
    const path = join(outDir, file.name);
    await writeFileAtomically(path, file.content);
    written.push({
      name: file.name,
      path,
      bytes: Buffer.byteLength(file.content, "utf8"),
      sha256,
      listedSha256: listed,
      matchesListed: listed === null ? null : listed === sha256,
    });
  }
  await writeOut(toJsonText({ files: written }));
  return ExitCode.Passed;
}

await runCli(TOOL, async () => {
  const args = await parseArguments(hideBin(process.argv));
  if (!args) return ExitCode.Passed;
  if (args.command === "bundle") return bundleCommand(args);
  await renderCommand(args);
  return ExitCode.Passed;
});
