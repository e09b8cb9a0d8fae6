/**
 * What the catalog must gain from an artifact, derived from its parse trees: tables, constraints
 * (inline, table-level and ALTER TABLE ... ADD CONSTRAINT), defaults (serial's implicit one too),
 * identities, sequences, indexes, triggers, types, routines, and the changes and removals it makes.
 *
 * Counting follows the catalog: PRIMARY KEY and UNIQUE create backing indexes that are not counted
 * as `index` (only CREATE INDEX is); NOT NULL is not a constraint here (PostgreSQL 18 stores it in
 * pg_constraint, but it is counted as a column property); columns of a created table are part of
 * the table; a serial column adds a DEFAULT and an owned sequence; an identity column adds an
 * identity and its sequence but no DEFAULT.
 */
import type { ObjectKind } from "@dieu44/drift-diff/schema";
import { ObjectKindSchema } from "@dieu44/drift-diff/schema";
import type { Node } from "libpg-query";
import type { DerivedChange, DerivedDelta, DerivedObject } from "./schema.js";
import { commandTag } from "./statements.js";
import { field, flag, list, nameParts, type TreeObject, text, unwrap, walk } from "./tree.js";

export interface Derivation {
  delta: DerivedDelta;
  /** The main object each statement creates or changes, by statement index. */
  targets: Array<string | null>;
}

const SERIAL_TYPES = new Set(["serial", "serial4", "bigserial", "serial8", "smallserial", "serial2"]);

const DROP_KINDS: Record<string, ObjectKind> = {
  OBJECT_TABLE: "table",
  OBJECT_FOREIGN_TABLE: "table",
  OBJECT_SEQUENCE: "sequence",
  OBJECT_VIEW: "view",
  OBJECT_MATVIEW: "materialized_view",
  OBJECT_INDEX: "index",
  OBJECT_DOMAIN: "domain",
  OBJECT_SCHEMA: "schema",
  OBJECT_FUNCTION: "function",
  OBJECT_AGGREGATE: "function",
  OBJECT_PROCEDURE: "procedure",
  OBJECT_ROUTINE: "function",
  OBJECT_TRIGGER: "trigger",
  OBJECT_EXTENSION: "extension",
  OBJECT_POLICY: "row_security",
  OBJECT_ROLE: "role",
  OBJECT_COLUMN: "column",
};

/** Transaction control, session settings and read-only commands: nothing in the catalog changes. */
const NO_EFFECT_KINDS = new Set([
  "TransactionStmt",
  "VariableSetStmt",
  "VariableShowStmt",
  "ConstraintsSetStmt",
  "LockStmt",
  "DiscardStmt",
  "NotifyStmt",
  "ListenStmt",
  "UnlistenStmt",
  "CommentStmt",
  "SecLabelStmt",
  "CheckPointStmt",
  "DeclareCursorStmt",
  "ClosePortalStmt",
  "FetchStmt",
  "PrepareStmt",
  "DeallocateStmt",
  "VacuumStmt",
  "ClusterStmt",
  "ReindexStmt",
  "RefreshMatViewStmt",
]);

class Deriver {
  readonly objects: DerivedObject[] = [];
  readonly changes: DerivedChange[] = [];
  readonly tables: string[] = [];
  readonly notDerived: Array<{ statementIndex: number; reason: string }> = [];
  readonly schemas = new Set<string>();
  dml = 0;
  index = 0;
  target: string | null = null;

  add(kind: ObjectKind, name: string | null, table: string | null, options: { implicit?: boolean; note?: string } = {}): void {
    this.objects.push({
      kind,
      name,
      table,
      statementIndex: this.index,
      implicit: options.implicit ?? false,
      note: options.note ?? null,
    });
  }

  change(kind: ObjectKind | null, action: "remove" | "change", target: string | null, description: string): void {
    this.changes.push({ kind, action, target, statementIndex: this.index, description });
  }

  cannotDerive(reason: string): void {
    this.notDerived.push({ statementIndex: this.index, reason });
  }

