/**
 * Hand-made catalog-snapshot documents for unit tests: small builders whose output validates
 * against CatalogSnapshotSchema (the builders parse what they return).
 */

import { createHash } from "node:crypto";
import {
  type AclEntry,
  type CatalogSnapshot,
  CatalogSnapshotSchema,
  type Column,
  type Constraint,
  type Index,
  type Table,
} from "@dieu44/catalog-snapshot/schema";
import { FIXTURE_TABLES } from "@dieu44/test-harness";

export const SYSTEM_ID = "7611578671664259111";

export function column(position: number, name: string, type = "bigint", extra: Partial<Column> = {}): Column {
  return {
    position,
    name,
    type,
    notNull: true,
    default: null,
    identity: null,
    generated: null,
    generatedKind: null,
    collation: null,
    ...extra,
  };
}

export function primaryKey(table: string, columns: string[]): Constraint {
  return constraint(`${table}_pkey`, "primary_key", `PRIMARY KEY (${columns.join(", ")})`, columns, `${table}_pkey`);
}

export function unique(name: string, columns: string[]): Constraint {
  return constraint(name, "unique", `UNIQUE (${columns.join(", ")})`, columns, name);
}

export function check(name: string, expression: string, columns: string[]): Constraint {
  return constraint(name, "check", `CHECK (${expression})`, columns, null);
}

export function foreignKey(name: string, columns: string[], schema: string, table: string, referenced: string[]): Constraint {
  return {
    ...constraint(
      name,
      "foreign_key",
      `FOREIGN KEY (${columns.join(", ")}) REFERENCES ${schema}.${table}(${referenced.join(", ")})`,
      columns,
      null,
    ),
    foreignKey: {
      referencedSchema: schema,
      referencedTable: table,
      referencedColumns: referenced,
      onDelete: "no_action",
      onUpdate: "no_action",
      match: "simple",
    },
  };
}

function constraint(
  name: string,
  type: Constraint["type"],
  definition: string,
  columns: string[],
  index: string | null,
): Constraint {
  return {
    name,
    type,
    definition,
    columns,
    deferrable: false,
    initiallyDeferred: false,
    validated: true,
    nullsNotDistinct: false,
    foreignKey: null,
    index,
  };
}

/** The indexes that back a table's PK and UNIQUE constraints. */
export function backingIndexes(schema: string, table: string, constraints: Constraint[]): Index[] {
  return constraints
    .filter((c) => c.index !== null)
    .map((c) => ({
      name: c.index as string,
      definition: `CREATE UNIQUE INDEX ${c.index} ON ${schema}.${table} USING btree (${c.columns.join(", ")})`,
      unique: true,
      primary: c.type === "primary_key",
      constraint: c.name,
      valid: true,
    }));
}

export function table(schema: string, name: string, parts: Partial<Table> = {}): Table {
  const constraints = parts.constraints ?? [primaryKey(name, ["id"])];
  return {
    schema,
    name,
    kind: "table",
    persistence: "permanent",
    owner: "workflow_admin",
    rowSecurity: false,
    forceRowSecurity: false,
    partitionOf: null,
    columns: [column(1, "id"), column(2, "label", "text")],
    constraints,
    indexes: backingIndexes(schema, name, constraints),
    triggers: [],
    acl: [],
    ...parts,
  };
}

export function acl(grantee: string, privileges: string[], grantor = "workflow_admin"): AclEntry {
  return { grantee, grantor, privileges, grantable: [] };
}

export interface SnapshotParts extends Partial<Omit<CatalogSnapshot, "server" | "scope">> {
  systemIdentifier?: string;
  scopeSchemas?: string[] | null;
  privilegesFor?: string[];
}

/** A valid snapshot; the fingerprint is a hash of the content, as catalog-snapshot computes it in spirit. */
export function snapshot(parts: SnapshotParts = {}): CatalogSnapshot {
  const { systemIdentifier, scopeSchemas, privilegesFor, ...content } = parts;
  const body = {
    scope: { schemas: scopeSchemas === undefined ? ["cutter_governance"] : scopeSchemas, privilegesFor: privilegesFor ?? [] },
    schemas: [{ name: "cutter_governance", exists: true, owner: "workflow_admin", acl: [acl("directus", ["USAGE"])] }],
    tables: [],
    views: [],
    sequences: [],
    enums: [],
    domains: [],
    compositeTypes: [],
    routines: [],
    extensions: [],
    roles: [],
    ...content,
  };
  const document = {
    kind: "catalog-snapshot",
    formatVersion: 1,
    fingerprint: createHash("sha256").update(JSON.stringify(body)).digest("hex"),
    server: {
      systemIdentifier: systemIdentifier ?? SYSTEM_ID,
      serverVersion: "18.1",
      serverVersionNum: 180001,
      database: "cutter_prod",
      currentUser: "workflow_admin",
      sessionUser: "workflow_admin",
      inRecovery: false,
      takenAt: "2026-05-18T10:00:00.000Z",
    },
    ...body,
  };
  return CatalogSnapshotSchema.parse(document);
}

/** The twelve ws-q5 tables as the approved artifact creates them (columns abbreviated). */
export function wsq5Tables(): Table[] {
  const s = "cutter_governance";
  const names = FIXTURE_TABLES;
  // 8 foreign keys and 4 unique constraints spread as in the artifact.
  const fks: Record<string, [string, string][]> = {
    registry_entity_type: [["namespace_id", "registry_namespace"]],
    registry_entity: [["entity_type_id", "registry_entity_type"]],
    registry_attribute: [["entity_type_id", "registry_entity_type"]],
    registry_evidence: [
      ["source_id", "registry_source"],
      ["entity_id", "registry_entity"],
    ],
    registry_relation: [
      ["relation_type_id", "registry_relation_type"],
      ["from_entity_id", "registry_entity"],
      ["to_entity_id", "registry_entity"],
    ],
  };
  const uniques: Record<string, string> = {
    registry_namespace: "code",
    registry_entity_type: "code",
    registry_source: "uri",
    registry_relation_type: "code",
  };
  return names.map((name) => {
    const columns = [column(1, "id"), column(2, "label", "text")];
    const constraints: Constraint[] = [primaryKey(name, ["id"])];
    for (const [col, target] of fks[name] ?? []) {
      columns.push(column(columns.length + 1, col));
      constraints.push(foreignKey(`${name}_${col}_fkey`, [col], s, target, ["id"]));
    }
    const uniqueColumn = uniques[name];
    if (uniqueColumn) {
      columns.push(column(columns.length + 1, uniqueColumn, "text"));
      constraints.push(unique(`${name}_${uniqueColumn}_key`, [uniqueColumn]));
    }
    return table(s, name, { columns, constraints, indexes: backingIndexes(s, name, constraints) });
  });
}

/** The pre-existing fixture table the artifact does not touch. */
export function governanceLaw(): Table {
  const constraints = [primaryKey("governance_law", ["law_id"]), unique("governance_law_code_key", ["code"])];
  return table("cutter_governance", "governance_law", {
    columns: [column(1, "law_id"), column(2, "code", "text"), column(3, "title", "text"), column(4, "enacted_on", "date")],
    constraints,
    indexes: backingIndexes("cutter_governance", "governance_law", constraints),
    acl: [acl("workflow_admin", ["DELETE", "INSERT", "SELECT", "UPDATE"]), acl("directus", ["SELECT"], "postgres")],
  });
}
