/**
 * The Mermaid `erDiagram` of the tables an apply created and their foreign keys, for the
 * verification result (GitHub renders it). Names from the catalog are reduced to the characters
 * Mermaid accepts (anything else becomes `_`), so no name can break the diagram or the markdown.
 */
import type { CatalogSnapshot, Table } from "@dieu44/catalog-snapshot/schema";
import type { ForeignKeyEdge } from "./schema.js";

/** Characters kept in a quoted entity name or relationship label; the rest become `_`. */
function entityText(text: string): string {
  return text.replace(/[^A-Za-z0-9_.$-]/g, "_");
}

/** Attribute names and types must start with a letter or `_` and keep to word-ish characters. */
function attributeWord(text: string, keep: RegExp): string {
  const word = text.replace(keep, "_");
  return /^[A-Za-z_]/.test(word) ? word : `_${word}`;
}

const qualified = (table: { schema: string; name: string }) => `${table.schema}.${table.name}`;

/** The foreign keys declared on the given tables of a snapshot, in snapshot order. */
export function foreignKeysOf(snapshot: CatalogSnapshot, tableNames: readonly string[]): ForeignKeyEdge[] {
  const wanted = new Set(tableNames);
  const edges: ForeignKeyEdge[] = [];
  for (const table of snapshot.tables) {
    if (!wanted.has(qualified(table))) continue;
    for (const constraint of table.constraints) {
      if (constraint.type !== "foreign_key" || constraint.foreignKey === null) continue;
      edges.push({
        name: constraint.name,
        from: qualified(table),
        fromColumns: constraint.columns,
        to: `${constraint.foreignKey.referencedSchema}.${constraint.foreignKey.referencedTable}`,
        toColumns: constraint.foreignKey.referencedColumns,
      });
    }
  }
  return edges;
}

function attributeLines(table: Table): string[] {
  const keys = new Map<string, Set<string>>();
  const mark = (column: string, key: string) => {
    const set = keys.get(column) ?? new Set<string>();
    set.add(key);
    keys.set(column, set);
  };
  for (const constraint of table.constraints) {
    const key = { primary_key: "PK", foreign_key: "FK", unique: "UK" }[constraint.type as string];
    if (key) for (const column of constraint.columns) mark(column, key);
  }
  return table.columns.map((column) => {
    const type = attributeWord(column.type.replace(/ /g, "_"), /[^A-Za-z0-9_()[\],]/g);
    const name = attributeWord(column.name, /[^A-Za-z0-9_]/g);
    const columnKeys = ["PK", "FK", "UK"].filter((key) => keys.get(column.name)?.has(key));
    return `    ${type} ${name}${columnKeys.length > 0 ? ` ${columnKeys.join(", ")}` : ""}`;
  });
}

/**
 * Builds the diagram text (without the ```mermaid fence). Tables are the created ones, in the
 * given order, with their columns when the after-snapshot has them; a referenced table that was
 * not created appears as a bare entity. A foreign key whose columns are all NOT NULL is drawn
 * "exactly one" on the referenced side, otherwise "zero or one".
 */
export function erDiagram(
  createdTables: readonly string[],
  edges: readonly ForeignKeyEdge[],
  after: CatalogSnapshot | null,
): string {
  const tablesByName = new Map((after?.tables ?? []).map((table) => [qualified(table), table]));
  const ids = new Map<string, string>();
  const used = new Set<string>();
  const idOf = (name: string) => {
    let id = ids.get(name);
    if (id === undefined) {
      const base = entityText(name);
      id = base;
      for (let n = 2; used.has(id); n++) id = `${base}_${n}`;
      used.add(id);
      ids.set(name, id);
    }
    return id;
  };
  const lines = ["erDiagram"];
  for (const name of createdTables) {
    const table = tablesByName.get(name);
    const attributes = table ? attributeLines(table) : [];
    if (attributes.length === 0) lines.push(`  "${idOf(name)}"`);
    else lines.push(`  "${idOf(name)}" {`, ...attributes, "  }");
  }
  for (const edge of edges) {
    const child = tablesByName.get(edge.from);
    const required = child !== undefined && edge.fromColumns.every((c) => child.columns.find((col) => col.name === c)?.notNull);
    const parentSide = required ? "||" : "|o";
    lines.push(`  "${idOf(edge.to)}" ${parentSide}--o{ "${idOf(edge.from)}" : "${entityText(edge.name)}"`);
  }
  return lines.join("\n");
}