  /** "schema.name" from a RangeVar, using the enclosing CREATE SCHEMA's schema when unqualified. */
  relation(rangeVar: TreeObject | undefined, defaultSchema: string | null): string | null {
    if (!rangeVar) return null;
    const relname = text(rangeVar, "relname");
    if (relname === undefined) return null;
    const schema = text(rangeVar, "schemaname") ?? defaultSchema;
    if (schema) this.schemas.add(schema);
    return schema ? `${schema}.${relname}` : relname;
  }

  /** "schema.name" from a name list such as a type's or function's. */
  qualified(parts: string[], defaultSchema: string | null): string | null {
    if (parts.length === 0) return null;
    if (parts.length === 1 && defaultSchema) parts = [defaultSchema, parts[0]!];
    if (parts.length >= 2) this.schemas.add(parts[parts.length - 2]!);
    return parts.join(".");
  }

  statement(node: unknown, defaultSchema: string | null): void {
    const wrapped = unwrap(node);
    if (!wrapped) {
      this.cannotDerive("empty parse tree");
      return;
    }
    const [kind, body] = wrapped;
    if (NO_EFFECT_KINDS.has(kind)) return;
    switch (kind) {
      case "CreateStmt":
      case "CreateForeignTableStmt":
        this.createTable(kind === "CreateForeignTableStmt" ? (field(body, "base") ?? body) : body, defaultSchema);
        return;
      case "AlterTableStmt":
        this.alterTable(body, defaultSchema);
        return;
      case "IndexStmt": {
        const table = this.relation(field(body, "relation"), defaultSchema);
        const name = text(body, "idxname");
        this.add("index", name ? qualifyLike(table, name) : null, table, {
          note: flag(body, "unique") ? "unique index" : undefined,
        });
        this.target = table;
        return;
      }
      case "CreateSeqStmt": {
        const name = this.relation(field(body, "sequence"), defaultSchema);
        this.add("sequence", name, null);
        this.target = name;
        return;
      }
      case "CreateTrigStmt": {
        const table = this.relation(field(body, "relation"), defaultSchema);
        this.add("trigger", text(body, "trigname") ?? null, table, {
          note: flag(body, "isconstraint") ? "constraint trigger" : undefined,
        });
        this.target = table;
        return;
      }
      case "CreateEnumStmt":
        this.target = this.qualified(nameParts(list(body, "typeName")), defaultSchema);
        this.add("enum", this.target, null);
        return;
      case "CompositeTypeStmt":
        this.target = this.relation(field(body, "typevar"), defaultSchema);
        this.add("composite_type", this.target, null);
        return;
      case "CreateDomainStmt":
        this.target = this.qualified(nameParts(list(body, "domainname")), defaultSchema);
        this.add("domain", this.target, null);
        return;
      case "CreateRangeStmt":
        this.target = this.qualified(nameParts(list(body, "typeName")), defaultSchema);
        this.cannotDerive("a range type has no object kind in the expected delta");
        return;
      case "DefineStmt":
        this.target = this.qualified(nameParts(list(body, "defnames")), defaultSchema);
        if (text(body, "kind") === "OBJECT_AGGREGATE") this.add("function", this.target, null, { note: "aggregate" });
        else this.cannotDerive(`${commandTag(node as TreeObject)} has no object kind in the expected delta`);
        return;
      case "CreateFunctionStmt":
        this.target = this.qualified(nameParts(list(body, "funcname")), defaultSchema);
        this.add(flag(body, "is_procedure") ? "procedure" : "function", this.target, null, {
          note: flag(body, "replace") ? "OR REPLACE: added, or changed if it exists" : undefined,
        });
        return;
      case "ViewStmt":
        this.target = this.relation(field(body, "view"), defaultSchema);
        this.add("view", this.target, null, {
          note: flag(body, "replace") ? "OR REPLACE: added, or changed if it exists" : undefined,
        });
        return;
      case "CreateTableAsStmt": {
        const into = field(body, "into");
        this.target = this.relation(into && field(into, "rel"), defaultSchema);
        if (text(body, "objtype") === "OBJECT_MATVIEW") {
          this.add("materialized_view", this.target, null);
        } else if (!isTemporary(into && field(into, "rel"))) {
          this.add("table", this.target, null);
          if (this.target) this.tables.push(this.target);
        }
        if (!(into && flag(into, "skipData"))) this.dml++;
        return;
      }
      case "SelectStmt": {
        const into = field(body, "intoClause");
        if (into) {
          this.target = this.relation(field(into, "rel"), defaultSchema);
          if (!isTemporary(field(into, "rel"))) {
            this.add("table", this.target, null);
            if (this.target) this.tables.push(this.target);
          }
          this.dml++;
        } else if (containsKey(body, DML_NODE_KINDS)) {
          this.dml++;
        }
        if (containsKey(body, new Set(["FuncCall"]))) this.cannotDerive("calls functions, whose effects cannot be derived");
        return;
      }
      case "InsertStmt":
      case "UpdateStmt":
      case "DeleteStmt":
      case "MergeStmt":
        this.target = this.relation(field(body, "relation"), defaultSchema);
        this.dml++;
        return;
      case "TruncateStmt":
        this.dml++;
        return;
      case "CopyStmt":
        this.target = this.relation(field(body, "relation"), defaultSchema);
        if (flag(body, "is_from")) this.dml++;
        return;
      case "CreateExtensionStmt":
        this.target = text(body, "extname") ?? null;
        this.add("extension", this.target, null);
        this.cannotDerive("an extension creates whatever its script defines");
        return;
      case "CreateSchemaStmt": {
        const name = text(body, "schemaname") ?? text(field(body, "authrole") ?? {}, "rolename") ?? null;
        if (name) this.schemas.add(name);
        this.add("schema", name, null);
        if (body.authrole) this.change("ownership", "change", name, "CREATE SCHEMA ... AUTHORIZATION sets the owner");
        this.target = name;
        for (const element of list(body, "schemaElts")) this.statement(element, name);
        this.target = name;
        return;
      }
      case "GrantStmt":
        this.grant(body, defaultSchema);
        return;
      case "AlterDefaultPrivilegesStmt":
        this.change("privilege", "change", null, "ALTER DEFAULT PRIVILEGES");
        this.cannotDerive("default privileges apply to objects created later, including by this artifact");
        return;
      case "GrantRoleStmt":
        this.change("role", "change", null, flag(body, "is_grant") ? "GRANT role membership" : "REVOKE role membership");
        return;
      case "AlterOwnerStmt":
        this.target = objectName(body.object, defaultSchema, this);
        this.change("ownership", "change", this.target, `ALTER ${text(body, "objectType") ?? ""} OWNER`);
        return;
      case "ReassignOwnedStmt":
        this.change("ownership", "change", null, "REASSIGN OWNED");
        this.cannotDerive("REASSIGN OWNED changes the owner of every object a role owns");
        return;
      case "CreateRoleStmt":
        this.target = text(body, "role") ?? null;
        this.add("role", this.target, null);
        return;
      case "AlterRoleStmt":
      case "AlterRoleSetStmt":
        this.change("role", "change", text(field(body, "role") ?? {}, "rolename") ?? null, "ALTER ROLE");
        return;
      case "DropRoleStmt":
        this.change("role", "remove", null, "DROP ROLE");
        return;
      case "CreatePolicyStmt": {
        const table = this.relation(field(body, "table"), defaultSchema);
        this.add("row_security", text(body, "policy_name") ?? null, table, { note: "policy" });
        this.target = table;
        return;
      }
      case "AlterPolicyStmt":
        this.target = this.relation(field(body, "table"), defaultSchema);
        this.change("row_security", "change", this.target, "ALTER POLICY");
        return;
      case "DropStmt":
        this.drop(body, defaultSchema);
        return;
      case "RenameStmt": {
        const renameType = text(body, "renameType");
        this.target = body.relation
          ? this.relation(field(body, "relation"), defaultSchema)
          : objectName(body.object, defaultSchema, this);
        this.change(DROP_KINDS[renameType ?? ""] ?? null, "change", this.target, `RENAME to ${text(body, "newname") ?? ""}`);
        return;
      }
      case "AlterObjectSchemaStmt":
        this.target = body.relation
          ? this.relation(field(body, "relation"), defaultSchema)
          : objectName(body.object, defaultSchema, this);
        this.change(DROP_KINDS[text(body, "objectType") ?? ""] ?? null, "change", this.target, "SET SCHEMA");
        if (text(body, "newschema")) this.schemas.add(text(body, "newschema")!);
        return;
      case "AlterSeqStmt":
        this.target = this.relation(field(body, "sequence"), defaultSchema);
        this.change("sequence", "change", this.target, "ALTER SEQUENCE");
        return;
      case "AlterEnumStmt":
        this.target = this.qualified(nameParts(list(body, "typeName")), defaultSchema);
        this.change("enum", "change", this.target, "ALTER TYPE ... ADD/RENAME VALUE");
        return;
      case "AlterDomainStmt":
        this.target = this.qualified(nameParts(list(body, "typeName")), defaultSchema);
        this.change("domain", "change", this.target, "ALTER DOMAIN");
        return;
      case "AlterFunctionStmt":
        this.change("function", "change", null, "ALTER FUNCTION");
        return;
      case "DoStmt":
        this.cannotDerive("a DO block runs code whose catalog effect cannot be derived");
        return;
      case "CallStmt":
        this.cannotDerive("CALL runs a procedure whose catalog effect cannot be derived");
        return;
      case "ExplainStmt":
        if (containsKey(body, DML_NODE_KINDS)) this.dml++;
        return;
      default:
        this.cannotDerive(`no derivation rule for ${commandTag(node as TreeObject)}`);
    }
  }

