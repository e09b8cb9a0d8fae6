/**
 * Reading input from a file or `-` (stdin), JSON documents with schema validation, and writing output.
 */
import { type FileHandle, open, readFile, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { EnvironmentError, InputError } from "./exit.js";
import type { z } from "./zod.js";

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
    throw cannotRead(path, error);
  }
}

/** The error for a file that cannot be opened or read, naming it and the system's code. */
function cannotRead(path: string, error: unknown): InputError {
  const code = (error as NodeJS.ErrnoException).code;
  return new InputError(`${path}: cannot read file (${code ?? "error"})`, { cause: error });
}

/**
 * A regular file opened to be read in pieces, or the whole bytes of anything else (stdin for `-`,
 * a pipe, /proc) as readBytes reads them. Errors are readBytes's. The caller closes the file.
 */
export async function openForReading(
  path: string,
  stdin: NodeJS.ReadableStream = process.stdin,
): Promise<{ file: FileHandle; bytes?: undefined } | { bytes: Buffer; file?: undefined }> {
  if (path === "-") return { bytes: await readBytes(path, stdin) };
  let file: FileHandle;
  try {
    file = await open(path, "r");
  } catch (error) {
    throw cannotRead(path, error);
  }
  let regular = false;
  try {
    regular = (await file.stat()).isFile();
  } finally {
    if (!regular) await file.close();
  }
  return regular ? { file } : { bytes: await readBytes(path, stdin) };
}

/** How messages name what `path` reads: the path itself, or "stdin" for `-`. */
export function sourceLabel(path: string): string {
  return path === "-" ? "stdin" : path;
}

/** Reads a whole file as UTF-8 text, or stdin when `path` is `-`; invalid UTF-8 is refused. */
export async function readText(path: string, stdin: NodeJS.ReadableStream = process.stdin): Promise<string> {
  return decodeUtf8(await readBytes(path, stdin), sourceLabel(path));
}

/** 1-based line and column of a character offset, for messages a person can act on. */
export function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let index = text.indexOf("\n"); index !== -1 && index < offset; index = text.indexOf("\n", index + 1)) {
    line += 1;
    lineStart = index + 1;
  }
  return { line, column: offset - lineStart + 1 };
}

/** Byte offset of the first byte that does not belong to a well-formed UTF-8 sequence, or -1. */
export function invalidUtf8Offset(bytes: Uint8Array): number {
  let index = 0;
  while (index < bytes.length) {
    const lead = bytes[index]!;
    if (lead < 0x80) {
      index += 1;
      continue;
    }
    // The lead byte decides the length and the allowed range of the second byte (no overlongs,
    // no surrogates, nothing above U+10FFFF), as in the Unicode standard's table 3-7.
    let length: number;
    let low = 0x80;
    let high = 0xbf;
    if (lead >= 0xc2 && lead <= 0xdf) length = 2;
    else if (lead >= 0xe0 && lead <= 0xef) {
      length = 3;
      if (lead === 0xe0) low = 0xa0;
      if (lead === 0xed) high = 0x9f;
    } else if (lead >= 0xf0 && lead <= 0xf4) {
      length = 4;
      if (lead === 0xf0) low = 0x90;
      if (lead === 0xf4) high = 0x8f;
    } else return index;
    for (let next = 1; next < length; next++) {
      const byte = bytes[index + next];
      if (byte === undefined) return index;
      if (next === 1 ? byte < low || byte > high : byte < 0x80 || byte > 0xbf) return index;
    }
    index += length;
  }
  return -1;
}

/**
 * Decodes UTF-8 strictly: a byte sequence that is not UTF-8 is refused (with its offset), never
 * silently replaced with U+FFFD. A byte-order mark is kept, so that a reader can name it.
 */
export function decodeUtf8(bytes: Uint8Array, label: string): string {
  // The native decoder first (a 30 MB document in milliseconds); the byte-by-byte scan only to
  // say where a refused text goes wrong.
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch (error) {
    const offset = invalidUtf8Offset(bytes);
    if (offset !== -1) {
      const line = 1 + bytes.subarray(0, offset).filter((byte) => byte === 0x0a).length;
      const hex = bytes[offset]!.toString(16).toUpperCase().padStart(2, "0");
      throw new InputError(`${label}: not valid UTF-8 (byte 0x${hex} at byte offset ${offset}, line ${line})`);
    }
    // Well-formed, so only a text longer than a JavaScript string can hold gets here.
    throw new InputError(`${label}: too large to read as text (${bytes.length} bytes)`, { cause: error });
  }
}

