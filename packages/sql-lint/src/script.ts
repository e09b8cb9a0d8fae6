/**
 * Splitting a psql script into statements with the real PostgreSQL parser.
 *
 * psql meta-commands (`\set ON_ERROR_STOP on`) are syntax errors to the server's parser, so a
 * psql-like lexer finds them first (only outside literals, quoted identifiers, dollar quotes and
 * comments) and blanks them with spaces, keeping every byte offset. libpg-query then parses the
 * blanked text; its stmt_location/stmt_len are UTF-8 byte offsets, which are mapped back to lines
 * and columns of the original file. The lexer never decides where a statement starts or ends:
 * the parser does; the lexer only skips whitespace and comments around what the parser returned.
 */
import { isAscii } from "node:buffer";
import { type Node, parse, type RawStmt } from "libpg-query";
import { commandTag, nodeKind } from "./statements.js";

export interface ScriptStatement {
  /** 0-based position among the script's statements. */
  index: number;
  /**
   * The statement's source from its first token to its last, without the terminating semicolon
   * and without surrounding whitespace and comments. Meta-commands inside it are blanked.
   */
  text: string;
  /** UTF-8 byte offset of the first token in the file. */
  byteStart: number;
  /** UTF-8 byte offset just after the last token (exclusive). */
  byteEnd: number;
  /** 1-based line of the first token in the original file. */
  line: number;
  /** 1-based column of the first token (UTF-16 code units, as SARIF counts by default). */
  column: number;
  /** 1-based line of the last token. */
  endLine: number;
  /** 1-based column just after the last token. */
  endColumn: number;
  /** libpg-query node type, e.g. "CreateStmt", "TransactionStmt". */
  kind: string;
  /** Human command tag, e.g. "CREATE TABLE", "BEGIN", "COMMIT". */
  tag: string;
}

export interface MetaCommand {
  /** 1-based line. */
  line: number;
  /** 1-based column of the backslash. */
  column: number;
  /** The meta-command as written, from the backslash to the end of its arguments. */
  text: string;
  /** The command name without the backslash, e.g. "set", "echo". */
  command: string;
  /** Arguments as psql reads them (single quotes removed and unescaped; others kept). */
  args: string[];
  /** True when it sits inside a statement that psql is still collecting. */
  insideStatement: boolean;
}

export interface SplitScript {
  statements: ScriptStatement[];
  metaCommands: MetaCommand[];
  /** ON_ERROR_STOP is on (\set ON_ERROR_STOP on|1|true|...) before the first statement and never turned off. */
  onErrorStop: boolean;
}

/** The script has a syntax error; line and column are 1-based positions in the original file. */
export class SqlSyntaxError extends Error {
  constructor(
    message: string,
    readonly line: number,
    readonly column: number,
    readonly byteOffset: number,
  ) {
    super(message);
    this.name = "SqlSyntaxError";
  }
}

/** A parsed script: statements with their parse trees, kept for the linter. */
export interface ParsedScript extends SplitScript {
  /** Parse tree of each statement, in the order of `statements`. */
  trees: Node[];
  /** The file's bytes as given (the sha256 is computed over these). */
  bytes: Uint8Array;
  /** Byte offset → line and column in the original file. */
  positions: PositionMap;
  /** Version of the PostgreSQL grammar that parsed it (e.g. 180004). */
  parserVersion: number | null;
}

const SPACE = 0x20;
const NEWLINE = 0x0a;
const BACKSLASH = 0x5c;

const utf8 = new TextDecoder("utf-8", { fatal: true });
const encoder = new TextEncoder();

/** Splits a psql script into statements and meta-commands. Throws SqlSyntaxError on a parse error. */
export async function splitScript(source: string | Uint8Array): Promise<SplitScript> {
  const { statements, metaCommands, onErrorStop } = await parseScript(source);
  return { statements, metaCommands, onErrorStop };
}

