/**
 * Two JSON documents of one kind that hold mostly the same list elements, read together. Two
 * catalog snapshots of a database before and after a change share all but a few of their tables
 * byte for byte. The two files are read side by side, each through one small reused buffer (never
 * whole: on a machine where a page's first touch is costly, 60 MB of fresh buffers cost more than
 * everything else in the read). An element of the second whose bytes are those of one of the
 * first's is recognised by a byte comparison, not scanned again, and is parsed and validated once:
 * both documents get the same value, or, for the list a comparing caller names (`omit`), neither
 * keeps it: it is validated, handed to `omit.keep`, and left out. The values are shared, so treat
 * them as read-only.
 *
 * The fast path reads exactly what the plain reader reads, or gives up: a top-level object whose
 * arrays each match an array field of the schema, the same lists in the same order in both.
 * Anything else, and any parse or validation failure, hands both documents to parseDocument, in
 * order, so every error message stays the plain reader's, naming the file and the field.
 */
import { isUtf8 } from "node:buffer";
import type { FileHandle } from "node:fs/promises";
import { decodeUtf8, MAX_DOCUMENT_DEPTH, openForReading, parseDocument } from "./json-io.js";
import { z } from "./zod.js";

/** A document to read: a file (`-` for stdin), or bytes already in memory. */
export type DocumentSource = { path: string; label: string } | { bytes: Uint8Array; label: string };

/**
 * The list whose elements both documents share are left out of both, for a caller that pairs the
 * two lists' elements by `identity` (a table's qualified name, say) and has nothing to report
 * about an element that is the same on both sides.
 */
export interface OmitShared {
  key: string;
  identity: (value: unknown) => string;
}

export interface DocumentPair<T> {
  documents: [T, T];
  /** The identity of each left-out element, in the first document's order. */
  omitted: string[];
}

/**
 * How far ahead of the last shared element the first document's list is searched. Lists in the
 * same order (as the tools write them, sorted) then share every unchanged element across changes,
 * insertions and up to this many removals in a row; elements in another order are only parsed
 * again.
 */
const LOOKAHEAD = 16;
/** The reused read buffer's starting size (readDocumentPair's `windowBytes`); it grows for a longer element. */
const WINDOW_BYTES = 1 << 20;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const isSpace = (byte: number) => byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
/** A byte a JSON value can start with. */
const startsValue = (byte: number) =>
  byte === OPEN_OBJECT ||
  byte === OPEN_ARRAY ||
  byte === QUOTE ||
  byte === 0x2d ||
  (byte >= 0x30 && byte <= 0x39) ||
  byte === 0x74 ||
  byte === 0x66 ||
  byte === 0x6e;

/** Thrown inside the fast path to hand both documents to the plain reader. */
const PLAIN = Symbol("read plainly");
/** Returned by a scan that reached the end of what has been read so far. */
const MORE = -2;
/** Returned where an object or array closes instead of holding one more item. */
const CLOSED = -3;

/**
 * Where the JSON value starting at `start` ends (exclusive), or MORE when `end` comes first and
 * more bytes may follow. Structure only (brackets, strings, and where a number or literal stops):
 * JSON.parse checks the rest. Throws PLAIN when containers nest deeper than `maxDepth`.
 */
function valueEnd(bytes: Buffer, start: number, end: number, done: boolean, maxDepth: number): number {
  const first = bytes[start] as number;
  if (first === QUOTE) {
    for (let index = start + 1; index < end; index++) {
      const byte = bytes[index] as number;
      if (byte === QUOTE) return index + 1;
      if (byte === BACKSLASH) index++;
    }
    return done ? end : MORE;
  }
  if (first !== OPEN_OBJECT && first !== OPEN_ARRAY) {
    // A number or a literal: up to the next delimiter.
    for (let index = start; index < end; index++) {
      const byte = bytes[index] as number;
      if (byte === COMMA || byte === CLOSE_ARRAY || byte === CLOSE_OBJECT || isSpace(byte)) return index;
    }
    return done ? end : MORE;
  }
  let depth = 0;
  for (let index = start; index < end; index++) {
    const byte = bytes[index] as number;
    if (byte === QUOTE) {
      for (index++; index < end; index++) {
        const inner = bytes[index] as number;
        if (inner === QUOTE) break;
        if (inner === BACKSLASH) index++;
      }
    } else if (byte === OPEN_OBJECT || byte === OPEN_ARRAY) {
      if (++depth > maxDepth) throw PLAIN;
    } else if (byte === CLOSE_OBJECT || byte === CLOSE_ARRAY) {
      if (--depth === 0) return index + 1;
    }
  }
  return done ? end : MORE;
}