  private createTable(body: TreeObject, defaultSchema: string | null): void {
    const relation = field(body, "relation");
    const table = this.relation(relation, defaultSchema);
    this.target = table;
    if (isTemporary(relation)) return; // gone when the session ends: not part of the catalog afterwards
    this.add("table", table, null);
    if (table) this.tables.push(table);
    if (body.partbound) this.cannotDerive("a partition gets its parent's indexes, foreign keys and triggers");
    if (list(body, "inhRelations").length > 0) this.cannotDerive("INHERITS copies the parent's CHECK constraints and defaults");
    for (const element of list(body, "tableElts")) {
      const wrapped = unwrap(element);
      if (!wrapped) continue;
      const [kind, elementBody] = wrapped;
      if (kind === "ColumnDef") this.column(elementBody, table, false);
      else if (kind === "Constraint") this.constraint(elementBody, table, null);
      else if (kind === "TableLikeClause")
        this.cannotDerive("LIKE copies columns, and constraints and indexes as its options say");
    }
  }

  private column(column: TreeObject, table: string | null, countColumn: boolean): void {
    const name = text(column, "colname") ?? null;
    if (countColumn) this.add("column", table && name ? `${table}.${name}` : name, table);
    if (isSerialType(field(column, "typeName"))) {
      const sequence = table && name ? qualifyLike(table, `${baseName(table)}_${name}_seq`) : null;
      this.add("default", name, table, { implicit: true, note: "serial: DEFAULT nextval of its sequence" });
      this.add("sequence", sequence, table, { implicit: true, note: `serial: owned by ${table ?? "?"}.${name ?? "?"}` });
    }
    for (const constraint of list(column, "constraints")) {
      const wrapped = unwrap(constraint);
      if (wrapped && wrapped[0] === "Constraint") this.constraint(wrapped[1], table, name);
    }
  }