/** Like splitScript, and also returns each statement's parse tree. */
export async function parseScript(source: string | Uint8Array): Promise<ParsedScript> {
  const bytes = typeof source === "string" ? encoder.encode(source) : source;
  const positions = new PositionMap(bytes);
  let original: string;
  try {
    original = utf8.decode(bytes);
  } catch {
    const offset = firstInvalidUtf8(bytes);
    const at = positions.at(offset);
    throw new SqlSyntaxError("the file is not valid UTF-8", at.line, at.column, offset);
  }
  // The parser reads the script as a C string: at a NUL byte it would stop, and every statement
  // after it would go unchecked. PostgreSQL refuses a NUL in a query anyway.
  const nul = bytes.indexOf(0);
  if (nul !== -1) {
    const at = positions.at(nul);
    throw new SqlSyntaxError("the file contains a NUL byte (0x00), which no SQL text may hold", at.line, at.column, nul);
  }
  const lexed = lexScript(bytes);
  const blanked = lexed.blanked === bytes ? original : Buffer.from(lexed.blanked).toString("utf8");

  const { statements: rawStatements, version } = await parseText(blanked, positions, bytes.length);
  const statements: ScriptStatement[] = [];
  const trees: Node[] = [];
  const sourceBytes = lexed.blanked;
  for (const raw of rawStatements) {
    const start = raw.stmt_location ?? 0;
    const end = raw.stmt_len ? start + raw.stmt_len : bytes.length;
    const byteStart = skipForward(sourceBytes, start, end, lexed.commentEnds);
    const byteEnd = skipBackward(sourceBytes, byteStart, end, lexed.commentStarts);
    const tree = raw.stmt;
    if (!tree) continue;
    const kind = nodeKind(tree);
    const from = positions.at(byteStart);
    const to = positions.at(byteEnd);
    statements.push({
      index: statements.length,
      text: Buffer.from(sourceBytes.subarray(byteStart, byteEnd)).toString("utf8"),
      byteStart,
      byteEnd,
      line: from.line,
      column: from.column,
      endLine: to.line,
      endColumn: to.column,
      kind,
      tag: commandTag(tree),
    });
    trees.push(tree);
  }

  const metaCommands = lexed.metaCommands.map((meta) => {
    const at = positions.at(meta.start);
    const insideStatement = isInsideStatement(statements, meta.start);
    return {
      line: at.line,
      column: at.column,
      text: Buffer.from(bytes.subarray(meta.start, meta.end)).toString("utf8"),
      command: meta.command,
      args: meta.args,
      insideStatement,
    };
  });
  const firstStatementAt = statements[0]?.byteStart ?? bytes.length;
  const lastStatementAt = statements.at(-1)?.byteStart ?? bytes.length;
  return {
    statements,
    metaCommands,
    onErrorStop: onErrorStopInEffect(lexed.metaCommands, firstStatementAt, lastStatementAt),
    trees,
    bytes,
    positions,
    parserVersion: version,
  };
}

/** Whether a byte offset lies strictly inside one of the statements (sorted by position). */
function isInsideStatement(statements: ScriptStatement[], offset: number): boolean {
  let low = 0;
  let high = statements.length - 1;
  while (low <= high) {
    const mid = (low + high) >> 1;
    const statement = statements[mid]!;
    if (offset <= statement.byteStart) high = mid - 1;
    else if (offset >= statement.byteEnd) low = mid + 1;
    else return true;
  }
  return false;
}

async function parseText(
  text: string,
  positions: PositionMap,
  byteLength: number,
): Promise<{ statements: RawStmt[]; version: number | null }> {
  if (isBlank(text)) return { statements: [], version: null };
  try {
    const result = await parse(text);
    return { statements: result.stmts ?? [], version: result.version ?? null };
  } catch (error) {
    const details = (error as { sqlDetails?: { cursorPosition?: number } }).sqlDetails;
    const message = error instanceof Error ? error.message : String(error);
    // The parser's cursor counts characters (code points), not bytes.
    const offset = details?.cursorPosition === undefined ? 0 : codePointToByteOffset(text, details.cursorPosition);
    const at = positions.at(Math.min(offset, byteLength));
    throw new SqlSyntaxError(message, at.line, at.column, offset);
  }
}

function isBlank(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (!(code === 0x20 || (code >= 0x09 && code <= 0x0d))) return false;
  }
  return true;
}

function codePointToByteOffset(text: string, codePoints: number): number {
  let bytes = 0;
  let counted = 0;
  for (const char of text) {
    if (counted >= codePoints) break;
    const code = char.codePointAt(0)!;
    bytes += code < 0x80 ? 1 : code < 0x800 ? 2 : code < 0x10000 ? 3 : 4;
    counted++;
  }
  return bytes;
}

/** Offset of the first byte that does not start or continue a well-formed UTF-8 sequence. */
function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const byte = bytes[i]!;
    const length =
      byte < 0x80 ? 1 : byte >= 0xc2 && byte < 0xe0 ? 2 : byte >= 0xe0 && byte < 0xf0 ? 3 : byte >= 0xf0 && byte < 0xf5 ? 4 : 0;
    if (length === 0 || i + length > bytes.length) return i;
    try {
      utf8.decode(bytes.subarray(i, i + length));
    } catch {
      return i;
    }
    i += length;
  }
  return 0;
}

