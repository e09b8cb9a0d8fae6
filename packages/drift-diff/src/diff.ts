/**
 * diff(before, after): every catalog object of both snapshots is flattened into an entry with a
 * stable identity, then the two maps are compared. Linear in the size of the snapshots.
 */
import type { AclEntry, CatalogSnapshot, Table } from "@dieu44/catalog-snapshot/schema";
import { InputError } from "@dieu44/plumbing/exit";
import { qualifiedName, quoteName } from "./identity.js";
import {
  CATALOG_DIFF_FORMAT_VERSION,
  CATALOG_DIFF_KIND,
  type CatalogDiff,
  type Change,
  type ChangeCounts,
  type ChangeType,
  type FieldChange,
  type JsonValue,
  type ObjectKind,
  ObjectKindSchema,
  type SnapshotRef,
} from "./schema.js";

export interface DiffScope {
  /** Only objects in these schemas (cluster-wide objects such as roles are always kept). */
  schemas?: string[];
  /** Only changes of these kinds. */
  kinds?: ObjectKind[];
}

export interface DiffOptions {
  scope?: DiffScope;
  /** Compare snapshots of two different clusters (e.g. staging against production). */
  allowDifferentClusters?: boolean;
}

type JsonObject = { [key: string]: JsonValue };

/** One flattened catalog object. */
interface Entry {
  kind: ObjectKind;
  identity: string;
  schema: string | null;
  table: string | null;
  name: string;
  parent: string | null;
  /** The compared value. */
  value: JsonValue;
  /** Shown with the value but not compared (e.g. a table's owner, reported as ownership). */
  info?: JsonObject;
  /**
   * An ACL entry every object of its kind gets by default (the owner's own privileges, PUBLIC
   * EXECUTE on a function): part of creating or dropping the object, not a privilege change.
   */
  implicit?: boolean;
}

/** Kinds reported only as "changed": an owner appears and disappears with its object. */
const CHANGE_ONLY_KINDS = new Set<ObjectKind>(["ownership"]);

const KIND_ORDER = new Map<ObjectKind, number>(ObjectKindSchema.options.map((kind, index) => [kind, index]));

const CONSTRAINT_KINDS: Record<Table["constraints"][number]["type"], ObjectKind> = {
  primary_key: "primary_key",
  foreign_key: "foreign_key",
  unique: "unique",
  check: "check",
  exclusion: "exclusion",
  trigger: "trigger",
};

export function snapshotRef(snapshot: CatalogSnapshot): SnapshotRef {
  return {
    fingerprint: snapshot.fingerprint,
    takenAt: snapshot.server.takenAt,
    systemIdentifier: snapshot.server.systemIdentifier,
    serverVersion: snapshot.server.serverVersion,
    database: snapshot.server.database,
    schemas: snapshot.scope.schemas,
  };
}

/** The schemas both snapshots cover, narrowed by the requested ones; null = every schema. */
function effectiveSchemas(before: CatalogSnapshot, after: CatalogSnapshot, requested?: string[]): string[] | null {
  let covered: string[] | null = null;
  for (const list of [before.scope.schemas, after.scope.schemas, requested ?? null]) {
    if (list === null) continue;
    covered = covered === null ? [...new Set(list)] : covered.filter((name) => list.includes(name));
  }
  return covered === null ? null : covered.sort();
}

class EntryCollector {
  readonly entries = new Map<string, Entry>();

  constructor(
    private readonly inScope: (schema: string) => boolean,
    /** Tables known to be identical on both sides are not flattened at all (the common case). */
    private readonly skipTable?: (table: Table) => boolean,
  ) {}

  add(entry: Entry): void {
    this.entries.set(entry.identity, entry);
  }

  owner(parent: string, schema: string | null, table: string | null, owner: string): void {
    this.add({ kind: "ownership", identity: `${parent}.owner`, schema, table, name: "owner", parent, value: owner });
  }

  acl(parent: string, schema: string | null, table: string | null, acl: AclEntry[], owner: string | null): void {
    for (const entry of acl) {
      const implicit =
        entry.grantor === owner &&
        (entry.grantee === owner ||
          (/^(function|procedure):/.test(parent) && entry.grantee === "PUBLIC" && entry.privileges.join() === "EXECUTE"));
      // PUBLIC is the snapshot's name for the public pseudo-role: written as in GRANT ... TO PUBLIC.
      const grantee = entry.grantee === "PUBLIC" ? "PUBLIC" : quoteName(entry.grantee);
      const name = `${grantee}(by ${quoteName(entry.grantor)})`;
      this.add({
        kind: "privilege",
        identity: `${parent}.privilege:${name}`,
        schema,
        table,
        name,
        parent,
        value: { grantee: entry.grantee, grantor: entry.grantor, privileges: entry.privileges, grantable: entry.grantable },
        implicit,
      });
    }
  }

