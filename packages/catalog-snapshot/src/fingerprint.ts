/**
 * Canonical JSON and the snapshot fingerprint: sha256 over a versioned domain prefix and the
 * canonical JSON of everything except `server` (volatile header) and `fingerprint` itself.
 */
import { createHash, type Hash } from "node:crypto";
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
 * Writes the canonical JSON of a value piece by piece: object keys sorted, no whitespace,
 * `undefined` members dropped as JSON.stringify does. Pieces go to `sink`, so a large document
 * is hashed without building one huge string.
 */
function writeCanonical(value: unknown, sink: (piece: string) => void): void {
  if (value === null || typeof value !== "object") {
    if (typeof value === "number" && !Number.isFinite(value)) throw new TypeError("non-finite number in canonical JSON");
    if (typeof value === "bigint") throw new TypeError("bigint in canonical JSON: store it as a decimal string");
    sink(JSON.stringify(value) ?? "null");
    return;
  }
  if (Array.isArray(value)) {
    sink("[");
    value.forEach((item, index) => {
      if (index > 0) sink(",");
      writeCanonical(item === undefined ? null : item, sink);
    });
    sink("]");
    return;
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record)
    .filter((key) => record[key] !== undefined)
    .sort(compareText);
  sink("{");
  keys.forEach((key, index) => {
    sink(index > 0 ? `,${JSON.stringify(key)}:` : `${JSON.stringify(key)}:`);
    writeCanonical(record[key], sink);
  });
  sink("}");
}

/** Canonical JSON text: sorted keys, no whitespace. */
export function canonicalJson(value: unknown): string {
  const pieces: string[] = [];
  writeCanonical(value, (piece) => pieces.push(piece));
  return pieces.join("");
}

/** sha256 (hex) of the snapshot's content: everything except `server` and `fingerprint`. */
export function computeFingerprint(doc: Omit<CatalogSnapshot, "fingerprint"> | CatalogSnapshot): string {
  const { server: _server, fingerprint: _fingerprint, ...content } = doc as CatalogSnapshot;
  const hash: Hash = createHash("sha256");
  hash.update(FINGERPRINT_DOMAIN);
  // Buffer small pieces so the hash is fed in reasonably sized chunks.
  let buffer = "";
  writeCanonical(content, (piece) => {
    buffer += piece;
    if (buffer.length >= 65536) {
      hash.update(buffer, "utf8");
      buffer = "";
    }
  });
  hash.update(buffer, "utf8");
  return hash.digest("hex");
}