  private constraint(constraint: TreeObject, table: string | null, column: string | null): void {
    const name = text(constraint, "conname") ?? null;
    switch (text(constraint, "contype")) {
      case "CONSTR_PRIMARY":
        this.add("primary_key", name, table);
        return;
      case "CONSTR_UNIQUE":
        this.add("unique", name, table);
        return;
      case "CONSTR_FOREIGN": {
        const referenced = this.relationOnly(field(constraint, "pktable"));
        this.add("foreign_key", name, table, { note: referenced ? `references ${referenced}` : undefined });
        return;
      }
      case "CONSTR_CHECK":
        this.add("check", name, table);
        return;
      case "CONSTR_EXCLUSION":
        this.add("exclusion", name, table);
        return;
      case "CONSTR_DEFAULT":
        this.add("default", column, table);
        return;
      case "CONSTR_IDENTITY": {
        const sequence = table && column ? qualifyLike(table, `${baseName(table)}_${column}_seq`) : null;
        this.add("identity", column, table);
        this.add("sequence", sequence, table, { implicit: true, note: `identity: owned by ${table ?? "?"}.${column ?? "?"}` });
        return;
      }
      default:
        // NOT NULL, NULL, GENERATED (an expression, not a default) and constraint attributes add nothing countable.
        return;
    }
  }