/** Maps byte offsets to 1-based line and column in the original file. */
export class PositionMap {
  private readonly lineStarts: number[] = [0];
  private readonly ascii: boolean;

  constructor(private readonly bytes: Uint8Array) {
    // Buffer.indexOf and isAscii run natively: a byte loop in JS costs more on a cold start.
    const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
    for (let at = buffer.indexOf(NEWLINE); at >= 0; at = buffer.indexOf(NEWLINE, at + 1)) this.lineStarts.push(at + 1);
    this.ascii = isAscii(buffer);
  }

  at(offset: number): { line: number; column: number } {
    let low = 0;
    let high = this.lineStarts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if (this.lineStarts[mid]! <= offset) low = mid;
      else high = mid - 1;
    }
    const lineStart = this.lineStarts[low]!;
    const column = this.ascii
      ? offset - lineStart + 1
      : Buffer.from(this.bytes.subarray(lineStart, offset)).toString("utf8").length + 1;
    return { line: low + 1, column };
  }
}

function isWhitespace(byte: number): boolean {
  return byte === SPACE || (byte >= 0x09 && byte <= 0x0d);
}

/** First byte at or after `from` (before `to`) that is neither whitespace nor inside a comment. */
function skipForward(bytes: Uint8Array, from: number, to: number, commentEnds: Map<number, number>): number {
  let at = from;
  while (at < to) {
    if (isWhitespace(bytes[at]!)) {
      at++;
      continue;
    }
    const commentEnd = commentEnds.get(at);
    if (commentEnd === undefined) break;
    at = commentEnd;
  }
  return Math.min(at, to);
}

/** Just after the last byte before `to` (not before `from`) that is neither whitespace nor comment. */
function skipBackward(bytes: Uint8Array, from: number, to: number, commentStarts: Map<number, number>): number {
  let at = to;
  while (at > from) {
    if (isWhitespace(bytes[at - 1]!)) {
      at--;
      continue;
    }
    const commentStart = commentStarts.get(at);
    if (commentStart === undefined) break;
    at = commentStart;
  }
  return Math.max(at, from);
}

interface LexedMeta {
  start: number;
  end: number;
  command: string;
  args: string[];
}

interface LexedScript {
  /** The bytes with every meta-command replaced by spaces (same length as the input). */
  blanked: Uint8Array;
  metaCommands: LexedMeta[];
  /** Comment start → end, and end → start (byte offsets, end exclusive). */
  commentEnds: Map<number, number>;
  commentStarts: Map<number, number>;
}

/** psql meta-commands that send the current query buffer to the server, as `;` does. */
const QUERY_SENDING_COMMANDS = new Set(["g", "gx", "gexec", "gset", "gdesc", "crosstabview", "watch", "bind", "bind_named"]);

/** psql meta-commands whose argument is the rest of the line, taken as is. */
const WHOLE_LINE_COMMANDS = new Set(["!", "copy", "ef", "ev", "sf", "sf+", "sv", "sv+", "h", "help"]);

function isIdentByte(byte: number): boolean {
  return (
    (byte >= 0x61 && byte <= 0x7a) ||
    (byte >= 0x41 && byte <= 0x5a) ||
    (byte >= 0x30 && byte <= 0x39) ||
    byte === 0x5f ||
    byte === 0x24 ||
    byte >= 0x80
  );
}

function isTagStart(byte: number): boolean {
  return (byte >= 0x61 && byte <= 0x7a) || (byte >= 0x41 && byte <= 0x5a) || byte === 0x5f || byte >= 0x80;
}

function isTagByte(byte: number): boolean {
  return isTagStart(byte) || (byte >= 0x30 && byte <= 0x39);
}

/**
 * One pass over the script as psql's lexer sees it: comments, quoted literals and identifiers,
 * dollar quotes, and backslash meta-commands outside all of them.
 */
