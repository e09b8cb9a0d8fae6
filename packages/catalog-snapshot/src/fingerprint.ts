/**
 * Canonical JSON and the snapshot fingerprint: sha256 over a versioned domain prefix and the
 * canonical JSON of everything except `server` (volatile header) and `fingerprint` itself.
 */
import { createHash } from "node:crypto";
import type { CatalogSnapshot } from "./schema.js";

/** Domain prefix: a different format or hashing scheme must never produce a colliding fingerprint. */
export const FINGERPRINT_DOMAIN = "dieu44.catalog-snapshot.v1\n";

/**
 * Locale-independent ordering by Unicode code point (the order of UTF-8 bytes and of COLLATE "C"),
 * never localeCompare: results must not depend on ICU, LANG or the reader's language.
 */
export function compareText(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i += 1) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // A surrogate starts a code point above U+FFFF, which sorts after every BMP code point.
    const xSurrogate = x >= 0xd800 && x <= 0xdfff;
    const ySurrogate = y >= 0xd800 && y <= 0xdfff;
    if (xSurrogate !== ySurrogate) return xSurrogate ? 1 : -1;
    return x < y ? -1 : 1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

/**
 * Sorted key lists per object shape. Documents have few shapes; the cache is keyed by the joined
 * key names and checked against the exact key list, so a join collision cannot mix shapes up.
 */
const shapes = new Map<string, { keys: string[]; sorted: string[] }>();
const MAX_CACHED_SHAPES = 10_000;

function sortedKeys(record: object): string[] {
  const keys = Object.keys(record);
  const signature = keys.join(",");
  const cached = shapes.get(signature);
  if (cached && cached.keys.length === keys.length && cached.keys.every((key, i) => key === keys[i])) return cached.sorted;
  const sorted = [...keys].sort(compareText);
  if (shapes.size < MAX_CACHED_SHAPES) shapes.set(signature, { keys, sorted });
  return sorted;
}

/**
 * True when JSON.stringify already prints `value` canonically: every object's own keys come in
 * code point order and nothing has a toJSON. Snapshots are built that way, so hashing them costs
 * one native JSON.stringify per element. (Integer-like keys, which JavaScript always enumerates
 * first, fail the order check and take the slow path.)
 */
function isCanonical(value: unknown): boolean {
  if (value === null || typeof value !== "object") return true;
  if (Array.isArray(value)) {
    for (const item of value) if (!isCanonical(item)) return false;
    return true;
  }
  if (typeof (value as { toJSON?: unknown }).toJSON === "function") return false;
  const record = value as Record<string, unknown>;
  let previous: string | undefined;
  for (const key in record) {
    if (!Object.hasOwn(record, key)) return false;
    if (previous !== undefined && compareText(previous, key) >= 0) return false;
    previous = key;
    if (!isCanonical(record[key])) return false;
  }
  return true;
}

/** The slow, general path: a serializer that sorts keys itself, with JSON.stringify's semantics. */
function serialize(value: unknown): string | undefined {
  if (value === null) return "null";
  switch (typeof value) {
    case "string":
      return JSON.stringify(value);
    case "number":
      return Number.isFinite(value) ? JSON.stringify(value) : "null";
    case "boolean":
      return value ? "true" : "false";
    case "bigint":
      throw new TypeError("canonical JSON cannot hold a bigint: store it as a decimal string");
    case "object": {
      const json = (value as { toJSON?: unknown }).toJSON;
      if (typeof json === "function") return serialize(json.call(value));
      if (Array.isArray(value)) return `[${value.map((item) => serialize(item) ?? "null").join(",")}]`;
      const record = value as Record<string, unknown>;
      const members: string[] = [];
      for (const key of sortedKeys(record)) {
        const text = serialize(record[key]);
        if (text !== undefined) members.push(`${JSON.stringify(key)}:${text}`);
      }
      return `{${members.join(",")}}`;
    }
    default:
      // undefined, functions and symbols are skipped in objects and null in arrays, as JSON.stringify does.
      return undefined;
  }
}

/**
 * Canonical JSON text: object keys sorted by code point, no whitespace, JSON.stringify semantics
 * otherwise ("null" for a value JSON cannot hold at the top level).
 */
export function canonicalJson(value: unknown): string {
  const text = isCanonical(value) ? JSON.stringify(value) : serialize(value);
  return text ?? "null";
}

/**
 * sha256 (hex) of the snapshot's content: the domain prefix, then the canonical JSON of
 * everything except `server` and `fingerprint`. Top-level lists are fed to the hash one element at
 * a time, so a large document never exists as one canonical string.
 */
export function computeFingerprint(doc: Omit<CatalogSnapshot, "fingerprint"> | CatalogSnapshot): string {
  return new FingerprintWhileWriting(doc, canonicalMemberTexts).digest();
}

/** A top-level member's value as canonical JSON, a list one element at a time (never all at once). */
function* canonicalMemberTexts(value: unknown): Generator<string> {
  if (Array.isArray(value)) yield* bracketed(canonicalElements(value));
  else yield canonicalJson(value);
}

function* canonicalElements(list: readonly unknown[]): Generator<string> {
  for (const element of list) yield canonicalJson(element);
}

