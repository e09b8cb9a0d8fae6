/**
 * Index and constraint definitions composed on the client, for the plain cases only.
 *
 * pg_get_indexdef and pg_get_constraintdef are the costliest part of a large snapshot: in a fresh
 * backend each call fills the catalog caches for its index, table and columns, and looks up the
 * default operator class of every key column with a scan of pg_opclass (about 20 µs per index on
 * 10,000 tables). For the plain cases the text is fully determined by the structured fields this
 * package reads anyway, so it is composed here by the same rules as PostgreSQL's ruleutils.c
 * (pg_get_indexdef_worker, pg_get_constraintdef_worker, quote_identifier). Anything else (an
 * expression or partial index, storage or operator class options, a non-default operator class or
 * collation, a domain column, an access method other than btree or hash, a temporal or NOT
 * ENFORCED key, ON DELETE SET NULL (columns), a CHECK, an exclusion constraint...) returns null
 * and the server's own function is called for it. Two tests (definitions.test.ts and the wider
 * definitions-fidelity.test.ts) compare every text with the server's on PostgreSQL 15 and 18.
 */

/** What the server says about identifiers and operator classes, read once per snapshot. */
export interface DefinitionFacts {
  /** Keywords that quote_identifier must quote (pg_get_keywords() catcode other than 'U'). */
  keywords: string[];
  /** Every default operator class of btree and hash. */
  defaultOpclasses: {
    oid: number;
    am: string;
    inputType: number;
    /** The name of its input type when that is a pseudo-type (anyarray, anyenum, record, ...), else null. */
    pseudoInput: string | null;
    /** typcategory and typispreferred of its input type. */
    inputCategory: string;
    inputPreferred: boolean;
  }[];
  /** Implicit binary-coercible casts (pg_cast castmethod 'b', castcontext 'i'). */
  binaryCasts: { source: number; target: number }[];
}

/** A column as the composition needs it: name, type oid, collation oid, and its category if its type is plain. */
export interface ColumnFacts {
  name: string;
  /** atttypid; 0 for a domain (GetDefaultOpClass looks through domains: left to the server). */
  typeOid: number;
  collationOid: number;
  /**
   * typcategory of a base type that is not an array (typtype 'b', typelem 0), which no polymorphic
   * operator class can match; null for any other type (domain, array, enum, range, composite).
   */
  plainCategory: string | null;
}

/** A table's columns indexed by position (attnum), so a sparse array: position 0 and dropped ones are holes. */
export type ColumnsByPosition<C = ColumnFacts> = readonly (C | undefined)[];

/** pg_index fields of one index. */
export interface IndexStructure {
  name: string;
  unique: boolean;
  /** An index on a partitioned table (relkind 'I'): pg_get_indexdef prints ON ONLY. */
  partitioned: boolean;
  am: string;
  schema: string;
  table: string;
  /** indkey: table column positions, key columns first, then INCLUDE columns; 0 for an expression. */
  key: number[];
  keyCount: number;
  opclasses: number[];
  collations: number[];
  options: number[];
  nullsNotDistinct: boolean;
}

/** The row of definitionFactsQuery. */
export interface DefinitionFactsRow {
  keywords: string[];
  default_opclasses: DefinitionFacts["defaultOpclasses"];
  binary_casts: DefinitionFacts["binaryCasts"];
}

export function definitionFactsOf(row: DefinitionFactsRow): DefinitionFacts {
  return { keywords: row.keywords, defaultOpclasses: row.default_opclasses, binaryCasts: row.binary_casts };
}

/** The composition's fields of a columnsQuery row. */
export interface ColumnFactsRow {
  name: string;
  type_oid: number;
  collation_oid: number;
  plain_category: string | null;
}

/** `name`: the row's name, or the one copy of it the snapshot keeps. */
export function columnFactsOf(row: ColumnFactsRow, name: string = row.name): ColumnFacts {
  return { name, typeOid: row.type_oid, collationOid: row.collation_oid, plainCategory: row.plain_category };
}

/** The composition's fields of an indexesQuery row: vectors as their text ("1 2"), cheaper than arrays through pg's parser. */
export interface IndexStructureRow {
  name: string;
  unique: boolean;
  am: string;
  partitioned: boolean;
  key_count: number;
  key: string;
  opclasses: string;
  collations: string;
  options: string;
  nulls_not_distinct: boolean;
}

export function indexStructureOf(row: IndexStructureRow, schema: string, table: string): IndexStructure {
  return {
    am: row.am,
    collations: vectorOf(row.collations),
    key: vectorOf(row.key),
    keyCount: row.key_count,
    name: row.name,
    nullsNotDistinct: row.nulls_not_distinct,
    opclasses: vectorOf(row.opclasses),
    options: vectorOf(row.options),
    partitioned: row.partitioned,
    schema,
    table,
    unique: row.unique,
  };
}