  collect(snapshot: CatalogSnapshot, roleNames: Set<string>, schemas: string[] | null): void {
    for (const schema of snapshot.schemas) {
      if (!schema.exists || !this.inScope(schema.name)) continue;
      const identity = `schema:${quoteName(schema.name)}`;
      this.add({ kind: "schema", identity, schema: schema.name, table: null, name: schema.name, parent: null, value: {} });
      if (schema.owner !== null) this.owner(identity, schema.name, null, schema.owner);
      this.acl(identity, schema.name, null, schema.acl, schema.owner);
    }
    for (const table of snapshot.tables) {
      if (this.inScope(table.schema) && !this.skipTable?.(table)) this.table(table);
    }
    for (const view of snapshot.views) {
      if (!this.inScope(view.schema)) continue;
      const identity = `${view.kind}:${qualifiedName(view.schema, view.name)}`;
      this.add({
        kind: view.kind,
        identity,
        schema: view.schema,
        table: null,
        name: view.name,
        parent: null,
        value: { definition: view.definition },
        info: { owner: view.owner },
      });
      this.owner(identity, view.schema, null, view.owner);
      this.acl(identity, view.schema, null, view.acl, view.owner);
    }
    for (const sequence of snapshot.sequences) {
      if (!this.inScope(sequence.schema)) continue;
      const identity = `sequence:${qualifiedName(sequence.schema, sequence.name)}`;
      // A sequence owned by a column belongs to that table (it goes with an unexpected table).
      const table = sequence.ownedBy?.schema === sequence.schema ? sequence.ownedBy.table : null;
      this.add({
        kind: "sequence",
        identity,
        schema: sequence.schema,
        table,
        name: sequence.name,
        parent: null,
        value: {
          dataType: sequence.dataType,
          start: sequence.start,
          increment: sequence.increment,
          min: sequence.min,
          max: sequence.max,
          cycle: sequence.cycle,
          ownedBy: sequence.ownedBy,
        },
        info: { owner: sequence.owner },
      });
      this.owner(identity, sequence.schema, table, sequence.owner);
      this.acl(identity, sequence.schema, table, sequence.acl, sequence.owner);
    }
    const types: { kind: ObjectKind; schema: string; name: string; owner: string; value: JsonObject }[] = [
      ...snapshot.enums.map((e) => ({ kind: "enum" as const, ...e, value: { labels: e.labels } })),
      ...snapshot.domains.map((d) => ({
        kind: "domain" as const,
        ...d,
        value: { baseType: d.baseType, notNull: d.notNull, default: d.default, checks: d.checks },
      })),
      ...snapshot.compositeTypes.map((c) => ({ kind: "composite_type" as const, ...c, value: { attributes: c.attributes } })),
    ];
    for (const type of types) {
      if (!this.inScope(type.schema)) continue;
      const identity = `${type.kind}:${qualifiedName(type.schema, type.name)}`;
      this.add({
        kind: type.kind,
        identity,
        schema: type.schema,
        table: null,
        name: type.name,
        parent: null,
        value: type.value,
        info: { owner: type.owner },
      });
      this.owner(identity, type.schema, null, type.owner);
    }
    for (const routine of snapshot.routines) {
      if (!this.inScope(routine.schema)) continue;
      const kind: ObjectKind = routine.kind === "procedure" ? "procedure" : "function";
      const name = `${quoteName(routine.name)}(${routine.identityArguments})`;
      const identity = `${kind}:${quoteName(routine.schema)}.${name}`;
      this.add({
        kind,
        identity,
        schema: routine.schema,
        table: null,
        name,
        parent: null,
        value: {
          kind: routine.kind,
          returns: routine.returns,
          language: routine.language,
          volatility: routine.volatility,
          securityDefiner: routine.securityDefiner,
          bodySha256: routine.bodySha256,
        },
        info: { owner: routine.owner },
      });
      this.owner(identity, routine.schema, null, routine.owner);
      this.acl(identity, routine.schema, null, routine.acl, routine.owner);
    }
    for (const extension of snapshot.extensions) {
      if (!this.inScope(extension.schema)) continue;
      this.add({
        kind: "extension",
        identity: `extension:${quoteName(extension.name)}`,
        schema: extension.schema,
        table: null,
        name: extension.name,
        parent: null,
        value: { version: extension.version, schema: extension.schema },
      });
    }
    for (const role of snapshot.roles) {
      // Roles are compared only when both snapshots looked at them, and only while they exist.
      if (!role.exists || !roleNames.has(role.name)) continue;
      this.add({
        kind: "role",
        identity: `role:${quoteName(role.name)}`,
        schema: null,
        table: null,
        name: role.name,
        parent: null,
        value: {
          canLogin: role.canLogin,
          superuser: role.superuser,
          memberOf: role.memberOf,
          schemaPrivileges: role.schemaPrivileges
            .filter((entry) => schemas === null || schemas.includes(entry.schema))
            .map((entry) => ({ schema: entry.schema, usage: entry.usage, create: entry.create })),
        },
      });
    }
  }