/** A document's bytes as read so far, through one reused buffer; positions are offsets in the whole text. */
class ByteWindow {
  bytes: Buffer;
  /** Offset in the text of bytes[0]. */
  base = 0;
  /** Offset in the text just past the last byte read. */
  end: number;
  done: boolean;

  constructor(
    private readonly file: FileHandle | null,
    whole?: Uint8Array,
    windowBytes = WINDOW_BYTES,
  ) {
    if (whole) {
      this.bytes = Buffer.from(whole.buffer, whole.byteOffset, whole.byteLength);
      this.end = whole.byteLength;
      this.done = true;
    } else {
      // Not zeroed: only bytes a read has just written are ever looked at.
      this.bytes = Buffer.allocUnsafe(windowBytes);
      this.end = 0;
      this.done = false;
    }
  }

  /** Reads on, dropping what comes before `keep`; the buffer doubles when `keep` holds all of it. */
  async more(keep: number): Promise<void> {
    if (this.done || !this.file) {
      this.done = true;
      return;
    }
    if (keep > this.base) {
      this.bytes.copy(this.bytes, 0, keep - this.base, this.end - this.base);
      this.base = keep;
    }
    const kept = this.end - this.base;
    if (kept === this.bytes.length) {
      const larger = Buffer.allocUnsafe(this.bytes.length * 2);
      this.bytes.copy(larger, 0, 0, kept);
      this.bytes = larger;
    }
    const { bytesRead } = await this.file.read(this.bytes, kept, this.bytes.length - kept, null);
    if (bytesRead === 0) this.done = true;
    else this.end += bytesRead;
  }

  /** A copy of the text from `from` to `to`, as UTF-8 checked; PLAIN when it is not UTF-8. */
  copy(from: number, to: number): Buffer {
    const part = this.bytes.subarray(from - this.base, to - this.base);
    if (!isUtf8(part)) throw PLAIN;
    return Buffer.from(part);
  }

  /** The text from `from` to `to` decoded; PLAIN when it is not UTF-8. */
  text(from: number, to: number): string {
    const start = from - this.base;
    const stop = to - this.base;
    if (!isUtf8(this.bytes.subarray(start, stop))) throw PLAIN;
    return this.bytes.toString("utf8", start, stop);
  }
}

/** Where an element's text starts and ends (offsets in the whole text). */
interface ElementRange {
  start: number;
  end: number;
}

/** A top-level member: its key, and whether its value is an array (whose elements come next). */
interface Member {
  key: string;
  array: boolean;
}

/**
 * One document's top-level object, member by member and, inside an array, element by element.
 * Each `try…` method reads from what is in the window and returns MORE when it needs more; the
 * caller then awaits `refill` and tries again (`element()` does both for a whole element). Bytes
 * outside the arrays' elements (the outline) are kept, to be parsed and validated on their own.
 */
class DocumentReader {
  /** Offset of the next byte to read. */
  pos = 0;
  private readonly outline: Buffer[] = [];
  /** Start of the outline text not yet copied out, or -1 inside an array. */
  private cut = 0;
  private readonly keys = new Set<string>();
  private firstMember = true;
  private firstElement = true;
  private ended = false;

  constructor(readonly window: ByteWindow) {}

