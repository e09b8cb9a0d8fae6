/**
 * Several JSON documents of one kind that hold mostly the same list elements, read together.
 * Two catalog snapshots of a database before and after a change share all but a few of their
 * tables byte for byte. Each distinct element text is parsed and validated once, and the
 * documents share the resulting value. That roughly halves the parsing, the validation and the
 * memory of reading a pair. The values are shared, so treat them as read-only.
 *
 * A caller that only compares two documents can have the elements both share left out of one
 * list altogether (parseDocumentPairOmittingShared): they are still validated, but never kept, so
 * a pair of large documents costs little more memory than the elements that differ.
 *
 * The fast path is only taken for documents it can read exactly as the plain reader would: a
 * top-level object whose arrays each match an array field of the schema. Anything else, and any
 * parse or validation failure, hands every document to parseDocument, in order, so every error
 * message stays the plain reader's, naming the file and the field.
 */
import { isUtf8 } from "node:buffer";
import { z } from "zod";
import { decodeUtf8, MAX_DOCUMENT_DEPTH, parseDocument } from "./json-io.js";

export interface DocumentBytes {
  bytes: Uint8Array;
  /** Names the document in messages (a path, or "stdin"). */
  label: string;
}

/** An array that is the value of one of the top-level object's keys, with its elements' byte ranges. */
export interface TopLevelArray {
  key: string;
  /** Offsets of its `[` and `]`. */
  open: number;
  close: number;
  /** start, end (exclusive) of each element, flattened. */
  elements: number[];
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const isSpace = (byte: number) => byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;

/**
 * The offset of the bracket that closes the object or array opening at `start`, or -1 when the
 * text ends first or nests deeper than `maxDepth`. Brackets only: JSON.parse checks the rest.
 */
function containerEnd(bytes: Uint8Array, start: number, maxDepth: number): number {
  const length = bytes.length;
  let depth = 0;
  for (let index = start; index < length; index++) {
    const byte = bytes[index] as number;
    if (byte === QUOTE) {
      for (index++; index < length; index++) {
        const inner = bytes[index] as number;
        if (inner === QUOTE) break;
        if (inner === BACKSLASH) index++;
      }
    } else if (byte === 0x7b || byte === 0x5b) {
      if (++depth > maxDepth) return -1;
    } else if (byte === 0x7d || byte === 0x5d) {
      if (--depth === 0) return index;
    }
  }
  return -1;
}

/**
 * Where an element already read elsewhere ends, if a copy of it starts at `at` in the list `key`:
 * its end (exclusive), or -1 to scan the element byte by byte.
 */
export type KnownElement = (key: string, at: number) => number;

/**
 * The arrays held directly by a JSON object's keys, and where their elements are. Null when the
 * text is not one object, nests deeper than `maxDepth`, or repeats a key that holds an array. It
 * checks structure only: what it returns is parsed by JSON.parse, which checks the rest.
 * `known` is asked at each element's first byte; an element it vouches for is not scanned.
 */
export function topLevelArrays(bytes: Uint8Array, maxDepth = MAX_DOCUMENT_DEPTH, known?: KnownElement): TopLevelArray[] | null {
  const arrays: TopLevelArray[] = [];
  const keys = new Set<string>();
  const length = bytes.length;
  let index = 0;
  while (index < length && isSpace(bytes[index] as number)) index++;
  if (bytes[index] !== 0x7b) return null;
  let depth = 0;
  let keyStart = -1;
  let keyEnd = -1;
  let current: TopLevelArray | null = null;
  let elementStart = -1;
  let lastNonSpace = -1;
  for (; index < length; index++) {
    const byte = bytes[index] as number;
    if (known && current && depth === 2 && elementStart < 0 && byte !== COMMA && byte !== 0x5d && !isSpace(byte)) {
      // An element starts here: one read before (compared byte for byte) need not be scanned.
      const end = known(current.key, index);
      if (end > index) {
        elementStart = index;
        lastNonSpace = end - 1;
        index = end - 1;
        continue;
      }
    }
    if (current && depth === 2 && elementStart < 0 && (byte === 0x7b || byte === 0x5b)) {
      // An object or array element: found whole by a tighter loop than this one.
      const end = containerEnd(bytes, index, maxDepth - 2);
      if (end < 0) return null;
      elementStart = index;
      lastNonSpace = end;
      index = end;
      continue;
    }
    if (byte === QUOTE) {
      const start = index;
      for (index++; index < length; index++) {
        const inner = bytes[index] as number;
        if (inner === BACKSLASH) index++;
        else if (inner === QUOTE) break;
      }
      if (index >= length) return null;
      if (depth === 1) {
        keyStart = start;
        keyEnd = index + 1;
      } else if (current && depth === 2 && elementStart < 0) {
        elementStart = start;
      }
      lastNonSpace = index;
      continue;
    }
    if (isSpace(byte)) continue;
    if (byte === 0x7b || byte === 0x5b) {
      if (depth === 1 && byte === 0x5b) {
        if (keyStart < 0) return null;
        let key: string;
        try {
          key = JSON.parse(new TextDecoder().decode(bytes.subarray(keyStart, keyEnd))) as string;
        } catch {
          return null; // not a JSON string (a bad escape): the plain reader says where
        }
        if (keys.has(key)) return null;
        keys.add(key);
        current = { key, open: index, close: -1, elements: [] };
      } else if (current && depth === 2 && elementStart < 0) {
        elementStart = index;
      }
      depth++;
      if (depth > maxDepth) return null;
    } else if (byte === 0x7d || byte === 0x5d) {
      depth--;
      if (depth < 0) return null;
      if (current && depth === 1) {
        if (byte !== 0x5d) return null;
        if (elementStart >= 0) current.elements.push(elementStart, lastNonSpace + 1);
        else if (current.elements.length > 0) return null; // a trailing comma
        current.close = index;
        arrays.push(current);
        current = null;
        elementStart = -1;
      } else if (depth === 0) {
        // The object ends: only white space may follow.
        for (index++; index < length; index++) if (!isSpace(bytes[index] as number)) return null;
        return arrays;
      }
    } else if (byte === COMMA) {
      if (current && depth === 2) {
        if (elementStart < 0) return null; // an empty element
        current.elements.push(elementStart, lastNonSpace + 1);
        elementStart = -1;
      } else if (depth === 1) {
        keyStart = -1;
      }
    } else if (byte === COLON) {
      // Nothing to do: a key is the last string before its colon.
    } else if (current && depth === 2 && elementStart < 0) {
      elementStart = index; // a number, true, false or null
    }
    lastNonSpace = index;
  }
  return null;
}

/**
 * How far ahead of the last shared element a list is searched. Lists in the same order (as the
 * tools write them, sorted) then share every unchanged element across changes, insertions and
 * up to this many removals in a row; elements in another order are only parsed again.
 */
const LOOKAHEAD = 16;

/** Whether a schema has checks of its own (a refine, a length limit): they would run on the outline only. */
function hasChecks(schema: z.ZodType): boolean {
  return (schema._zod.def.checks?.length ?? 0) > 0;
}

/** The element schema of the array field `key`, or null when the fast path cannot check it exactly. */
function arrayElement(schema: z.ZodObject, key: string): z.ZodType | null {
  const field = schema.shape[key];
  return field instanceof z.ZodArray && !hasChecks(field) ? (field.element as z.ZodType) : null;
}

/** The validated value, or undefined on any failure (a RangeError of a deep value included). */
function check(schema: z.ZodType, value: unknown): unknown {
  try {
    const result = schema.safeParse(value);
    return result.success ? result.data : undefined;
  } catch {
    return undefined;
  }
}

/** Thrown inside the fast path to hand every document to the plain reader. */
const PLAIN = Symbol("read plainly");

/** One document's structure: its lists, and for each element the first document's element it copies (or -1). */
interface Structure {
  buffer: Buffer;
  arrays: TopLevelArray[];
  /** Per list key: per element, the index of the first document's element with the same bytes, or -1. */
  copies: Map<string, number[]>;
}

/** The first document's structure, scanned byte by byte. */
function firstStructure(bytes: Uint8Array): Structure {
  if (bytes[0] === 0xef || !isUtf8(bytes)) throw PLAIN; // a byte-order mark or invalid UTF-8: the plain reader says so
  const arrays = topLevelArrays(bytes);
  if (!arrays) throw PLAIN;
  return { buffer: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), arrays, copies: new Map() };
}