  table(table: Table): void {
    const { schema, name } = table;
    const identity = qualifiedName(schema, name);
    const child = (kind: ObjectKind, suffix: string, childName: string, value: JsonValue, info?: JsonObject) =>
      this.add({ kind, identity: `${identity}.${suffix}`, schema, table: name, name: childName, parent: identity, value, info });
    this.add({
      kind: "table",
      identity,
      schema,
      table: name,
      name,
      parent: null,
      value: { kind: table.kind, persistence: table.persistence, partitionOf: table.partitionOf },
      info: { owner: table.owner, rowSecurity: table.rowSecurity, forceRowSecurity: table.forceRowSecurity },
    });
    this.owner(identity, schema, name, table.owner);
    this.acl(identity, schema, name, table.acl, table.owner);
    if (table.rowSecurity || table.forceRowSecurity) {
      child("row_security", "row_security", "row_security", { enabled: table.rowSecurity, forced: table.forceRowSecurity });
    }
    for (const column of table.columns) {
      const suffix = `column:${quoteName(column.name)}`;
      child(
        "column",
        suffix,
        column.name,
        {
          type: column.type,
          notNull: column.notNull,
          generated: column.generated,
          generatedKind: column.generatedKind,
          collation: column.collation,
        },
        { position: column.position },
      );
      if (column.default !== null) child("default", `${suffix}.default`, column.name, column.default);
      if (column.identity !== null) child("identity", `${suffix}.identity`, column.name, column.identity);
    }
    const triggerNames = new Set(table.triggers.map((trigger) => trigger.name));
    for (const constraint of table.constraints) {
      // A constraint trigger is also listed among the triggers: report it once, as a trigger.
      if (constraint.type === "trigger" && triggerNames.has(constraint.name)) continue;
      child(CONSTRAINT_KINDS[constraint.type], `constraint:${quoteName(constraint.name)}`, constraint.name, {
        type: constraint.type,
        definition: constraint.definition,
        columns: constraint.columns,
        deferrable: constraint.deferrable,
        initiallyDeferred: constraint.initiallyDeferred,
        validated: constraint.validated,
        nullsNotDistinct: constraint.nullsNotDistinct,
        foreignKey: constraint.foreignKey,
        index: constraint.index,
      });
    }
    for (const index of table.indexes) {
      // Indexes that back a constraint are reported through their constraint.
      if (index.constraint !== null) continue;
      child("index", `index:${quoteName(index.name)}`, index.name, {
        definition: index.definition,
        unique: index.unique,
        primary: index.primary,
        valid: index.valid,
      });
    }
    for (const trigger of table.triggers) {
      child("trigger", `trigger:${quoteName(trigger.name)}`, trigger.name, {
        definition: trigger.definition,
        enabled: trigger.enabled,
      });
    }
  }
}

function isObject(value: JsonValue): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function jsonEqual(a: JsonValue, b: JsonValue): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i] as JsonValue, b[i] as JsonValue)) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  for (const key of keys) {
    if (!(key in b) || !jsonEqual(a[key] as JsonValue, b[key] as JsonValue)) return false;
  }
  return true;
}

function fieldChanges(before: JsonValue, after: JsonValue): FieldChange[] {
  if (!isObject(before) || !isObject(after)) return [{ field: "value", before, after }];
  const fields: FieldChange[] = [];
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const b = before[key] ?? null;
    const a = after[key] ?? null;
    if (!jsonEqual(b, a)) fields.push({ field: key, before: b, after: a });
  }
  return fields;
}

function shown(entry: Entry): JsonValue {
  if (!entry.info) return entry.value;
  return isObject(entry.value) ? { ...entry.value, ...entry.info } : entry.value;
}

function toChange(change: ChangeType, entry: Entry, before: Entry | null, after: Entry | null): Change {
  return {
    change,
    objectKind: entry.kind,
    identity: entry.identity,
    schema: entry.schema,
    table: entry.table,
    name: entry.name,
    parent: entry.parent,
    before: before ? shown(before) : null,
    after: after ? shown(after) : null,
    fields: before && after ? fieldChanges(before.value, after.value) : [],
  };
}