  /** Reads on, keeping the text from `keep` (default: the next byte) onwards. */
  async refill(keep = this.pos): Promise<void> {
    if (this.cut >= 0 && this.cut < this.pos) {
      this.outline.push(this.window.copy(this.cut, this.pos));
      this.cut = this.pos;
    }
    const before = this.window.end;
    await this.window.more(Math.min(keep, this.pos));
    if (this.window.end === before && !this.window.done) throw PLAIN; // no progress: cannot happen, never loop
  }

  /** The offset of the next byte that is not white space, or MORE. */
  private skipSpace(from: number): number {
    const { bytes, base, end, done } = this.window;
    let index = from;
    while (index < end && isSpace(bytes[index - base] as number)) index++;
    if (index < end) return index;
    return done ? end : MORE;
  }

  private byteAt(offset: number): number | undefined {
    return offset < this.window.end ? this.window.bytes[offset - this.window.base] : undefined;
  }

  /** The opening `{`. */
  tryOpen(): number {
    const at = this.skipSpace(this.pos);
    if (at === MORE) return MORE;
    if (this.byteAt(at) !== OPEN_OBJECT) throw PLAIN;
    this.pos = at + 1;
    return at;
  }

  /**
   * Where the next member or element starts, past the `,` that separates it from the one before;
   * CLOSED, with `pos` past the bracket, when `close` comes instead; or MORE.
   */
  private nextItem(first: boolean, close: number): number {
    let at = this.skipSpace(this.pos);
    if (at === MORE) return MORE;
    if (this.byteAt(at) === close) {
      this.pos = at + 1;
      return CLOSED;
    }
    if (!first) {
      if (this.byteAt(at) !== COMMA) throw PLAIN;
      at = this.skipSpace(at + 1);
      if (at === MORE) return MORE;
    }
    // Not an empty item or a trailing comma.
    const byte = this.byteAt(at);
    if (byte === undefined || !startsValue(byte)) throw PLAIN;
    return at;
  }

  /** The next member, null after the closing `}`, or MORE. */
  tryMember(): Member | null | typeof MORE {
    const { bytes, base, end, done } = this.window;
    const at = this.nextItem(this.firstMember, CLOSE_OBJECT);
    if (at === MORE) return MORE;
    if (at === CLOSED) {
      this.ended = true;
      return null;
    }
    if (this.byteAt(at) !== QUOTE) throw PLAIN;
    const keyEnd = valueEnd(bytes, at - base, end - base, done, 1);
    if (keyEnd === MORE) return MORE;
    let key: unknown;
    try {
      key = JSON.parse(this.window.text(at, keyEnd + base));
    } catch {
      throw PLAIN; // not a JSON string (a bad escape): the plain reader says where
    }
    if (typeof key !== "string" || this.keys.has(key)) throw PLAIN;
    const colon = this.skipSpace(keyEnd + base);
    if (colon === MORE) return MORE;
    if (this.byteAt(colon) !== COLON) throw PLAIN;
    const valueStart = this.skipSpace(colon + 1);
    if (valueStart === MORE) return MORE;
    const first = this.byteAt(valueStart);
    if (first === undefined || !startsValue(first)) throw PLAIN;
    if (first === OPEN_ARRAY) {
      this.outline.push(this.window.copy(this.cut, valueStart + 1));
      this.cut = -1;
      this.pos = valueStart + 1;
      this.firstElement = true;
    } else {
      const valueStop = valueEnd(bytes, valueStart - base, end - base, done, MAX_DOCUMENT_DEPTH - 1);
      if (valueStop === MORE) return MORE;
      this.pos = valueStop + base;
    }
    this.keys.add(key);
    this.firstMember = false;
    return { key, array: first === OPEN_ARRAY };
  }

  /** Where the next element of the current array starts, null after its `]`, or MORE. */
  tryElementStart(): number | null {
    const at = this.nextItem(this.firstElement, CLOSE_ARRAY);
    if (at !== CLOSED) return at;
    this.cut = this.pos - 1; // the outline goes on from the `]`
    return null;
  }