  /** A referenced relation's name, without recording its schema as touched. */
  private relationOnly(rangeVar: TreeObject | undefined): string | null {
    if (!rangeVar) return null;
    const relname = text(rangeVar, "relname");
    const schema = text(rangeVar, "schemaname");
    return relname ? (schema ? `${schema}.${relname}` : relname) : null;
  }

  private alterTable(body: TreeObject, defaultSchema: string | null): void {
    const table = this.relation(field(body, "relation"), defaultSchema);
    this.target = table;
    const objectType = text(body, "objtype") ?? "OBJECT_TABLE";
    if (objectType !== "OBJECT_TABLE" && objectType !== "OBJECT_FOREIGN_TABLE") {
      this.change(DROP_KINDS[objectType] ?? null, "change", table, `ALTER ${objectType.replace("OBJECT_", "")}`);
      return;
    }
    for (const command of list(body, "cmds")) {
      const [, cmd] = unwrap(command) ?? ["", {} as TreeObject];
      const subtype = text(cmd, "subtype") ?? "";
      const columnName = text(cmd, "name") ?? null;
      const def = unwrap(cmd.def);
      switch (subtype) {
        case "AT_AddColumn":
          if (def?.[0] === "ColumnDef") this.column(def[1], table, true);
          break;
        case "AT_AddConstraint":
        case "AT_AddIndexConstraint":
          if (def?.[0] === "Constraint") this.constraint(def[1], table, null);
          break;
        case "AT_ColumnDefault":
          if (cmd.def) this.add("default", columnName, table, { note: "SET DEFAULT: added, or changed if the column had one" });
          else this.change("default", "remove", table, `DROP DEFAULT on ${columnName ?? "?"}`);
          break;
        case "AT_AddIdentity": {
          const sequence = table && columnName ? qualifyLike(table, `${baseName(table)}_${columnName}_seq`) : null;
          this.add("identity", columnName, table);
          this.add("sequence", sequence, table, {
            implicit: true,
            note: `identity: owned by ${table ?? "?"}.${columnName ?? "?"}`,
          });
          break;
        }
        case "AT_ChangeOwner":
          this.change("ownership", "change", table, "OWNER TO");
          break;
        case "AT_DropColumn":
          this.change("column", "remove", table, `DROP COLUMN ${columnName ?? "?"}`);
          break;
        case "AT_DropConstraint":
          this.change(null, "remove", table, `DROP CONSTRAINT ${columnName ?? "?"}`);
          break;
        case "AT_DropIdentity":
          this.change("identity", "remove", table, `DROP IDENTITY on ${columnName ?? "?"}`);
          break;
        case "AT_SetIdentity":
          this.change("identity", "change", table, `SET identity options on ${columnName ?? "?"}`);
          break;
        case "AT_EnableRowSecurity":
        case "AT_DisableRowSecurity":
        case "AT_ForceRowSecurity":
        case "AT_NoForceRowSecurity":
          this.change("row_security", "change", table, subtype.replace("AT_", ""));
          break;
        case "AT_AttachPartition":
        case "AT_DetachPartition":
        case "AT_DetachPartitionFinalize":
          this.change("table", "change", table, subtype.replace("AT_", ""));
          this.cannotDerive("attaching or detaching a partition clones or removes indexes, foreign keys and triggers");
          break;
        default:
          if (
            subtype.startsWith("AT_EnableTrig") ||
            subtype.startsWith("AT_DisableTrig") ||
            subtype.startsWith("AT_EnableAlwaysTrig") ||
            subtype.startsWith("AT_EnableReplicaTrig")
          ) {
            this.change("trigger", "change", table, subtype.replace("AT_", ""));
          } else if (columnName) {
            this.change("column", "change", table, `${subtype.replace("AT_", "")} on ${columnName}`);
          } else {
            this.change("table", "change", table, subtype.replace("AT_", ""));
          }
      }
    }
  }