/** The numbers of an int2vector's or oidvector's text, or of an int2[] joined by spaces. */
export function vectorOf(text: string): number[] {
  if (text === "") return [];
  // Most keys have one column: no split, no intermediate array.
  return text.includes(" ") ? text.split(" ").map(Number) : [Number(text)];
}

type DefaultOpclass = DefinitionFacts["defaultOpclasses"][number];

/** Polymorphic input types that any plain type matches: their opclasses make the default uncertain here. */
const UNIVERSAL_PSEUDO_TYPES = new Set(["any", "anyelement", "anycompatible", "anynonarray", "anycompatiblenonarray"]);

/** What quote_identifier leaves bare, unless it is a keyword. */
const BARE_IDENTIFIER = /^[a-z_][a-z0-9_]*$/;

/** indoption bits (pg_index.h). */
const INDOPTION_DESC = 1;
const INDOPTION_NULLS_FIRST = 2;

export class DefinitionComposer {
  private readonly keywords: Set<string>;
  private readonly defaults = new Map<string, DefaultOpclass[]>();
  private readonly defaultFor = new Map<string, DefaultOpclass | null>();
  private readonly casts = new Set<string>();

  constructor(facts: DefinitionFacts) {
    this.keywords = new Set(facts.keywords);
    for (const opclass of facts.defaultOpclasses) {
      const list = this.defaults.get(opclass.am) ?? [];
      list.push(opclass);
      this.defaults.set(opclass.am, list);
    }
    for (const cast of facts.binaryCasts) this.casts.add(`${cast.source}>${cast.target}`);
  }

  /** quote_identifier: bare only for lower-case letters, digits and underscores that are not a reserved word. */
  quote(name: string): string {
    // No cache: most names (of indexes, tables) are quoted once, and a map of every name cost
    // more than the test it saves.
    if (BARE_IDENTIFIER.test(name) && !this.keywords.has(name)) return name;
    return `"${name.replace(/"/g, '""')}"`;
  }

  /**
   * True only when `opclass` is certainly what GetDefaultOpClass(type, am) returns (indexcmds.c),
   * so that pg_get_indexdef leaves it out.
   */
  private isCertainDefault(am: string, column: ColumnFacts, opclass: number): boolean {
    const key = `${am}:${column.typeOid}:${column.plainCategory}`;
    let chosen = this.defaultFor.get(key);
    if (chosen === undefined) {
      chosen = this.defaultOpclass(am, column);
      this.defaultFor.set(key, chosen);
    }
    return chosen !== null && chosen.oid === opclass;
  }

  /**
   * GetDefaultOpClass's choice, or null when it is none or not certain here: the one default
   * with exactly the column's type; else, for a plain type, among the defaults it casts to
   * implicitly and binary-coercibly, the one of its category's preferred type, or the only one.
   */
  private defaultOpclass(am: string, column: ColumnFacts): DefaultOpclass | null {
    const defaults = this.defaults.get(am) ?? [];
    const exact = defaults.filter((candidate) => candidate.inputType === column.typeOid);
    if (exact.length > 0) return exact.length === 1 ? (exact[0] as DefaultOpclass) : null;
    // Domains, arrays, enums, ranges and composites may match polymorphic opclasses: not decided here.
    if (column.plainCategory === null) return null;
    const candidates: DefaultOpclass[] = [];
    for (const candidate of defaults) {
      if (candidate.pseudoInput !== null) {
        if (UNIVERSAL_PSEUDO_TYPES.has(candidate.pseudoInput)) return null;
        continue;
      }
      if (this.casts.has(`${column.typeOid}>${candidate.inputType}`)) candidates.push(candidate);
    }
    const preferred = candidates.filter(
      (candidate) => candidate.inputPreferred && candidate.inputCategory === column.plainCategory,
    );
    if (preferred.length === 1) return preferred[0] as DefaultOpclass;
    if (preferred.length === 0 && candidates.length === 1) return candidates[0] as DefaultOpclass;
    return null;
  }

  /** The text of pg_get_indexdef, or null when it is not a plain case. */
  indexDefinition(index: IndexStructure, columns: ColumnsByPosition): string | null {
    if (index.am !== "btree" && index.am !== "hash") return null;
    const parts: string[] = [];
    for (let k = 0; k < index.key.length; k += 1) {
      const column = columns[index.key[k] as number];
      if (!column) return null;
      let text = this.quote(column.name);
      if (k < index.keyCount) {
        const collation = index.collations[k] ?? 0;
        if (collation !== 0 && collation !== column.collationOid) return null;
        if (!this.isCertainDefault(index.am, column, index.opclasses[k] ?? 0)) return null;
        const option = index.options[k] ?? 0;
        // Only btree can order (amcanorder); it prints DESC and the non-default NULLS placement.
        if (index.am === "btree") {
          if (option & INDOPTION_DESC) text += option & INDOPTION_NULLS_FIRST ? " DESC" : " DESC NULLS LAST";
          else if (option & INDOPTION_NULLS_FIRST) text += " NULLS FIRST";
        } else if (option !== 0) return null;
      }
      parts.push(text);
    }
    return flat([
      index.unique ? "CREATE UNIQUE INDEX " : "CREATE INDEX ",
      this.quote(index.name),
      index.partitioned ? " ON ONLY " : " ON ",
      this.quote(index.schema),
      ".",
      this.quote(index.table),
      " USING ",
      this.quote(index.am),
      " (",
      parts.slice(0, index.keyCount).join(", "),
      index.key.length > index.keyCount ? `) INCLUDE (${parts.slice(index.keyCount).join(", ")})` : ")",
      index.nullsNotDistinct ? " NULLS NOT DISTINCT" : "",
    ]);
  }