/**
 * A later document's structure. Where an element starts with the bytes of one of the first
 * document's elements of the same list, followed by `,` or `]`, it is that element: a JSON value
 * ends where its text says, so it is compared with memcmp and not scanned.
 */
function laterStructure(bytes: Uint8Array, first: Structure): Structure {
  if (bytes[0] === 0xef || !isUtf8(bytes)) throw PLAIN;
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const earlierLists = new Map(first.arrays.map((array) => [array.key, array.elements]));
  const copies = new Map<string, number[]>();
  const cursors = new Map<string, number>();
  const known: KnownElement = (key, at) => {
    let copied = copies.get(key);
    if (!copied) {
      copied = [];
      copies.set(key, copied);
    }
    const earlier = earlierLists.get(key);
    if (earlier) {
      const cursor = cursors.get(key) ?? 0;
      const last = Math.min(cursor + LOOKAHEAD, earlier.length / 2);
      for (let candidate = cursor; candidate < last; candidate++) {
        const start = earlier[2 * candidate] as number;
        const end = at + (earlier[2 * candidate + 1] as number) - start;
        if (end > buffer.length || first.buffer.compare(buffer, at, end, start, start + end - at) !== 0) continue;
        let next = end;
        while (next < buffer.length && isSpace(buffer[next] as number)) next++;
        if (buffer[next] !== COMMA && buffer[next] !== 0x5d) continue;
        cursors.set(key, candidate + 1);
        copied.push(candidate);
        return end;
      }
    }
    copied.push(-1);
    return -1;
  };
  const arrays = topLevelArrays(bytes, MAX_DOCUMENT_DEPTH, known);
  if (!arrays) throw PLAIN;
  return { buffer, arrays, copies };
}