/**
 * Parses JSON text; the error names the source and where the text stops being JSON (line and
 * column), without quoting the input (it may be huge or carry something private).
 */
export function parseJson(text: string, label: string): unknown {
  // A search, not trim(): trim would copy a large document that ends with a newline.
  if (!/\S/.test(text)) throw new InputError(`${label}: empty ${text.length === 0 ? "file" : "text"} (expected a JSON document)`);
  if (text.charCodeAt(0) === 0xfeff) {
    throw new InputError(`${label}: not valid JSON: starts with a byte-order mark (U+FEFF); save it as UTF-8 without BOM`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    if (!(error instanceof SyntaxError)) {
      throw new InputError(`${label}: cannot parse JSON (${(error as Error).message})`, { cause: error });
    }
    const offset = jsonErrorOffset(text);
    const { line, column } = lineAndColumn(text, offset);
    const reason =
      offset >= text.length ? "unexpected end of the text" : `unexpected ${describeCharacter(text.codePointAt(offset)!)}`;
    throw new InputError(`${label}: not valid JSON at line ${line}, column ${column}: ${reason}`);
  }
}

function describeCharacter(codePoint: number): string {
  const hex = `U+${codePoint.toString(16).toUpperCase().padStart(4, "0")}`;
  return codePoint >= 0x21 && codePoint <= 0x7e ? `character '${String.fromCodePoint(codePoint)}'` : `character ${hex}`;
}

/**
 * Offset of the first character where `text` stops being JSON (text.length when it ends too
 * early). Only called after JSON.parse failed, whose messages do not always carry a position.
 * Iterative, so that deeply nested input cannot exhaust the stack.
 */
export function jsonErrorOffset(text: string): number {
  const isSpace = (code: number) => code === 0x20 || code === 0x0a || code === 0x0d || code === 0x09;
  let index = 0;
  const skipSpace = () => {
    while (index < text.length && isSpace(text.charCodeAt(index))) index++;
  };
  /** Scans a string starting at the quote; returns false at the offending character. */
  const scanString = (): boolean => {
    index++;
    while (index < text.length) {
      const code = text.charCodeAt(index);
      if (code === 0x22) {
        index++;
        return true;
      }
      if (code < 0x20) return false;
      if (code === 0x5c) {
        const escaped = text[index + 1];
        if (escaped === undefined) {
          index++;
          return false;
        }
        if (escaped === "u") {
          for (let digit = 2; digit < 6; digit++) {
            if (!/[0-9a-fA-F]/.test(text[index + digit] ?? "")) {
              index += Math.min(digit, text.length - index);
              return false;
            }
          }
          index += 6;
          continue;
        }
        if (!'"\\/bfnrt'.includes(escaped)) {
          index++;
          return false;
        }
        index += 2;
        continue;
      }
      index++;
    }
    return false;
  };
  const number = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
  const stack: ("array" | "object")[] = [];
  /** Scans one scalar, or the opening bracket of a container (pushed); false at the offending character. */
  const scanValue = (): boolean => {
    skipSpace();
    const char = text[index];
    if (char === "{" || char === "[") {
      stack.push(char === "{" ? "object" : "array");
      index++;
      return true;
    }
    if (char === '"') return scanString();
    for (const literal of ["true", "false", "null"]) {
      if (text.startsWith(literal, index)) {
        index += literal.length;
        return true;
      }
    }
    number.lastIndex = index;
    const match = number.exec(text);
    if (match) {
      index += match[0].length;
      // "01", "1.", "1e": JSON.parse refuses digits or a dot right after the number.
      return !/[0-9.eE]/.test(text[index] ?? "");
    }
    return false;
  };
  if (!scanValue()) return index;
  // `opened`: the innermost container was just opened, so it may close at once or take a first member.
  let opened = stack.length > 0;
  while (stack.length > 0) {
    skipSpace();
    const container = stack[stack.length - 1];
    const char = text[index];
    const closing = container === "object" ? "}" : "]";
    if (char === closing && opened) {
      stack.pop();
      index++;
      opened = false;
      continue;
    }
    if (!opened) {
      if (char === closing) {
        stack.pop();
        index++;
        continue;
      }
      if (char !== ",") return index;
      index++;
    }
    if (container === "object") {
      skipSpace();
      if (text[index] !== '"' || !scanString()) return index;
      skipSpace();
      if (text[index] !== ":") return index;
      index++;
    }
    const depth = stack.length;
    if (!scanValue()) return index;
    opened = stack.length > depth;
  }
  skipSpace();
  return index;
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

/**
 * How deeply a document may nest. The tools' documents nest about ten levels; validation and the
 * readers recurse, so a document nested thousands of levels deep would exhaust the stack.
 */
export const MAX_DOCUMENT_DEPTH = 256;

/** Whether any value is nested `limit` levels deep: a cheap first pass (every document read takes it). */
function exceedsDepth(value: unknown, limit: number): boolean {
  if (value === null || typeof value !== "object") return false;
  const values: object[] = [value];
  const depths: number[] = [0];
  while (values.length > 0) {
    const current = values.pop() as object;
    const depth = depths.pop()!;
    if (depth >= limit) return true;
    // Parsed JSON: plain objects, no inherited enumerable keys, so for-in is safe (and the fastest).
    if (Array.isArray(current)) {
      for (const child of current) {
        if (child !== null && typeof child === "object") {
          values.push(child);
          depths.push(depth + 1);
        }
      }
    } else {
      for (const key in current) {
        const child = (current as Record<string, unknown>)[key];
        if (child !== null && typeof child === "object") {
          values.push(child);
          depths.push(depth + 1);
        }
      }
    }
  }
  return false;
}

/** The path of the first value nested deeper than `limit`, or null (iterative: never recurses). */
export function tooDeepPath(value: unknown, limit = MAX_DOCUMENT_DEPTH): PropertyKey[] | null {
  if (!exceedsDepth(value, limit)) return null;
  // Only for a document being refused: one frame per container, linked to its parent, so the
  // path is built for the value that is too deep alone.
  interface Frame {
    value: object;
    depth: number;
    key: PropertyKey;
    parent: Frame | null;
  }
  if (value === null || typeof value !== "object") return null;
  const stack: Frame[] = [{ value, depth: 0, key: "", parent: null }];
  while (stack.length > 0) {
    const frame = stack.pop()!;
    if (frame.depth >= limit) {
      const path: PropertyKey[] = [];
      for (let at: Frame | null = frame; at?.parent; at = at.parent) path.push(at.key);
      return path.reverse();
    }
    const push = (child: unknown, key: PropertyKey) => {
      if (child !== null && typeof child === "object") stack.push({ value: child, depth: frame.depth + 1, key, parent: frame });
    };
    if (Array.isArray(frame.value)) frame.value.forEach(push);
    else for (const key of Object.keys(frame.value)) push((frame.value as Record<string, unknown>)[key], key);
  }
  return null;
}

/** Validates parsed JSON against a schema; the error names the file and each failing field. */
export function validateDocument<S extends z.ZodType>(schema: S, value: unknown, label: string): z.output<S> {
  const deep = tooDeepPath(value);
  if (deep) {
    throw new InputError(
      `${label}: invalid document: field ${formatIssuePath(deep.slice(0, 8))}...: nested more than ${MAX_DOCUMENT_DEPTH} levels deep`,
    );
  }
  let result: z.ZodSafeParseResult<z.output<S>>;
  try {
    result = schema.safeParse(value);
  } catch (error) {
    // A schema with a recursive part (z.json()) recurses as deep as the value.
    if (error instanceof RangeError) throw new InputError(`${label}: invalid document: too deeply nested to validate`);
    throw error;
  }
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
  return validateDocument(schema, parseJson(text, label), label);
}

/** Reads a JSON document from a file or `-` and validates it. */
export async function readDocument<S extends z.ZodType>(schema: S, path: string): Promise<z.output<S>> {
  const text = await readText(path);
  return parseDocument(schema, text, sourceLabel(path));
}

/** Canonical JSON text for documents: two-space indent and a final newline. */
export function toJsonText(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/**
 * Writes text (or bytes) to a stream and resolves when flushed: true, or false when the reader is
 * gone. A closed pipe (EPIPE) is not an error: `tool | head` is not a crash.
 */
export function writeOut(text: string | Uint8Array, stream: NodeJS.WritableStream = process.stdout): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      if (error.code === "EPIPE") resolve(false);
      else reject(error);
    };
    stream.once("error", onError);
    stream.write(text, (error) => {
      stream.removeListener("error", onError);
      if (!error) resolve(true);
      else if ((error as NodeJS.ErrnoException).code === "EPIPE") resolve(false);
      else reject(error);
    });
  });
}