  private columnList(positions: readonly number[], columns: ColumnsByPosition<{ name: string }>): string | null {
    const names: string[] = [];
    for (const position of positions) {
      const column = columns[position];
      if (!column) return null;
      names.push(this.quote(column.name));
    }
    return names.join(", ");
  }

  /**
   * The text of pg_get_constraintdef for a primary key or UNIQUE constraint, from its backing
   * index; null when not a plain case.
   */
  keyConstraintDefinition(
    type: "primary_key" | "unique",
    key: readonly number[],
    constraint: ConstraintFlags,
    index: { key: number[]; keyCount: number; nullsNotDistinct: boolean },
    columns: ColumnsByPosition,
  ): string | null {
    const keyText = this.columnList(key, columns);
    if (keyText === null) return null;
    const include = index.key.length > index.keyCount ? this.columnList(index.key.slice(index.keyCount), columns) : "";
    if (include === null) return null;
    return flat([
      type === "primary_key" ? "PRIMARY KEY " : "UNIQUE ",
      // Printed for UNIQUE only: a primary key on a NULLS NOT DISTINCT index (possible up to 15) shows none.
      type === "unique" && index.nullsNotDistinct ? "NULLS NOT DISTINCT " : "",
      "(",
      keyText,
      include === "" ? ")" : `) INCLUDE (${include})`,
      ...constraintSuffix(constraint),
    ]);
  }

  /** The text of pg_get_constraintdef for a foreign key; null when not a plain case. */
  foreignKeyDefinition(
    foreignKey: { key: number[]; refKey: number[]; match: string; onUpdate: string; onDelete: string },
    constraint: ConstraintFlags,
    columns: ColumnsByPosition<{ name: string }>,
    referenced: { schema: string; name: string; columns: ColumnsByPosition<{ name: string }> },
  ): string | null {
    const keyText = this.columnList(foreignKey.key, columns);
    const refText = this.columnList(foreignKey.refKey, referenced.columns);
    const match = FK_MATCH_TEXT[foreignKey.match];
    const onUpdate = FK_ACTION_TEXT[foreignKey.onUpdate];
    const onDelete = FK_ACTION_TEXT[foreignKey.onDelete];
    if (keyText === null || refText === null || match === undefined || onUpdate === undefined || onDelete === undefined) {
      return null;
    }
    // generate_relation_name qualifies what search_path (pg_catalog only, during a snapshot) does not show.
    const table =
      referenced.schema === "pg_catalog"
        ? this.quote(referenced.name)
        : `${this.quote(referenced.schema)}.${this.quote(referenced.name)}`;
    return flat([
      "FOREIGN KEY (",
      keyText,
      ") REFERENCES ",
      table,
      "(",
      refText,
      ")",
      match,
      onUpdate ? ` ON UPDATE ${onUpdate}` : "",
      onDelete ? ` ON DELETE ${onDelete}` : "",
      ...constraintSuffix(constraint),
    ]);
  }
}

const FK_MATCH_TEXT: Record<string, string> = { s: "", f: " MATCH FULL", p: " MATCH PARTIAL" };
const FK_ACTION_TEXT: Record<string, string> = {
  a: "",
  r: "RESTRICT",
  c: "CASCADE",
  n: "SET NULL",
  d: "SET DEFAULT",
};

/** The flags every constraint definition ends with. */
interface ConstraintFlags {
  deferrable: boolean;
  initiallyDeferred: boolean;
  validated: boolean;
}

function constraintSuffix(constraint: ConstraintFlags): string[] {
  return [
    constraint.deferrable ? " DEFERRABLE" : "",
    constraint.initiallyDeferred ? " INITIALLY DEFERRED" : "",
    constraint.validated ? "" : " NOT VALID",
  ];
}

/**
 * One flat string from its pieces. Concatenating with `+` or a template gives a tree of pieces
 * (a cons string per join) that the document then keeps for the whole snapshot: at 10,000 tables
 * some 370,000 of them, 12 MB, all promoted to the old generation; join copies the pieces once.
 */
function flat(pieces: readonly string[]): string {
  return pieces.join("");
}