export function lexScript(bytes: Uint8Array): LexedScript {
  const n = bytes.length;
  let blanked: Uint8Array = bytes;
  const metaCommands: LexedMeta[] = [];
  const commentEnds = new Map<number, number>();
  const commentStarts = new Map<number, number>();
  const blank = (start: number, end: number) => {
    if (blanked === bytes) blanked = Uint8Array.from(bytes);
    blanked.fill(SPACE, start, end);
  };

  let i = 0;
  while (i < n) {
    const byte = bytes[i]!;
    const next = i + 1 < n ? bytes[i + 1]! : -1;
    if (byte === 0x2d && next === 0x2d) {
      // -- comment to the end of the line
      let end = i + 2;
      while (end < n && bytes[end] !== NEWLINE) end++;
      commentEnds.set(i, end);
      commentStarts.set(end, i);
      i = end;
    } else if (byte === 0x2f && next === 0x2a) {
      // /* comment */, nested as in PostgreSQL
      let depth = 1;
      let end = i + 2;
      while (end < n && depth > 0) {
        if (bytes[end] === 0x2f && bytes[end + 1] === 0x2a) {
          depth++;
          end += 2;
        } else if (bytes[end] === 0x2a && bytes[end + 1] === 0x2f) {
          depth--;
          end += 2;
        } else end++;
      }
      commentEnds.set(i, end);
      commentStarts.set(end, i);
      i = end;
    } else if (byte === 0x27) {
      // 'string'; E'...' (a lone E or e before the quote) takes backslash escapes
      const prefix = i > 0 ? bytes[i - 1]! : -1;
      const escapes = (prefix === 0x45 || prefix === 0x65) && !(i > 1 && isIdentByte(bytes[i - 2]!));
      i = skipQuoted(bytes, i + 1, 0x27, escapes);
    } else if (byte === 0x22) {
      i = skipQuoted(bytes, i + 1, 0x22, false);
    } else if (byte === 0x24) {
      if (i > 0 && isIdentByte(bytes[i - 1]!)) {
        i++; // `$` inside an identifier such as a$b
        continue;
      }
      let tagEnd = i + 1;
      if (tagEnd < n && isTagStart(bytes[tagEnd]!)) {
        while (tagEnd < n && isTagByte(bytes[tagEnd]!)) tagEnd++;
      }
      if (tagEnd < n && bytes[tagEnd] === 0x24) {
        i = skipDollarQuoted(bytes, i, tagEnd + 1);
      } else {
        i++; // a parameter like $1, or a lone $
      }
    } else if (byte === BACKSLASH) {
      if (next === 0x3b || next === 0x3a) {
        // `\;` and `\:` are psql escapes for a literal `;` / `:` in SQL, not meta-commands.
        blank(i, i + 1);
        i += 2;
        continue;
      }
      i = lexMetaCommands(bytes, i, (meta) => {
        if (meta.command !== "\\") metaCommands.push(meta);
        blank(meta.start, meta.end);
        // \g and friends send the query buffer: to the parser they end the statement like `;`.
        if (QUERY_SENDING_COMMANDS.has(meta.command)) blanked[meta.start] = 0x3b;
      });
    } else {
      i++;
    }
  }
  return { blanked, metaCommands, commentEnds, commentStarts };
}

/** Returns the offset after the closing quote (a doubled quote continues the literal). */
function skipQuoted(bytes: Uint8Array, from: number, quote: number, backslashEscapes: boolean): number {
  let i = from;
  while (i < bytes.length) {
    const byte = bytes[i]!;
    if (backslashEscapes && byte === BACKSLASH) {
      i += 2;
    } else if (byte === quote) {
      if (bytes[i + 1] === quote) i += 2;
      else return i + 1;
    } else i++;
  }
  return bytes.length;
}

function skipDollarQuoted(bytes: Uint8Array, tagStart: number, bodyStart: number): number {
  const tagLength = bodyStart - tagStart;
  for (let i = bodyStart; i + tagLength <= bytes.length; i++) {
    if (bytes[i] !== 0x24) continue;
    let matches = true;
    for (let k = 1; k < tagLength; k++) {
      if (bytes[i + k] !== bytes[tagStart + k]) {
        matches = false;
        break;
      }
    }
    if (matches) return i + tagLength;
  }
  return bytes.length;
}

/**
 * Reads one or more meta-commands starting at a backslash, up to the end of the line (or `\\`,
 * after which the line continues as SQL). Returns where SQL lexing resumes.
 */