/** A list's text from the texts of its parts: "[", the parts separated by ",", "]". */
function* bracketed(parts: Iterable<string>): Generator<string> {
  yield "[";
  let first = true;
  for (const part of parts) {
    if (!first) yield ",";
    first = false;
    yield part;
  }
  yield "]";
}

/**
 * Elements of a top-level list serialised per JSON.stringify call, by the fingerprint and the
 * writer alike. Few enough that a piece (a few dozen kilobytes) is allocated in V8's young
 * generation and dies there: the same memory serves every piece, where pieces of hundreds of
 * kilobytes each took fresh pages, whose first touch is costly on some machines.
 */
export const ELEMENTS_PER_PIECE = 16;

/** A list's elements as JSON, ELEMENTS_PER_PIECE at a time (joined by ","; the pieces joined by "," are the list's text without brackets). */
export function* listPieces(list: readonly unknown[]): Generator<string> {
  for (let start = 0; start < list.length; start += ELEMENTS_PER_PIECE) {
    // "[a,b]" without its brackets is "a,b": JSON.stringify's own text of those elements.
    yield JSON.stringify(list.slice(start, start + ELEMENTS_PER_PIECE)).slice(1, -1);
  }
}

/**
 * The text of a top-level member's value as the compact writer prints it, in pieces: a non-empty
 * list piece by piece, anything else whole. Also what the fingerprint hashes for it, since a
 * built snapshot's objects are canonical JSON as they are.
 */
export function* memberValueTexts(value: unknown): Generator<string> {
  if (Array.isArray(value) && value.length > 0) yield* bracketed(listPieces(value));
  else yield JSON.stringify(value) ?? "null";
}

/** Whether JSON.stringify prints an object member holding `value` (it skips undefined, functions and symbols). */
export function printedMember(value: unknown): boolean {
  return value !== undefined && typeof value !== "function" && typeof value !== "symbol";
}

/** Whether the fingerprint hashes a top-level member at all. */
function hashable(key: string, value: unknown): boolean {
  return key !== "server" && key !== "fingerprint" && printedMember(value);
}

/** A snapshot's content, before its fingerprint: what `snapshotContent` returns. */
export type SnapshotContent = Omit<CatalogSnapshot, "fingerprint">;

/** The document: kind, formatVersion, fingerprint, server, then the content, in that key order. */
export function withFingerprint(content: SnapshotContent, fingerprint: string): CatalogSnapshot {
  const { kind, formatVersion, server, ...rest } = content;
  return { kind, formatVersion, fingerprint, server, ...rest };
}

/**
 * The fingerprint of a document this package built itself: its nested objects are canonical by
 * construction (a test checks that), so each list is hashed as JSON.stringify prints it.
 */
export function fingerprintOfBuiltDocument(doc: SnapshotContent): string {
  return new FingerprintWhileWriting(doc).digest();
}

/**
 * The fingerprint of a document, computed while a writer prints the document in its own member
 * order, so that each large list is serialised once for both. The hash takes the members in code
 * point order: `memberTexts(key)` gives the texts of a member's value; when it is that member's
 * turn in the hash (the members before it are hashed first, serialised for the hash alone), they
 * are hashed as they are handed out. A member whose turn has passed, or that the hash leaves out
 * (`server`, `fingerprint`), is serialised for the writer alone. `digest` hashes whatever is left.
 * `valueTexts` serialises a member's value: by default as JSON.stringify prints it, which is
 * canonical for a document this package built (its objects' keys are in code point order).
 */
export class FingerprintWhileWriting {
  private readonly hash = createHash("sha256");
  private readonly keys: string[];
  private readonly record: Record<string, unknown>;
  /** Index in `keys` of the next member to hash. */
  private next = 0;

  constructor(
    doc: SnapshotContent | CatalogSnapshot,
    private readonly valueTexts: (value: unknown) => Iterable<string> = memberValueTexts,
  ) {
    this.record = doc as unknown as Record<string, unknown>;
    this.keys = sortedKeys(this.record).filter((key) => hashable(key, this.record[key]));
    this.hash.update(FINGERPRINT_DOMAIN);
    this.hash.update("{");
  }

  *memberTexts(key: string): Generator<string> {
    const value = this.record[key];
    const turn = this.keys.indexOf(key); // -1: left out of the hash
    if (turn < this.next) {
      yield* this.valueTexts(value);
      return;
    }
    this.hashUntil(turn);
    this.hashKey(turn);
    for (const text of this.valueTexts(value)) {
      this.hash.update(text);
      yield text;
    }
    this.next = turn + 1;
  }

  digest(): string {
    this.hashUntil(this.keys.length);
    this.hash.update("}");
    return this.hash.digest("hex");
  }

  private hashKey(index: number): void {
    this.hash.update(`${index > 0 ? "," : ""}${JSON.stringify(this.keys[index])}:`);
  }

  private hashUntil(end: number): void {
    for (; this.next < end; this.next++) {
      this.hashKey(this.next);
      for (const text of this.valueTexts(this.record[this.keys[this.next] as string])) this.hash.update(text);
    }
  }
}