/**
 * writeOut for text made piece by piece (a document too large to be one string), in writes of
 * about a megabyte; stops quietly when the reader is gone.
 */
export async function writeChunksOut(
  chunks: Iterable<string> | AsyncIterable<string>,
  stream: NodeJS.WritableStream = process.stdout,
): Promise<void> {
  await writeEncoded(chunks, (bytes) => writeOut(bytes, stream));
}

const WRITE_BUFFER_BYTES = 1 << 20;
const utf8Encoder = new TextEncoder();

/**
 * Encodes text made piece by piece (pieces of any size) as UTF-8 into one reused buffer, and hands
 * each full buffer, then the rest, to `write`, which is done with the bytes when it resolves (to
 * false: stop, the reader is gone). One buffer for the whole output, not one string and one
 * buffer per megabyte: fresh memory is what a large document's output cost most (a page's first
 * touch), and pages of the buffer a small text does not reach are never touched.
 */
async function writeEncoded(
  chunks: Iterable<string> | AsyncIterable<string>,
  write: (bytes: Uint8Array) => Promise<boolean>,
): Promise<void> {
  // Not zeroed: only bytes encodeInto has just written are ever handed out.
  const buffer = Buffer.allocUnsafe(WRITE_BUFFER_BYTES);
  let used = 0;
  for await (const chunk of chunks) {
    let rest = chunk;
    while (rest.length > 0) {
      // Stops short at a full buffer, never inside a character.
      const { read, written } = utf8Encoder.encodeInto(rest, buffer.subarray(used));
      used += written;
      rest = rest.slice(read);
      if (rest.length > 0) {
        if (!(await write(buffer.subarray(0, used)))) return;
        used = 0;
      }
    }
  }
  if (used > 0) await write(buffer.subarray(0, used));
}

