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
 * A copy whose objects have their keys inserted in sorted order, so that the engine's own
 * JSON.stringify (much faster than a hand-written serializer) prints canonical JSON.
 */
function canonicalCopy(value: unknown): unknown {
  if (value === null || typeof value !== "object") return value;
  const json = (value as { toJSON?: unknown }).toJSON;
  if (typeof json === "function") return canonicalCopy(json.call(value));
  if (Array.isArray(value)) {
    const copy = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i += 1) copy[i] = canonicalCopy(value[i]);
    return copy;
  }
  const record = value as Record<string, unknown>;
  const copy: Record<string, unknown> = {};
  for (const key of sortedKeys(record)) copy[key] = canonicalCopy(record[key]);
  return copy;
}

/** Canonical JSON text: object keys sorted by code point, no whitespace, JSON.stringify semantics otherwise. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(canonicalCopy(value));
}

/**
 * sha256 (hex) of the snapshot's content: the domain prefix, then the canonical JSON of
 * everything except `server` and `fingerprint`. Top-level lists are fed to the hash one element at
 * a time, so a large document never exists as one canonical string.
 */
export function computeFingerprint(doc: Omit<CatalogSnapshot, "fingerprint"> | CatalogSnapshot): string {
  const { server: _server, fingerprint: _fingerprint, ...content } = doc as CatalogSnapshot;
  const record = content as unknown as Record<string, unknown>;
  const hash = createHash("sha256");
  hash.update(FINGERPRINT_DOMAIN);
  hash.update("{");
  let first = true;
  for (const key of sortedKeys(record)) {
    const value = record[key];
    if (value === undefined || typeof value === "function" || typeof value === "symbol") continue;
    hash.update(`${first ? "" : ","}${JSON.stringify(key)}:`);
    first = false;
    if (Array.isArray(value)) {
      hash.update("[");
      for (let i = 0; i < value.length; i += 1) hash.update(`${i > 0 ? "," : ""}${canonicalJson(value[i]) ?? "null"}`);
      hash.update("]");
    } else {
      hash.update(canonicalJson(value));
    }
  }
  hash.update("}");
  return hash.digest("hex");
}