/** The document with its lists emptied, validated: the outline the lists' elements are put in. */
function outlineOf(
  schema: z.ZodObject,
  { buffer, arrays }: Structure,
): { outline: Record<string, unknown>; elementSchemas: z.ZodType[] } {
  const parts: Buffer[] = [];
  const elementSchemas: z.ZodType[] = [];
  let from = 0;
  for (const array of arrays) {
    const element = arrayElement(schema, array.key);
    if (!element) throw PLAIN;
    elementSchemas.push(element);
    parts.push(buffer.subarray(from, array.open + 1));
    from = array.close;
  }
  parts.push(buffer.subarray(from));
  let skeleton: unknown;
  try {
    skeleton = JSON.parse(Buffer.concat(parts).toString("utf8"));
  } catch {
    throw PLAIN;
  }
  const outline = check(schema, skeleton);
  if (outline === undefined) throw PLAIN;
  return { outline: outline as Record<string, unknown>, elementSchemas };
}

/** One element parsed and validated, or PLAIN thrown. */
function elementValue(schema: z.ZodType, buffer: Buffer, start: number, end: number): unknown {
  let parsed: unknown;
  try {
    parsed = JSON.parse(buffer.toString("utf8", start, end));
  } catch {
    throw PLAIN;
  }
  const value = check(schema, parsed);
  if (value === undefined) throw PLAIN;
  return value;
}

/** What the caller keeps of each element both documents of a pair share in one list, which both then leave out. */
export interface OmitShared {
  key: string;
  keep: (value: unknown) => unknown;
}

/**
 * The fast path: structures first (the first document scanned, the later ones matched against
 * it), then the elements parsed, each distinct text once. An element of `omit.key` that the
 * second document shares is validated, passed to `keep`, and left out of both.
 */
