/**
 * Small typed accessors over libpg-query's JSON parse tree, which is plain nested objects where
 * zero-valued fields are omitted.
 */
import type { Node } from "libpg-query";

export type TreeObject = { [key: string]: unknown };

export function isObject(value: unknown): value is TreeObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The single key of a node wrapper such as `{ CreateStmt: {...} }`. */
export function nodeKind(node: Node | TreeObject): string {
  for (const key in node) return key;
  return "Unknown";
}

/** `{ Kind: body }` → [Kind, body] when the value is such a wrapper. */
export function unwrap(value: unknown): [string, TreeObject] | undefined {
  if (!isObject(value)) return undefined;
  const keys = Object.keys(value);
  if (keys.length !== 1) return undefined;
  const inner = value[keys[0]!];
  return isObject(inner) ? [keys[0]!, inner] : undefined;
}

export function field(object: TreeObject, key: string): TreeObject | undefined {
  const value = object[key];
  return isObject(value) ? value : undefined;
}

export function list(object: TreeObject, key: string): unknown[] {
  const value = object[key];
  return Array.isArray(value) ? value : [];
}

export function text(object: TreeObject, key: string): string | undefined {
  const value = object[key];
  return typeof value === "string" ? value : undefined;
}

export function flag(object: TreeObject, key: string): boolean {
  return object[key] === true;
}

/** The strings of a name list such as `[{String:{sval:"s"}}, {String:{sval:"t"}}]`. */
export function nameParts(items: unknown[]): string[] {
  const parts: string[] = [];
  for (const item of items) {
    const wrapped = unwrap(item);
    if (wrapped && wrapped[0] === "String") parts.push(String(wrapped[1].sval ?? ""));
  }
  return parts;
}

/** A RangeVar as "schema.name" (or "name" when unqualified). */
export function rangeVarName(rangeVar: TreeObject | undefined): string | undefined {
  if (!rangeVar) return undefined;
  const relname = text(rangeVar, "relname");
  if (relname === undefined) return undefined;
  const schema = text(rangeVar, "schemaname");
  return schema ? `${schema}.${relname}` : relname;
}

/** Visits every object in a tree (depth-first), with the key under which it was found. */
export function walk(value: unknown, visit: (object: TreeObject, key: string) => boolean | undefined, key = ""): void {
  if (Array.isArray(value)) {
    for (const item of value) walk(item, visit, key);
    return;
  }
  if (!isObject(value)) return;
  if (visit(value, key) === false) return;
  for (const childKey in value) {
    const child = value[childKey];
    if (typeof child === "object" && child !== null) walk(child, visit, childKey);
  }
}