  private grant(body: TreeObject, defaultSchema: string | null): void {
    const verb = flag(body, "is_grant") ? "GRANT" : "REVOKE";
    if (text(body, "targtype") === "ACL_TARGET_ALL_IN_SCHEMA") {
      const schemas = list(body, "objects").map((item) => nameParts([item])[0] ?? "?");
      for (const schema of schemas) this.schemas.add(schema);
      this.change("privilege", "change", schemas.join(", "), `${verb} ON ALL ... IN SCHEMA`);
      return;
    }
    for (const object of list(body, "objects")) {
      const wrapped = unwrap(object);
      const name =
        wrapped?.[0] === "RangeVar" ? this.relation(wrapped[1], defaultSchema) : objectName(object, defaultSchema, this);
      this.target ??= name;
      this.change("privilege", "change", name, `${verb} on ${text(body, "objtype")?.replace("OBJECT_", "") ?? "object"}`);
    }
  }

  private drop(body: TreeObject, defaultSchema: string | null): void {
    const removeType = text(body, "removeType") ?? "";
    const kind = DROP_KINDS[removeType] ?? null;
    for (const object of list(body, "objects")) {
      const name = objectName(object, defaultSchema, this);
      this.target ??= name;
      this.change(kind, "remove", name, `DROP ${removeType.replace("OBJECT_", "")}`);
    }
    if (text(body, "behavior") === "DROP_CASCADE") this.cannotDerive("CASCADE also drops every dependent object");
  }
}

const DML_NODE_KINDS = new Set(["InsertStmt", "UpdateStmt", "DeleteStmt", "MergeStmt"]);

function containsKey(body: TreeObject, keys: Set<string>): boolean {
  let found = false;
  walk(body, (object) => {
    if (found) return false;
    for (const key in object) {
      if (keys.has(key)) {
        found = true;
        return false;
      }
    }
    return undefined;
  });
  return found;
}

function isTemporary(rangeVar: TreeObject | undefined): boolean {
  return rangeVar !== undefined && text(rangeVar, "relpersistence") === "t";
}

function isSerialType(typeName: TreeObject | undefined): boolean {
  if (!typeName || list(typeName, "arrayBounds").length > 0) return false;
  const names = nameParts(list(typeName, "names"));
  return names.length === 1 && SERIAL_TYPES.has(names[0]!);
}

function baseName(qualified: string): string {
  const dot = qualified.lastIndexOf(".");
  return dot < 0 ? qualified : qualified.slice(dot + 1);
}

/** `name` in the same schema as `relation` ("s.t" + "x" → "s.x"). */
function qualifyLike(relation: string | null, name: string): string {
  if (!relation) return name;
  const dot = relation.lastIndexOf(".");
  return dot < 0 ? name : `${relation.slice(0, dot)}.${name}`;
}

/** The name of an object in a DROP/ALTER OWNER/RENAME object list (name lists, functions, types). */
function objectName(object: unknown, defaultSchema: string | null, deriver: Deriver): string | null {
  if (Array.isArray(object)) return deriver.qualified(nameParts(object), defaultSchema);
  const wrapped = unwrap(object);
  if (!wrapped) return null;
  const [kind, body] = wrapped;
  switch (kind) {
    case "List":
      return deriver.qualified(nameParts(list(body, "items")), defaultSchema);
    case "String":
      return String(body.sval ?? "");
    case "ObjectWithArgs":
      return deriver.qualified(nameParts(list(body, "objname")), defaultSchema);
    case "TypeName":
      return deriver.qualified(nameParts(list(body, "names")), defaultSchema);
    case "RangeVar":
      return deriver.relation(body, defaultSchema);
    default:
      return null;
  }
}

/** Derives the catalog delta of a parsed script. */
export function deriveDelta(trees: Node[]): Derivation {
  const deriver = new Deriver();
  const targets: Array<string | null> = [];
  trees.forEach((tree, index) => {
    deriver.index = index;
    deriver.target = null;
    deriver.statement(tree, null);
    targets.push(deriver.target);
  });
  const counts = Object.fromEntries(ObjectKindSchema.options.map((kind) => [kind, 0])) as Record<ObjectKind, number>;
  for (const object of deriver.objects) counts[object.kind]++;
  return {
    delta: {
      tables: deriver.tables,
      objects: deriver.objects,
      changes: deriver.changes,
      counts,
      dml: deriver.dml,
      schemas: [...deriver.schemas].sort(),
      notDerived: deriver.notDerived,
    },
    targets,
  };
}