  /** Where the element starting at `start` ends, or MORE. */
  tryElementEnd(start: number): number {
    const { bytes, base, end, done } = this.window;
    const stop = valueEnd(bytes, start - base, end - base, done, MAX_DOCUMENT_DEPTH - 2);
    return stop === MORE ? MORE : stop + base;
  }

  /**
   * Whether the element starting at `start` has the bytes of `other`'s text from `from` to `to`,
   * followed by `,` or `]`: then it is that element (a JSON value ends where its text says). Its
   * end, -1 when it is not a copy, or MORE.
   */
  tryCopyEnd(start: number, other: ByteWindow, from: number, to: number): number {
    const stop = start + (to - from);
    const { bytes, base, end, done } = this.window;
    if (stop > end) return done ? -1 : MORE;
    if (other.bytes.compare(bytes, start - base, stop - base, from - other.base, to - other.base) !== 0) return -1;
    const next = this.skipSpace(stop);
    if (next === MORE) return MORE;
    const byte = this.byteAt(next);
    return byte === COMMA || byte === CLOSE_ARRAY ? stop : -1;
  }

  /**
   * The next element of the current array, reading on as needed while keeping the text from
   * `keep`: where it starts and ends (not yet consumed), or null after the array's `]`.
   */
  async element(keep = this.pos): Promise<ElementRange | null> {
    let start = this.tryElementStart();
    while (start === MORE) {
      await this.refill(keep);
      start = this.tryElementStart();
    }
    if (start === null) return null;
    let end = this.tryElementEnd(start);
    while (end === MORE) {
      await this.refill(Math.min(keep, start));
      end = this.tryElementEnd(start);
    }
    return { start, end };
  }

  /** The element ending at `end` is read. */
  consume(end: number): void {
    this.pos = end;
    this.firstElement = false;
  }

  /** After the closing `}`: only white space may follow. */
  tryFinish(): boolean | typeof MORE {
    if (!this.ended) throw PLAIN;
    const at = this.skipSpace(this.pos);
    if (at === MORE) return MORE;
    if (at < this.window.end) throw PLAIN;
    this.outline.push(this.window.copy(this.cut, this.pos));
    return true;
  }

  /** The document's text without its arrays' elements. */
  outlineText(): string {
    return Buffer.concat(this.outline).toString("utf8");
  }
}

/** Whether a schema has checks of its own (a refine, a length limit): they would run on the outline only. */
function hasChecks(schema: z.ZodType): boolean {
  return (schema._zod.def.checks?.length ?? 0) > 0;
}

/** The element schema of the array field `key`, or PLAIN when the fast path cannot check it exactly. */
function arrayElement(schema: z.ZodObject, key: string): z.ZodType {
  const field = schema.shape[key];
  if (field instanceof z.ZodArray && !hasChecks(field)) return field.element as z.ZodType;
  throw PLAIN;
}

/** The validated value, or PLAIN on any failure (a RangeError of a deep value included). */
function validated(schema: z.ZodType, value: unknown): unknown {
  let result: z.ZodSafeParseResult<unknown>;
  try {
    result = schema.safeParse(value);
  } catch {
    throw PLAIN;
  }
  if (!result.success) throw PLAIN;
  return result.data;
}

/** The element of `window` from `start` to `end`, parsed and validated. */
function elementValue(schema: z.ZodType, window: ByteWindow, start: number, end: number): unknown {
  let parsed: unknown;
  try {
    parsed = JSON.parse(window.text(start, end));
  } catch {
    throw PLAIN;
  }
  return validated(schema, parsed);
}