function lexMetaCommands(bytes: Uint8Array, from: number, emit: (meta: LexedMeta) => void): number {
  const n = bytes.length;
  let lineEnd = from;
  while (lineEnd < n && bytes[lineEnd] !== NEWLINE) lineEnd++;
  const textOf = (a: number, b: number) => Buffer.from(bytes.subarray(a, b)).toString("utf8");

  let i = from;
  while (i < lineEnd && bytes[i] === BACKSLASH) {
    const start = i;
    i++;
    if (bytes[i] === BACKSLASH) {
      // `\\` ends the meta-commands; the rest of the line is SQL again. It is blanked, not recorded.
      emit({ start, end: i + 1, command: "\\", args: [] });
      return i + 1;
    }
    const nameStart = i;
    while (i < lineEnd && !isWhitespace(bytes[i]!) && bytes[i] !== BACKSLASH) i++;
    const command = textOf(nameStart, i);
    const args: string[] = [];
    if (WHOLE_LINE_COMMANDS.has(command)) {
      const rest = textOf(i, lineEnd).trim();
      if (rest) args.push(rest);
      emit({ start, end: lineEnd, command, args });
      return lineEnd;
    }
    let end = i;
    let stop = false;
    while (i < lineEnd && !stop) {
      while (i < lineEnd && isWhitespace(bytes[i]!)) i++;
      if (i >= lineEnd) break;
      if (bytes[i] === BACKSLASH) {
        stop = true; // the next meta-command (or `\\`) starts here
        break;
      }
      const arg = readMetaArgument(bytes, i, lineEnd);
      args.push(arg.value);
      i = arg.end;
      end = arg.end;
    }
    emit({ start, end: Math.max(end, nameStart + Buffer.byteLength(command)), command, args });
    if (!stop) return lineEnd;
  }
  return i;
}

/** One psql meta-command argument: quoted parts are joined; single quotes are removed and unescaped. */
function readMetaArgument(bytes: Uint8Array, from: number, lineEnd: number): { value: string; end: number } {
  const parts: number[] = [];
  let i = from;
  while (i < lineEnd && !isWhitespace(bytes[i]!) && bytes[i] !== BACKSLASH) {
    const byte = bytes[i]!;
    if (byte === 0x27) {
      i++;
      while (i < lineEnd) {
        const inner = bytes[i]!;
        if (inner === 0x27) {
          if (bytes[i + 1] === 0x27) {
            parts.push(0x27);
            i += 2;
            continue;
          }
          i++;
          break;
        }
        if (inner === BACKSLASH && i + 1 < lineEnd) {
          const escaped = bytes[i + 1]!;
          parts.push(escaped === 0x6e ? NEWLINE : escaped === 0x74 ? 0x09 : escaped === 0x72 ? 0x0d : escaped);
          i += 2;
          continue;
        }
        parts.push(inner);
        i++;
      }
    } else if (byte === 0x22 || byte === 0x60) {
      // "double quoted" and `backquoted` parts keep their quotes, as psql passes them on.
      parts.push(byte);
      i++;
      while (i < lineEnd && bytes[i] !== byte) parts.push(bytes[i++]!);
      if (i < lineEnd) parts.push(bytes[i++]!);
    } else {
      parts.push(byte);
      i++;
    }
  }
  return { value: Buffer.from(parts).toString("utf8"), end: i };
}

/** psql's ParseVariableBool: case-insensitive prefixes of true/false/yes/no, on/off (2+ chars), 1/0. */
export function psqlBoolean(value: string): boolean | undefined {
  const lower = value.toLowerCase();
  if (lower.length === 0) return undefined;
  if ("true".startsWith(lower) || "yes".startsWith(lower) || lower === "1") return true;
  if ("false".startsWith(lower) || "no".startsWith(lower) || lower === "0") return false;
  if (lower.length >= 2 && "on".startsWith(lower)) return true;
  if (lower.length >= 2 && "off".startsWith(lower)) return false;
  return undefined;
}

/**
 * Whether ON_ERROR_STOP is on for every statement: set on before the first statement and not
 * turned off before the last one starts. `\set ON_ERROR_STOP` with no value means on (psql 10+).
 */
function onErrorStopInEffect(metas: LexedMeta[], firstStatementAt: number, lastStatementAt: number): boolean {
  let value = false;
  let onAtFirst = false;
  let checkedFirst = false;
  for (const meta of metas) {
    if (!checkedFirst && meta.start > firstStatementAt) {
      onAtFirst = value;
      checkedFirst = true;
    }
    if (meta.start > lastStatementAt) break;
    let next: boolean | undefined;
    if (meta.command === "set" && meta.args[0] === "ON_ERROR_STOP") {
      next = meta.args.length === 1 ? true : psqlBoolean(meta.args.slice(1).join(""));
    } else if (meta.command === "unset" && meta.args[0] === "ON_ERROR_STOP") {
      next = false;
    }
    if (next === undefined) continue; // psql refuses an unrecognised value and keeps the old one
    if (checkedFirst && !next) return false;
    value = next;
  }
  return checkedFirst ? onAtFirst : value;
}