function compareChanges(a: Change, b: Change): number {
  const keys: [string | number, string | number][] = [
    [a.schema ?? "", b.schema ?? ""],
    [a.table ?? "", b.table ?? ""],
    [KIND_ORDER.get(a.objectKind) ?? 0, KIND_ORDER.get(b.objectKind) ?? 0],
    [a.identity, b.identity],
    [a.change, b.change],
  ];
  for (const [x, y] of keys) if (x !== y) return x < y ? -1 : 1;
  return 0;
}

export function emptyCounts(): ChangeCounts {
  return { added: 0, removed: 0, changed: 0 };
}

/** Counts per kind (in ObjectKind order, kinds without changes absent) and the total. */
export function summarize(changes: readonly Change[]): CatalogDiff["summary"] {
  const byKind = new Map<ObjectKind, ChangeCounts>();
  const total = emptyCounts();
  for (const change of changes) {
    const counts = byKind.get(change.objectKind) ?? emptyCounts();
    byKind.set(change.objectKind, counts);
    counts[change.change] += 1;
    total[change.change] += 1;
  }
  const ordered: CatalogDiff["summary"]["byKind"] = {};
  for (const kind of ObjectKindSchema.options) {
    const counts = byKind.get(kind);
    if (counts) ordered[kind] = counts;
  }
  return { byKind: ordered, total };
}

/**
 * Compares two catalog snapshots. Throws InputError when they come from different clusters
 * unless `allowDifferentClusters` is set. Only schemas that both snapshots covered are compared.
 */
export function diff(before: CatalogSnapshot, after: CatalogSnapshot, options: DiffOptions = {}): CatalogDiff {
  const sameCluster = before.server.systemIdentifier === after.server.systemIdentifier;
  if (!sameCluster && !options.allowDifferentClusters) {
    throw new InputError(
      `the snapshots come from different clusters (system identifier ${before.server.systemIdentifier} before, ` +
        `${after.server.systemIdentifier} after); pass --allow-different-clusters to compare them anyway`,
    );
  }
  const schemas = effectiveSchemas(before, after, options.scope?.schemas);
  const schemaSet = schemas === null ? null : new Set(schemas);
  const inScope = (schema: string) => schemaSet === null || schemaSet.has(schema);
  const kinds = options.scope?.kinds ? [...new Set(options.scope.kinds)] : null;
  const kindSet = kinds === null ? null : new Set(kinds);

  const beforeRoles = new Set(before.scope.privilegesFor);
  const roleNames = new Set(after.scope.privilegesFor.filter((role) => beforeRoles.has(role)));
  // Most tables are unchanged: compare them whole first and flatten only the others.
  const tableKey = (table: Table) => `${table.schema}\u0000${table.name}`;
  const afterTables = new Map(after.tables.map((table) => [tableKey(table), table]));
  const unchanged = new Set<string>();
  for (const table of before.tables) {
    const key = tableKey(table);
    const other = afterTables.get(key);
    if (other && jsonEqual(table as unknown as JsonValue, other as unknown as JsonValue)) unchanged.add(key);
  }
  const skipTable = (table: Table) => unchanged.has(tableKey(table));
  const old = new EntryCollector(inScope, skipTable);
  old.collect(before, roleNames, schemas);
  const now = new EntryCollector(inScope, skipTable);
  now.collect(after, roleNames, schemas);

  const changes: Change[] = [];
  const wanted = (kind: ObjectKind) => kindSet === null || kindSet.has(kind);
  for (const [identity, b] of old.entries) {
    const a = now.entries.get(identity);
    if (a && a.kind === b.kind) {
      if (wanted(b.kind) && !jsonEqual(b.value, a.value)) changes.push(toChange("changed", b, b, a));
      continue;
    }
    if (b.implicit && b.parent !== null && !now.entries.has(b.parent)) continue;
    if (wanted(b.kind) && !CHANGE_ONLY_KINDS.has(b.kind)) changes.push(toChange("removed", b, b, null));
  }
  for (const [identity, a] of now.entries) {
    const b = old.entries.get(identity);
    if (b && b.kind === a.kind) continue;
    if (a.implicit && a.parent !== null && !old.entries.has(a.parent)) continue;
    if (wanted(a.kind) && !CHANGE_ONLY_KINDS.has(a.kind)) changes.push(toChange("added", a, null, a));
  }
  changes.sort(compareChanges);

  return {
    kind: CATALOG_DIFF_KIND,
    formatVersion: CATALOG_DIFF_FORMAT_VERSION,
    before: snapshotRef(before),
    after: snapshotRef(after),
    sameCluster,
    scope: { schemas, kinds: kinds === null ? null : ObjectKindSchema.options.filter((kind) => kindSet?.has(kind)) },
    identical: changes.length === 0,
    changes,
    summary: summarize(changes),
  };
}
