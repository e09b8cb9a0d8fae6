/**
 * Tree checks that look inside a statement: names that depend on search_path, and IF NOT EXISTS /
 * OR REPLACE, which would hide that an object already exists.
 */
import type { Node } from "libpg-query";
import { flag, list, nameParts, type TreeObject, text, unwrap } from "./tree.js";

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

export interface StatementInspection {
  unqualified: UnqualifiedName[];
  /** IF NOT EXISTS anywhere (CREATE ..., ALTER TABLE ... ADD COLUMN IF NOT EXISTS). */
  ifNotExists: boolean;
  /** CREATE OR REPLACE (function, procedure, view, trigger, rule, language, transform, aggregate). */
  orReplace: boolean;
}

interface RelationReference {
  name: string;
  location: number | null;
}

/** One pass over a statement's tree collecting what the name and IF NOT EXISTS rules need. */
function scanTree(
  value: unknown,
  key: string,
  relations: RelationReference[],
  cteNames: Set<string>,
  state: { ifNotExists: boolean },
): void {
  if (Array.isArray(value)) {
    for (const item of value) if (typeof item === "object" && item !== null) scanTree(item, key, relations, cteNames, state);
    return;
  }
  const object = value as TreeObject;
  if (typeof object.relname === "string" && typeof object.relpersistence === "string") {
    // A RangeVar; temporary relations live in pg_temp whatever the search_path.
    if (!object.schemaname && object.relpersistence !== "t") {
      relations.push({
        name: object.relname,
        location: typeof object.location === "number" && object.location >= 0 ? object.location : null,
      });
    }
  } else if (typeof object.ctename === "string") {
    cteNames.add(object.ctename);
  }
  if (object.if_not_exists === true) state.ifNotExists = true;
  if (key === "AlterTableCmd" && object.subtype === "AT_AddColumn" && object.missing_ok === true) state.ifNotExists = true;
  for (const childKey in object) {
    const child = object[childKey];
    if (typeof child === "object" && child !== null) scanTree(child, childKey, relations, cteNames, state);
  }
}

/**
 * Relations (RangeVar) without a schema anywhere in the statement, except CTE names and the
 * elements of CREATE SCHEMA (which resolve in the new schema), and created/targeted names
 * given as name lists (types, domains, functions, DROP/ALTER OWNER/RENAME objects).
 * Type names of columns are not checked: the parser cannot tell built-in types from others.
 */
export function inspectStatement(tree: Node): StatementInspection {
  const found: UnqualifiedName[] = [];
  const wrapped = unwrap(tree);
  if (!wrapped) return { unqualified: found, ifNotExists: false, orReplace: false };
  const [kind, body] = wrapped;
  const relations: RelationReference[] = [];
  const cteNames = new Set<string>();
  const state = { ifNotExists: false };
  scanTree(body, kind, relations, cteNames, state);
  const inspection = { unqualified: found, ifNotExists: state.ifNotExists, orReplace: flag(body, "replace") };
  if (kind === "CreateSchemaStmt") return inspection;

  for (const relation of relations) {
    if (!cteNames.has(relation.name)) found.push({ name: relation.name, what: "relation", location: relation.location });
  }
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
  return inspection;
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