/** The fast path (see the file's comment). */
async function readSharing<S extends z.ZodObject>(
  schema: S,
  first: DocumentReader,
  second: DocumentReader,
  omit: OmitShared | undefined,
): Promise<DocumentPair<z.output<S>>> {
  if (hasChecks(schema)) throw PLAIN;
  const lists: [Map<string, unknown[]>, Map<string, unknown[]>] = [new Map(), new Map()];
  const omitted: string[] = [];
  while (first.tryOpen() === MORE) await first.refill();
  while (second.tryOpen() === MORE) await second.refill();

  /** The first document's next list (members before it are outline), or null at its end. */
  const nextFirstList = async (): Promise<string | null> => {
    for (;;) {
      const member = first.tryMember();
      if (member === MORE) await first.refill();
      else if (member === null) return null;
      else if (member.array) return member.key;
    }
  };
  /** The rest of the first document's current list (unless its `]` was read), each element its own. */
  const restOfFirst = async (element: z.ZodType, values: unknown[], pending: ElementRange[], ended: boolean): Promise<void> => {
    for (const { start, end } of pending) values.push(elementValue(element, first.window, start, end));
    pending.length = 0;
    if (ended) return;
    for (let next = await first.element(); next !== null; next = await first.element()) {
      values.push(elementValue(element, first.window, next.start, next.end));
      first.consume(next.end);
    }
  };

  for (;;) {
    const member = second.tryMember();
    if (member === MORE) {
      await second.refill();
      continue;
    }
    if (member === null) break;
    if (!member.array) continue;
    const { key } = member;
    const element = arrayElement(schema, key);
    // The same list in the first document must be its next one: otherwise read both plainly.
    if ((await nextFirstList()) !== key) throw PLAIN;
    const identity = omit?.key === key ? omit.identity : undefined;
    const firstValues: unknown[] = [];
    const secondValues: unknown[] = [];
    lists[0].set(key, firstValues);
    lists[1].set(key, secondValues);
    // The first document's elements read ahead of the last one the second shared, in order.
    const pending: ElementRange[] = [];
    let firstListEnded = false;
    for (;;) {
      let start = second.tryElementStart();
      while (start === MORE) {
        await second.refill();
        start = second.tryElementStart();
      }
      if (start === null) break;
      // Read ahead in the first document, keeping its pending elements' bytes in the window.
      while (!firstListEnded && pending.length < LOOKAHEAD) {
        const ahead = await first.element(pending[0]?.start);
        if (ahead === null) firstListEnded = true;
        else {
          first.consume(ahead.end);
          pending.push(ahead);
        }
      }
      let shared = -1;
      let end = -1;
      for (let candidate = 0; candidate < pending.length; candidate++) {
        const { start: from, end: to } = pending[candidate] as ElementRange;
        end = second.tryCopyEnd(start, first.window, from, to);
        while (end === MORE) {
          await second.refill(start);
          end = second.tryCopyEnd(start, first.window, from, to);
        }
        if (end >= 0) {
          shared = candidate;
          break;
        }
      }
      if (shared < 0) {
        end = second.tryElementEnd(start);
        while (end === MORE) {
          await second.refill(start);
          end = second.tryElementEnd(start);
        }
        secondValues.push(elementValue(element, second.window, start, end));
        second.consume(end);
        continue;
      }
      // The first document's elements passed over are its own; the shared one is read once.
      for (let i = 0; i < shared; i++) {
        const { start: from, end: to } = pending[i] as ElementRange;
        firstValues.push(elementValue(element, first.window, from, to));
      }
      const { start: from, end: to } = pending[shared] as ElementRange;
      const value = elementValue(element, first.window, from, to);
      if (identity) omitted.push(identity(value));
      else {
        firstValues.push(value);
        secondValues.push(value);
      }
      pending.splice(0, shared + 1);
      second.consume(end);
    }
    await restOfFirst(element, firstValues, pending, firstListEnded);
  }
  // Lists only the first document has (at its end) are its own.
  for (let key = await nextFirstList(); key !== null; key = await nextFirstList()) {
    const values: unknown[] = [];
    lists[0].set(key, values);
    await restOfFirst(arrayElement(schema, key), values, [], false);
  }
  for (const reader of [first, second]) {
    let finished = reader.tryFinish();
    while (finished === MORE) {
      await reader.refill();
      finished = reader.tryFinish();
    }
  }
  const documents = [first, second].map((reader, n) => {
    let skeleton: unknown;
    try {
      skeleton = JSON.parse(reader.outlineText());
    } catch {
      throw PLAIN;
    }
    const outline = validated(schema, skeleton) as Record<string, unknown>;
    for (const [key, values] of lists[n] as Map<string, unknown[]>) outline[key] = values;
    return outline as z.output<S>;
  });
  return { documents: documents as [z.output<S>, z.output<S>], omitted };
}

