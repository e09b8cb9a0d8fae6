/**
 * The catalog-snapshot document: a deterministic description of a PostgreSQL catalog scope.
 *
 * Every list is sorted by its stable key (schema, name, position), so two snapshots of the same
 * catalog are byte-identical apart from `server` (volatile header: taken-at, session) and the
 * `fingerprint` = sha256 over the canonical JSON of everything else.
 *
 * PostgreSQL 18 stores NOT NULL as `pg_constraint` rows (contype 'n'); they are reported as the
 * column's `notNull` only, so snapshots of 15 and 18 describe the same table the same way.
 */
import { z } from "@dieu44/plumbing/zod";

export const SNAPSHOT_KIND = "catalog-snapshot";
export const SNAPSHOT_FORMAT_VERSION = 1;

/** One grantee's privileges on an object (from aclexplode); `PUBLIC` for the public pseudo-role. */
export const AclEntrySchema = z.object({
  grantee: z.string(),
  grantor: z.string(),
  /** Sorted privilege names, e.g. ["CREATE", "USAGE"]. */
  privileges: z.array(z.string()),
  /** The subset held WITH GRANT OPTION. */
  grantable: z.array(z.string()),
});
export type AclEntry = z.infer<typeof AclEntrySchema>;

export const ServerSchema = z.object({
  /** pg_control_system().system_identifier as a decimal string (does not fit a JS number). */
  systemIdentifier: z.string().regex(/^\d+$/),
  serverVersion: z.string(),
  serverVersionNum: z.number().int(),
  database: z.string(),
  currentUser: z.string(),
  sessionUser: z.string(),
  inRecovery: z.boolean(),
  /** ISO 8601 time the snapshot transaction started. */
  takenAt: z.string(),
});
export type ServerInfo = z.infer<typeof ServerSchema>;

export const SchemaEntrySchema = z.object({
  name: z.string(),
  /** False when a requested schema does not exist (recorded, not an error). */
  exists: z.boolean(),
  owner: z.string().nullable(),
  acl: z.array(AclEntrySchema),
});
export type SchemaEntry = z.infer<typeof SchemaEntrySchema>;

export const ColumnSchema = z.object({
  position: z.number().int(),
  name: z.string(),
  /** format_type(atttypid, atttypmod), e.g. "character varying(20)". */
  type: z.string(),
  notNull: z.boolean(),
  /** pg_get_expr of the column default; null when there is none (generated columns: see generated). */
  default: z.string().nullable(),
  identity: z.enum(["always", "by_default"]).nullable(),
  /** Generation expression of a generated column. */
  generated: z.string().nullable(),
  generatedKind: z.enum(["stored", "virtual"]).nullable(),
  /** Collation name when it differs from the type's default. */
  collation: z.string().nullable(),
});
export type Column = z.infer<typeof ColumnSchema>;

export const ConstraintTypeSchema = z.enum(["primary_key", "foreign_key", "unique", "check", "exclusion", "trigger"]);
export type ConstraintType = z.infer<typeof ConstraintTypeSchema>;

export const ForeignKeySchema = z.object({
  referencedSchema: z.string(),
  referencedTable: z.string(),
  referencedColumns: z.array(z.string()),
  onDelete: z.enum(["no_action", "restrict", "cascade", "set_null", "set_default"]),
  onUpdate: z.enum(["no_action", "restrict", "cascade", "set_null", "set_default"]),
  match: z.enum(["simple", "full", "partial"]),
});
export type ForeignKey = z.infer<typeof ForeignKeySchema>;

export const ConstraintSchema = z.object({
  name: z.string(),
  type: ConstraintTypeSchema,
  /** pg_get_constraintdef text. */
  definition: z.string(),
  columns: z.array(z.string()),
  deferrable: z.boolean(),
  initiallyDeferred: z.boolean(),
  validated: z.boolean(),
  /** UNIQUE NULLS NOT DISTINCT (PostgreSQL 15+); false elsewhere. */
  nullsNotDistinct: z.boolean(),
  foreignKey: ForeignKeySchema.nullable(),
  /** Name of the index that backs a PK/UNIQUE/exclusion constraint. */
  index: z.string().nullable(),
});
export type Constraint = z.infer<typeof ConstraintSchema>;

export const IndexSchema = z.object({
  name: z.string(),
  /** pg_get_indexdef text. */
  definition: z.string(),
  unique: z.boolean(),
  primary: z.boolean(),
  /** The constraint this index backs, if any. */
  constraint: z.string().nullable(),
  valid: z.boolean(),
});
export type Index = z.infer<typeof IndexSchema>;

export const TriggerSchema = z.object({
  name: z.string(),
  /** pg_get_triggerdef text. */
  definition: z.string(),
  /** pg_trigger.tgenabled: O (origin), D (disabled), R (replica), A (always). */
  enabled: z.string(),
});
export type Trigger = z.infer<typeof TriggerSchema>;

