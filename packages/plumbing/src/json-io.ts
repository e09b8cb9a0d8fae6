/**
 * Reading input from a file or `-` (stdin), JSON documents with schema validation, and writing output.
 */
import { readFile, rename, rm, writeFile } from "node:fs/promises";
import type { z } from "zod";
import { EnvironmentError, InputError } from "./exit.js";

/** Reads a whole file's bytes, or stdin when `path` is `-`. */
export async function readBytes(path: string, stdin: NodeJS.ReadableStream = process.stdin): Promise<Buffer> {
  if (path === "-") {
    const chunks: Buffer[] = [];
    for await (const chunk of stdin) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
    return Buffer.concat(chunks);
  }
  try {
    return await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new InputError(`${path}: cannot read file (${code ?? "error"})`, { cause: error });
  }
}

/** Reads a whole file as UTF-8 text, or stdin when `path` is `-`. */
export async function readText(path: string, stdin: NodeJS.ReadableStream = process.stdin): Promise<string> {
  return (await readBytes(path, stdin)).toString("utf8");
}

/** Formats a zod issue path as `a.b[3].c`. */
export function formatIssuePath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out || "(root)";
}

/** Validates parsed JSON against a schema; the error names the file and each failing field. */
export function validateDocument<S extends z.ZodType>(schema: S, value: unknown, label: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues
    .slice(0, 5)
    .map((issue) => `field ${formatIssuePath(issue.path)}: ${issue.message}`)
    .join("; ");
  const more = result.error.issues.length > 5 ? ` (and ${result.error.issues.length - 5} more)` : "";
  throw new InputError(`${label}: invalid document: ${issues}${more}`);
}

/** Parses JSON text and validates it; `label` names the source (file path or "stdin"). */
export function parseDocument<S extends z.ZodType>(schema: S, text: string, label: string): z.output<S> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new InputError(`${label}: not valid JSON (${(error as Error).message})`);
  }
  return validateDocument(schema, value, label);
}

/** Reads a JSON document from a file or `-` and validates it. */
export async function readDocument<S extends z.ZodType>(schema: S, path: string): Promise<z.output<S>> {
  const text = await readText(path);
  return parseDocument(schema, text, path === "-" ? "stdin" : path);
}

/** Canonical JSON text for documents: two-space indent and a final newline. */
export function toJsonText(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/**
 * Writes text to a stream and resolves when flushed. A closed pipe (EPIPE) resolves quietly:
 * `tool | head` is not a crash.
 */
export function writeOut(text: string, stream: NodeJS.WritableStream = process.stdout): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      if (error.code === "EPIPE") resolve();
      else reject(error);
    };
    stream.once("error", onError);
    stream.write(text, (error) => {
      stream.removeListener("error", onError);
      if (error && (error as NodeJS.ErrnoException).code !== "EPIPE") reject(error);
      else resolve();
    });
  });
}

/** Writes a file whole or not at all (a temporary file beside it, then rename). */
export async function writeFileAtomically(path: string, text: string): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    await writeFile(temporary, text, "utf8");
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    const code = (error as NodeJS.ErrnoException).code ?? "error";
    const message = `${path}: cannot write file (${code})`;
    // A path that cannot exist is the caller's mistake; a full or read-only disk is the machine's.
    if (code === "ENOENT" || code === "ENOTDIR" || code === "EISDIR") throw new InputError(message, { cause: error });
    throw new EnvironmentError(message, { cause: error });
  }
}