/**
 * Whether leaving the shared elements out keeps every pairing by identity as it was: each left-out
 * identity is unique and appears nowhere else in either list. (A list that names one element
 * twice, once as shared, would otherwise pair differently.)
 */
function pairsAsWhole<T>({ documents, omitted }: DocumentPair<T>, omit: OmitShared): boolean {
  const left = new Set(omitted);
  if (left.size !== omitted.length) return false;
  return documents.every((document) => {
    const list = (document as Record<string, unknown>)[omit.key];
    return !Array.isArray(list) || list.every((value) => !left.has(omit.identity(value)));
  });
}

/** A source as a window: a regular file read in pieces, anything else whole. */
async function windowOf(source: DocumentSource, windowBytes: number): Promise<{ window: ByteWindow; file: FileHandle | null }> {
  if ("bytes" in source) return { window: new ByteWindow(null, source.bytes), file: null };
  const opened = await openForReading(source.path);
  if (opened.file) return { window: new ByteWindow(opened.file, undefined, windowBytes), file: opened.file };
  return { window: new ByteWindow(null, opened.bytes), file: null };
}

/** A source's whole bytes, for the plain reader. */
async function wholeBytes(source: DocumentSource, window: ByteWindow): Promise<Uint8Array> {
  if ("bytes" in source) return source.bytes;
  if (window.done && window.base === 0) return window.bytes.subarray(0, window.end); // read whole already
  const opened = await openForReading(source.path);
  if (opened.bytes) return opened.bytes;
  try {
    return await opened.file.readFile();
  } finally {
    await opened.file.close();
  }
}

/**
 * Reads two documents of one schema (an object whose lists are arrays) side by side. With `omit`,
 * the elements of the list `omit.key` whose text is byte for byte the same in both are validated
 * like every other, then left out of both documents, and `omitted` holds their identities. Every
 * other element the two share is parsed once and both documents hold the same value. When the
 * fast path cannot read the pair, or leaving elements out would change a pairing by identity,
 * both documents are whole and `omitted` is empty. Errors are parseDocument's on each file, in
 * order. `windowBytes`: the starting size of each file's read buffer (1 MiB; smaller in tests).
 */
export async function readDocumentPair<S extends z.ZodObject>(
  schema: S,
  sources: [DocumentSource, DocumentSource],
  omit?: OmitShared,
  { windowBytes = WINDOW_BYTES }: { windowBytes?: number } = {},
): Promise<DocumentPair<z.output<S>>> {
  const opened: { window: ByteWindow; file: FileHandle | null }[] = [];
  try {
    // In order: a first file that cannot be read is named before stdin is waited for.
    for (const source of sources) opened.push(await windowOf(source, windowBytes));
    const [first, second] = opened.map(({ window }) => new DocumentReader(window)) as [DocumentReader, DocumentReader];
    try {
      const pair = await readSharing(schema, first, second, omit);
      if (!omit || pairsAsWhole(pair, omit)) return pair;
    } catch (error) {
      if (error !== PLAIN) throw error;
    }
    // The plain reader, on each file whole, in order.
    const documents: z.output<S>[] = [];
    for (const [n, source] of sources.entries()) {
      const bytes = await wholeBytes(source, (opened[n] as { window: ByteWindow }).window);
      documents.push(parseDocument(schema, decodeUtf8(bytes, source.label), source.label));
    }
    return { documents: documents as [z.output<S>, z.output<S>], omitted: [] };
  } finally {
    await Promise.all(opened.map(({ file }) => file?.close()));
  }
}