function parseSharing<S extends z.ZodObject>(
  schema: S,
  documents: DocumentBytes[],
  omit: OmitShared | undefined,
): { documents: z.output<S>[]; omitted: unknown[] } {
  if (hasChecks(schema) || documents.length === 0) throw PLAIN;
  const first = firstStructure((documents[0] as DocumentBytes).bytes);
  const structures = [first, ...documents.slice(1).map(({ bytes }) => laterStructure(bytes, first))];
  // With `omit`: the first document's elements of that list the second copies, left out of both.
  const copiedIn = omit ? structures[1]?.copies.get(omit.key) : undefined;
  const omittedIndexes = new Set<number>(copiedIn?.filter((index) => index >= 0));
  const omitted: unknown[] = [];
  const firstValues = new Map<string, unknown[]>();
  const results = structures.map((structure, n) => {
    const { outline, elementSchemas } = outlineOf(schema, structure);
    for (const [a, array] of structure.arrays.entries()) {
      const element = elementSchemas[a] as z.ZodType;
      const omitting = omit !== undefined && array.key === omit.key;
      const copies = structure.copies.get(array.key);
      const earlier = firstValues.get(array.key);
      const values: unknown[] = [];
      const { elements } = array;
      for (let i = 0; i < elements.length; i += 2) {
        const copy = n === 0 ? -1 : (copies?.[i / 2] ?? -1);
        if (copy >= 0) {
          if (!omitting) values.push(earlier?.[copy]);
          continue;
        }
        const value = elementValue(element, structure.buffer, elements[i] as number, elements[i + 1] as number);
        if (n === 0 && omitting && omittedIndexes.has(i / 2)) {
          // Validated, and then not kept: the second document needs nothing of it but its index.
          omitted.push(omit.keep(value));
          continue;
        }
        values.push(value);
      }
      // A later document's copies of an omitted list's elements are left out, so need no values.
      if (n === 0 && !omitting) firstValues.set(array.key, values);
      outline[array.key] = values;
    }
    return outline as z.output<S>;
  });
  return { documents: results, omitted };
}

function plainly<S extends z.ZodObject>(schema: S, documents: DocumentBytes[]): z.output<S>[] {
  return documents.map((document) => parseDocument(schema, decodeUtf8(document.bytes, document.label), document.label));
}

function sharing<S extends z.ZodObject>(
  schema: S,
  documents: DocumentBytes[],
  omit: OmitShared | undefined,
): { documents: z.output<S>[]; omitted: unknown[] } {
  try {
    return parseSharing(schema, documents, omit);
  } catch (error) {
    if (error !== PLAIN) throw error;
    // Anything the fast path cannot read exactly: every document as the plain reader reads it,
    // in order, so the error (if any) is the one reading each alone would give.
    return { documents: plainly(schema, documents), omitted: [] };
  }
}

/**
 * Parses and validates documents of one schema (an object whose lists are arrays), sharing each
 * list element whose text is the same in several of them. Same results and the same errors as
 * parseDocument on each.
 */
export function parseDocumentsSharingElements<S extends z.ZodObject>(schema: S, documents: DocumentBytes[]): z.output<S>[] {
  return sharing(schema, documents, undefined).documents;
}

/**
 * Two documents, for a caller that compares them: the elements of the list `omit.key` whose text
 * is byte for byte the same in both are validated like every other, then left out of both
 * documents; `omitted` holds what `omit.keep` kept of each. When the fast path cannot read the
 * pair, both documents are whole and `omitted` is empty. Errors are parseDocument's on each.
 */
export function parseDocumentPairOmittingShared<S extends z.ZodObject>(
  schema: S,
  pair: [DocumentBytes, DocumentBytes],
  omit: OmitShared,
): { documents: [z.output<S>, z.output<S>]; omitted: unknown[] } {
  const { documents, omitted } = sharing(schema, pair, omit);
  return { documents: documents as [z.output<S>, z.output<S>], omitted };
}
