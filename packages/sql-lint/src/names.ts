/**
 * Tree checks that look inside a statement: names that depend on search_path, and IF NOT EXISTS /
 * OR REPLACE, which would hide that an object already exists.
 */
import type { Node } from "libpg-query";
import { flag, list, nameParts, text, unwrap, walk } from "./tree.js";

export interface UnqualifiedName {
  name: string;
  what: string;
  /** Byte offset of the name in the file, when the parser recorded one. */
  location: number | null;
}

/** Name lists of objects a statement creates or targets, by statement kind. */
const NAME_LIST_FIELDS: Record<string, Array<[string, string]>> = {
  CreateEnumStmt: [["typeName", "type"]],
  CreateRangeStmt: [["typeName", "type"]],
  CreateDomainStmt: [["domainname", "domain"]],
  CreateFunctionStmt: [["funcname", "function"]],
  DefineStmt: [["defnames", "object"]],
  CreateTrigStmt: [["funcname", "trigger function"]],
  AlterEnumStmt: [["typeName", "type"]],
  AlterDomainStmt: [["typeName", "domain"]],
  CreateConversionStmt: [["conversion_name", "conversion"]],
};

/**
 * Relations (RangeVar) without a schema anywhere in the statement, except CTE names and the
 * elements of CREATE SCHEMA (which resolve in the new schema), and created/targeted names
 * given as name lists (types, domains, functions, DROP/ALTER OWNER/RENAME objects).
 * Type names of columns are not checked: the parser cannot tell built-in types from others.
 */
export function unqualifiedNames(tree: Node): UnqualifiedName[] {
  const found: UnqualifiedName[] = [];
  const wrapped = unwrap(tree);
  if (!wrapped) return found;
  const [kind, body] = wrapped;
  if (kind === "CreateSchemaStmt") return found;

  const cteNames = new Set<string>();
  walk(body, (object, key) => {
    if (key === "CommonTableExpr" || (typeof object.ctename === "string" && "ctequery" in object)) {
      cteNames.add(String(object.ctename));
    }
    return undefined;
  });
  walk(body, (object) => {
    if (typeof object.relname === "string" && typeof object.relpersistence === "string") {
      if (!object.schemaname && !cteNames.has(object.relname) && object.relpersistence !== "t") {
        found.push({
          name: object.relname,
          what: "relation",
          location: typeof object.location === "number" && object.location >= 0 ? object.location : null,
        });
      }
    }
    return undefined;
  });

  for (const [fieldName, what] of NAME_LIST_FIELDS[kind] ?? []) {
    const parts = nameParts(list(body, fieldName));
    if (parts.length === 1) found.push({ name: parts[0]!, what, location: null });
  }
  if (kind === "DropStmt" || kind === "AlterOwnerStmt" || kind === "RenameStmt" || kind === "AlterObjectSchemaStmt") {
    const objectType = text(body, "removeType") ?? text(body, "objectType") ?? text(body, "renameType") ?? "";
    // Schemas, roles, extensions, languages ... are not in a schema; only schema-qualified kinds count.
    if (SCHEMA_QUALIFIED_OBJECTS.has(objectType)) {
      const objects = kind === "DropStmt" ? list(body, "objects") : body.object === undefined ? [] : [body.object];
      for (const object of objects) {
        const parts = objectNameParts(object);
        if (parts.length === 1)
          found.push({ name: parts[0]!, what: objectType.replace("OBJECT_", "").toLowerCase(), location: null });
      }
    }
  }
  return found;
}

const SCHEMA_QUALIFIED_OBJECTS = new Set([
  "OBJECT_TABLE",
  "OBJECT_FOREIGN_TABLE",
  "OBJECT_SEQUENCE",
  "OBJECT_VIEW",
  "OBJECT_MATVIEW",
  "OBJECT_INDEX",
  "OBJECT_TYPE",
  "OBJECT_DOMAIN",
  "OBJECT_FUNCTION",
  "OBJECT_PROCEDURE",
  "OBJECT_ROUTINE",
  "OBJECT_AGGREGATE",
  "OBJECT_COLLATION",
  "OBJECT_CONVERSION",
  "OBJECT_STATISTIC_EXT",
]);

function objectNameParts(object: unknown): string[] {
  if (Array.isArray(object)) return nameParts(object);
  const wrapped = unwrap(object);
  if (!wrapped) return [];
  const [kind, body] = wrapped;
  if (kind === "List") return nameParts(list(body, "items"));
  if (kind === "ObjectWithArgs") return nameParts(list(body, "objname"));
  if (kind === "TypeName") return nameParts(list(body, "names"));
  if (kind === "String") return [String(body.sval ?? "")];
  return [];
}

/** True when the statement says IF NOT EXISTS anywhere (CREATE ..., ALTER TABLE ... ADD COLUMN). */
export function hasIfNotExists(tree: Node): boolean {
  let found = false;
  walk(tree, (object, key) => {
    if (found) return false;
    if (object.if_not_exists === true) found = true;
    if (key === "AlterTableCmd" && text(object, "subtype") === "AT_AddColumn" && flag(object, "missing_ok")) found = true;
    return found ? false : undefined;
  });
  return found;
}

/** True for CREATE OR REPLACE (function, procedure, view, trigger, rule, language, transform, aggregate). */
export function hasOrReplace(tree: Node): boolean {
  const wrapped = unwrap(tree);
  if (!wrapped) return false;
  return flag(wrapped[1], "replace");
}
