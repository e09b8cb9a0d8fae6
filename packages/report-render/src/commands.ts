/**
 * The report-render commands (render, bundle) behind the command line. The CLI loads this module
 * only once the arguments parsed, so that --help does not pay for handlebars and zod.
 */
import { createHash } from "node:crypto";
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { ExitCode, InputError, ToolError } from "@dieu44/plumbing/exit";
import { parseJson, readText, sourceLabel, toJsonText, writeFileAtomically, writeOut } from "@dieu44/plumbing/json-io";
import type { Arguments } from "./cli.js";
import { renderBundle, renderDocuments } from "./index.js";
import { MANIFEST_FILE } from "./schema.js";

export async function renderCommand(args: Extract<Arguments, { command: "render" }>): Promise<void> {
  if (args.data.filter((path) => path === "-").length > 1) throw new InputError("--data - (stdin) may be given once");
  const documents: { label: string; data: unknown }[] = [];
  for (const path of args.data) {
    const label = sourceLabel(path);
    documents.push({ label, data: parseJson(await readText(path), label) });
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
export async function bundleCommand(args: Extract<Arguments, { command: "bundle" }>): Promise<ExitCode> {
  const { files, manifest } = renderBundle(args.evidenceDir, { templatesDir: args.templates });
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
