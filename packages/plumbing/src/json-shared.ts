/**
 * Several JSON documents of one kind that hold mostly the same list elements, read together.
 * Two catalog snapshots of a database before and after a change share all but a few of their
 * tables byte for byte. Each distinct element text is parsed and validated once, and the
 * documents share the resulting value. That roughly halves the parsing, the validation and the
 * memory of reading a pair. The values are shared, so treat them as read-only.
 *
 * The fast path is only taken for documents it can read exactly as the plain reader would: a
 * top-level object whose arrays each match an array field of the schema. Anything else falls back
 * to parseDocument for that document, and so does any parse or validation failure, so every
 * error message stays the plain reader's, naming the file and the field.
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
 * The arrays held directly by a JSON object's keys, and where their elements are. Null when the
 * text is not one object, nests deeper than `maxDepth`, or repeats a key that holds an array. It
 * checks structure only: what it returns is parsed by JSON.parse, which checks the rest.
 */
export function topLevelArrays(bytes: Uint8Array, maxDepth = MAX_DOCUMENT_DEPTH): TopLevelArray[] | null {
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

/** A parsed, validated element, and where its text is, to compare a candidate byte for byte. */
interface SharedElement {
  bytes: Uint8Array;
  start: number;
  end: number;
  value: unknown;
}

/**
 * How far ahead of the last shared element a list is searched. Lists in the same order (as the
 * tools write them, sorted) then share every unchanged element across changes, insertions and
 * up to this many removals in a row; elements in another order are only parsed again.
 */
const LOOKAHEAD = 16;

function sameBytes(a: Uint8Array, aStart: number, aEnd: number, b: Uint8Array, bStart: number, bEnd: number): boolean {
  return aEnd - aStart === bEnd - bStart && Buffer.compare(a.subarray(aStart, aEnd), b.subarray(bStart, bEnd)) === 0;
}

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

/** One document through the fast path, or null when only the plain reader may read it. */
function parseSharing<S extends z.ZodObject>(
  schema: S,
  { bytes }: DocumentBytes,
  seen: Map<string, SharedElement[]>,
): z.output<S> | null {
  // A byte-order mark or invalid UTF-8 is refused by the plain reader, with its own message.
  if (hasChecks(schema) || bytes[0] === 0xef || !isUtf8(bytes)) return null;
  const arrays = topLevelArrays(bytes);
  if (!arrays) return null;
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

  // The document without its arrays' elements, and the schema of each array's elements.
  const parts: Buffer[] = [];
  const elementSchemas: z.ZodType[] = [];
  let from = 0;
  for (const array of arrays) {
    const element = arrayElement(schema, array.key);
    if (!element) return null;
    elementSchemas.push(element);
    parts.push(buffer.subarray(from, array.open + 1));
    from = array.close;
  }
  parts.push(buffer.subarray(from));
  let skeleton: unknown;
  try {
    skeleton = JSON.parse(Buffer.concat(parts).toString("utf8"));
  } catch {
    return null;
  }
  const outline = check(schema, skeleton);
  if (outline === undefined) return null;
  const document = outline as Record<string, unknown>;

  for (const [n, array] of arrays.entries()) {
    const element = elementSchemas[n] as z.ZodType;
    // The same list as read from an earlier document, if any, and where matching has got to in it.
    const earlier = seen.get(array.key);
    const read: SharedElement[] = [];
    let cursor = 0;
    const values: unknown[] = [];
    const { elements } = array;
    for (let i = 0; i < elements.length; i += 2) {
      const start = elements[i] as number;
      const end = elements[i + 1] as number;
      let shared: SharedElement | undefined;
      if (earlier) {
        const last = Math.min(cursor + LOOKAHEAD, earlier.length);
        for (let at = cursor; at < last; at++) {
          const candidate = earlier[at] as SharedElement;
          if (sameBytes(candidate.bytes, candidate.start, candidate.end, bytes, start, end)) {
            shared = candidate;
            cursor = at + 1;
            break;
          }
        }
      }
      if (!shared) {
        let parsed: unknown;
        try {
          parsed = JSON.parse(buffer.toString("utf8", start, end));
        } catch {
          return null;
        }
        const value = check(element, parsed);
        if (value === undefined) return null;
        shared = { bytes, start, end, value };
      }
      read.push(shared);
      values.push(shared.value);
    }
    if (!earlier) seen.set(array.key, read);
    document[array.key] = values;
  }
  return document as z.output<S>;
}

/**
 * Parses and validates documents of one schema (an object whose lists are arrays), sharing each
 * list element whose text is the same in several of them. Same results and the same errors as
 * parseDocument on each.
 */
export function parseDocumentsSharingElements<S extends z.ZodObject>(schema: S, documents: DocumentBytes[]): z.output<S>[] {
  // Each list as first read, by key: later documents share its elements found byte for byte.
  const seen = new Map<string, SharedElement[]>();
  return documents.map(
    (document) =>
      parseSharing(schema, document, seen) ?? parseDocument(schema, decodeUtf8(document.bytes, document.label), document.label),
  );
}