export const TableSchema = z.object({
  schema: z.string(),
  name: z.string(),
  kind: z.enum(["table", "partitioned_table", "foreign_table"]),
  persistence: z.enum(["permanent", "unlogged"]),
  owner: z.string(),
  rowSecurity: z.boolean(),
  forceRowSecurity: z.boolean(),
  /** Qualified parent for a partition ("schema.table"), else null. */
  partitionOf: z.string().nullable(),
  columns: z.array(ColumnSchema),
  constraints: z.array(ConstraintSchema),
  indexes: z.array(IndexSchema),
  /** User triggers only (no internal FK triggers, no clones inherited by partitions). */
  triggers: z.array(TriggerSchema),
  acl: z.array(AclEntrySchema),
});
export type Table = z.infer<typeof TableSchema>;

export const ViewSchema = z.object({
  schema: z.string(),
  name: z.string(),
  kind: z.enum(["view", "materialized_view"]),
  owner: z.string(),
  definition: z.string(),
  acl: z.array(AclEntrySchema),
});
export type View = z.infer<typeof ViewSchema>;

export const SequenceSchema = z.object({
  schema: z.string(),
  name: z.string(),
  owner: z.string(),
  dataType: z.string(),
  /** bigint values as decimal strings. */
  start: z.string(),
  increment: z.string(),
  min: z.string(),
  max: z.string(),
  cycle: z.boolean(),
  /** The column that owns the sequence (serial, identity), else null. */
  ownedBy: z.object({ schema: z.string(), table: z.string(), column: z.string() }).nullable(),
  acl: z.array(AclEntrySchema),
});
export type Sequence = z.infer<typeof SequenceSchema>;

export const EnumSchema = z.object({
  schema: z.string(),
  name: z.string(),
  owner: z.string(),
  /** Labels in their sort order (enumsortorder). */
  labels: z.array(z.string()),
});
export type EnumType = z.infer<typeof EnumSchema>;

export const DomainSchema = z.object({
  schema: z.string(),
  name: z.string(),
  owner: z.string(),
  baseType: z.string(),
  notNull: z.boolean(),
  default: z.string().nullable(),
  checks: z.array(z.object({ name: z.string(), definition: z.string() })),
});
export type Domain = z.infer<typeof DomainSchema>;

export const CompositeTypeSchema = z.object({
  schema: z.string(),
  name: z.string(),
  owner: z.string(),
  attributes: z.array(z.object({ name: z.string(), type: z.string() })),
});
export type CompositeType = z.infer<typeof CompositeTypeSchema>;

export const RoutineSchema = z.object({
  schema: z.string(),
  name: z.string(),
  /** pg_get_function_identity_arguments: together with schema and name, the stable identity. */
  identityArguments: z.string(),
  kind: z.enum(["function", "procedure", "aggregate", "window"]),
  /** pg_get_function_result; null for procedures. */
  returns: z.string().nullable(),
  language: z.string(),
  volatility: z.enum(["immutable", "stable", "volatile"]),
  securityDefiner: z.boolean(),
  owner: z.string(),
  /** sha256 of the body (prosrc): bodies can be large; a change is still visible. */
  bodySha256: z.string(),
  acl: z.array(AclEntrySchema),
});
export type Routine = z.infer<typeof RoutineSchema>;

export const ExtensionSchema = z.object({
  name: z.string(),
  version: z.string(),
  schema: z.string(),
});
export type Extension = z.infer<typeof ExtensionSchema>;

/** What one role named by --privileges-for can do, as the preflight needs to know it. */
export const RoleFactsSchema = z.object({
  name: z.string(),
  exists: z.boolean(),
  canLogin: z.boolean(),
  superuser: z.boolean(),
  /** Roles it is a member of (direct), sorted. */
  memberOf: z.array(z.string()),
  /** has_schema_privilege for each snapshotted schema that exists. */
  schemaPrivileges: z.array(z.object({ schema: z.string(), usage: z.boolean(), create: z.boolean() })),
});
export type RoleFacts = z.infer<typeof RoleFactsSchema>;

export const CatalogSnapshotSchema = z.object({
  kind: z.literal(SNAPSHOT_KIND),
  formatVersion: z.literal(SNAPSHOT_FORMAT_VERSION),
  /** sha256 (hex) of the canonical JSON of every field except `server` and `fingerprint`. */
  fingerprint: z.string().regex(/^[0-9a-f]{64}$/),
  server: ServerSchema,
  /** The requested scope: schema names (null = every non-system schema) and roles. */
  scope: z.object({ schemas: z.array(z.string()).nullable(), privilegesFor: z.array(z.string()) }),
  schemas: z.array(SchemaEntrySchema),
  tables: z.array(TableSchema),
  views: z.array(ViewSchema),
  sequences: z.array(SequenceSchema),
  enums: z.array(EnumSchema),
  domains: z.array(DomainSchema),
  compositeTypes: z.array(CompositeTypeSchema),
  routines: z.array(RoutineSchema),
  extensions: z.array(ExtensionSchema),
  roles: z.array(RoleFactsSchema),
});
export type CatalogSnapshot = z.infer<typeof CatalogSnapshotSchema>;