/** Tells apart the temporary files of concurrent writes from one process. */
let temporaryCounter = 0;

/**
 * Writes a file so that a reader (or a crash) sees the previous content or the new one, never
 * part of it: a temporary file beside the target, flushed to disk, then renamed over it. A
 * process killed mid-write leaves at most its temporary file (`.<name>.<pid>-<n>.tmp`) behind.
 */
export async function writeFileAtomically(path: string, text: string): Promise<void> {
  await writeChunksAtomically(path, [text]);
}

/**
 * writeFileAtomically for text made piece by piece (a document too large to be one string): each
 * megabyte is written as it comes, then the whole is flushed and renamed, as writeFileAtomically
 * does. `patch`, called once every piece is written, returns bytes to write over what is at their
 * offsets before the flush: a value known only at the end (a hash of the text) put at the top.
 */
export async function writeChunksAtomically(
  path: string,
  chunks: Iterable<string> | AsyncIterable<string>,
  patch?: () => { offset: number; bytes: Uint8Array }[],
): Promise<void> {
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}-${++temporaryCounter}.tmp`);
  try {
    const file = await open(temporary, "wx");
    try {
      await writeEncoded(chunks, async (bytes) => {
        // writeFile on a handle writes all the bytes from the current position (no short writes).
        await file.writeFile(bytes);
        return true;
      });
      for (const { offset, bytes } of patch?.() ?? []) {
        let written = 0;
        while (written < bytes.length) {
          const { bytesWritten } = await file.write(bytes, written, bytes.length - written, offset + written);
          if (bytesWritten === 0) throw new EnvironmentError(`${path}: cannot write file (no progress)`);
          written += bytesWritten;
        }
      }
      // Flushed before the rename: after a power loss the name points at the whole new text.
      await file.sync();
    } finally {
      await file.close();
    }
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
