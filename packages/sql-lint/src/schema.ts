/**
 * Documents of @dieu44/sql-lint: the policy it reads (`sql-lint-policy`) and the report it writes
 * (`sql-lint-report`). The expected delta it emits belongs to drift-diff (`expected-delta`).
 */
import { ObjectKindSchema } from "@dieu44/drift-diff/schema";
import { z } from "@dieu44/plumbing/zod";
import { STATEMENT_CLASSES } from "./statements.js";

export const POLICY_KIND = "sql-lint-policy";
export const POLICY_FORMAT_VERSION = 1;
export const REPORT_KIND = "sql-lint-report";
export const REPORT_FORMAT_VERSION = 1;

/** Rules a policy can switch (error, warning or off). */
export const RULE_IDS = [
  "approved-sha256",
  "allowed-schema",
  "allowed-tables",
  "statement-counts",
  "object-counts",
  "forbidden-statement",
  "transaction-boundary",
  "on-error-stop",
  "unqualified-name",
  "if-not-exists",
  "or-replace",
  "meta-command",
] as const;
export const RuleIdSchema = z.enum(RULE_IDS);
export type RuleId = z.infer<typeof RuleIdSchema>;

/** `syntax` is not a switchable rule: an artifact the parser rejects never passes. */
export const FindingRuleIdSchema = z.enum([...RULE_IDS, "syntax"]);
export type FindingRuleId = z.infer<typeof FindingRuleIdSchema>;

export const SeveritySchema = z.enum(["error", "warning", "off"]);
export type Severity = z.infer<typeof SeveritySchema>;

export const StatementClassSchema = z.enum(STATEMENT_CLASSES);
export type { StatementClass } from "./statements.js";

/**
 * The seed's forbidden list (GRANT/REVOKE, ALTER ... OWNER, ALTER SCHEMA, SET ROLE / SET SESSION
 * AUTHORIZATION, DML, CREATE INDEX, DROP, TRUNCATE, CREATE TRIGGER/TYPE/FUNCTION, DO, COPY,
 * CREATE SCHEMA), plus the statements that can do the same things by other means: SELECT and
 * CALL run arbitrary functions (`SELECT set_config('role', ...)`), and default privileges, roles,
 * extensions, rules, policies, databases and server-wide settings are privilege or scope changes.
 */
export const DEFAULT_FORBIDDEN_STATEMENTS = [
  "GRANT",
  "REVOKE",
  "ALTER_OWNER",
  "ALTER_SCHEMA",
  "SET_ROLE",
  "SET_SESSION_AUTHORIZATION",
  "DML",
  "CREATE_INDEX",
  "DROP",
  "TRUNCATE",
  "CREATE_TRIGGER",
  "CREATE_TYPE",
  "CREATE_FUNCTION",
  "DO",
  "COPY",
  "CREATE_SCHEMA",
  "SELECT",
  "CALL",
  "ALTER_DEFAULT_PRIVILEGES",
  "ROLE",
  "CREATE_EXTENSION",
  "CREATE_RULE",
  "CREATE_POLICY",
  "DATABASE",
  "SYSTEM",
] as const satisfies readonly (typeof STATEMENT_CLASSES)[number][];

/**
 * psql meta-commands that only print or set variables. `\i`, `\ir`, `\c`, `\connect`, `\gexec`,
 * `\!`, `\copy`, `\if` ... would run SQL that is not in the approved bytes, switch the session's
 * role or skip statements, so they are not allowed unless a policy lists them.
 */
export const DEFAULT_ALLOWED_META_COMMANDS = ["set", "unset", "echo", "qecho", "warn", "timing"] as const;

const Sha256Schema = z.string().regex(/^[0-9a-f]{64}$/, "a lowercase hex sha256");
const CountSchema = z.number().int().nonnegative();

export const LintPolicySchema = z.object({
  kind: z.literal(POLICY_KIND),
  formatVersion: z.literal(POLICY_FORMAT_VERSION),
  description: z.string().optional(),
  /** sha256 (hex) of the approved artifact's bytes. */
  approvedSha256: Sha256Schema.optional(),
  /** Schemas every created, altered or referenced-by-target object must be in; absent = any. */
  allowedSchemas: z.array(z.string().min(1)).min(1).optional(),
  /** The exact set of tables the artifact creates, qualified "schema.table"; absent = not checked. */
  tables: z.array(z.string().includes(".", { message: 'a qualified name "schema.table"' })).optional(),
  /** Exact number of statements per command tag, e.g. { "CREATE TABLE": 12, "BEGIN": 1 }. */
  statementCounts: z.record(z.string(), CountSchema).optional(),
  /** When true, a statement whose tag is not in statementCounts is a finding (closed world). */
  onlyCountedStatements: z.boolean().default(false),
  /** Exact number of catalog objects the artifact adds, per object kind (from facts.derivedDelta). */
  objectCounts: z.partialRecord(ObjectKindSchema, CountSchema).optional(),
  forbiddenStatements: z.array(StatementClassSchema).default([...DEFAULT_FORBIDDEN_STATEMENTS]),
  allowedMetaCommands: z.array(z.string()).default([...DEFAULT_ALLOWED_META_COMMANDS]),
  /** ON_ERROR_STOP may be declared by the invocation (psql -v ON_ERROR_STOP=1) instead of the file. */
  acceptDeclaredOnErrorStop: z.boolean().default(true),
  /** Severity per rule; every rule is "error" unless set here. */
  rules: z.partialRecord(RuleIdSchema, SeveritySchema).default({}),
});
export type LintPolicy = z.output<typeof LintPolicySchema>;
export type LintPolicyInput = z.input<typeof LintPolicySchema>;

export const FindingSchema = z.object({
  ruleId: FindingRuleIdSchema,
  severity: z.enum(["error", "warning"]),
  message: z.string(),
  /** 1-based line and column in the original file. */
  line: z.number().int().positive(),
  column: z.number().int().positive(),
  /** 0-based statement index, or null for file-level findings. */
  statementIndex: z.number().int().nonnegative().nullable(),
});
export type Finding = z.infer<typeof FindingSchema>;

export const StatementFactSchema = z.object({
  index: z.number().int().nonnegative(),
  kind: z.string(),
  tag: z.string(),
  line: z.number().int().positive(),
  column: z.number().int().positive(),
  endLine: z.number().int().positive(),
  endColumn: z.number().int().positive(),
  byteStart: z.number().int().nonnegative(),
  byteEnd: z.number().int().nonnegative(),
  classes: z.array(StatementClassSchema),
  /** The object the statement creates or changes ("schema.name"), when it has one. */
  target: z.string().nullable(),
});
export type StatementFact = z.infer<typeof StatementFactSchema>;

export const DerivedObjectSchema = z.object({
  kind: ObjectKindSchema,
  /** Qualified for relations and types ("schema.name"); the constraint or trigger name when explicit. */
  name: z.string().nullable(),
  /** The table it belongs to (constraints, defaults, indexes, triggers, owned sequences). */
  table: z.string().nullable(),
  statementIndex: z.number().int().nonnegative(),
  /** Created as a side effect (serial's DEFAULT and sequence, identity's sequence). */
  implicit: z.boolean(),
  note: z.string().nullable(),
});
export type DerivedObject = z.infer<typeof DerivedObjectSchema>;

export const DerivedChangeSchema = z.object({
  /** Null when the kind cannot be told from the SQL (DROP CONSTRAINT, DROP TYPE). */
  kind: ObjectKindSchema.nullable(),
  action: z.enum(["remove", "change"]),
  target: z.string().nullable(),
  statementIndex: z.number().int().nonnegative(),
  description: z.string(),
});
export type DerivedChange = z.infer<typeof DerivedChangeSchema>;

export const DerivedDeltaSchema = z.object({
  /** Qualified names of the (permanent) tables created. */
  tables: z.array(z.string()),
  /** Every catalog object the artifact adds. */
  objects: z.array(DerivedObjectSchema),
  /** Removals and changes of objects (ALTER ... OWNER, DROP, SET DEFAULT on an existing column, ...). */
  changes: z.array(DerivedChangeSchema),
  /** Additions per object kind (every kind, zeros included). Columns of created tables are part of the table. */
  counts: z.record(ObjectKindSchema, CountSchema),
  /** Statements that write rows (INSERT, UPDATE, DELETE, MERGE, COPY FROM, SELECT INTO, CREATE TABLE AS). */
  dml: CountSchema,
  /** Schemas named by the objects added or changed. */
  schemas: z.array(z.string()),
  /** Statements whose catalog effect cannot be derived from the SQL alone (DO, functions, LIKE, ...). */
  notDerived: z.array(z.object({ statementIndex: z.number().int().nonnegative(), reason: z.string() })),
});
export type DerivedDelta = z.infer<typeof DerivedDeltaSchema>;

export const TransactionFactsSchema = z.object({
  /** First statement BEGIN/START TRANSACTION, last COMMIT, nothing outside, no other transaction control. */
  wrapped: z.boolean(),
  firstIsBegin: z.boolean(),
  lastIsCommit: z.boolean(),
  /** Indexes of statements that run outside the BEGIN...COMMIT block. */
  outside: z.array(z.number().int().nonnegative()),
  /** Indexes of transaction control statements other than the opening BEGIN and the final COMMIT. */
  extraControl: z.array(z.number().int().nonnegative()),
});
export type TransactionFacts = z.infer<typeof TransactionFactsSchema>;

export const MetaCommandFactSchema = z.object({
  line: z.number().int().positive(),
  column: z.number().int().positive(),
  text: z.string(),
  command: z.string(),
  args: z.array(z.string()),
  insideStatement: z.boolean(),
});

export const FactsSchema = z.object({
  /** False when the parser rejected the artifact; the other facts are then empty. */
  parsed: z.boolean(),
  statementCount: CountSchema,
  statements: z.array(StatementFactSchema),
  /** Statements per command tag. */
  statementCounts: z.record(z.string(), CountSchema),
  createTable: CountSchema,
  createSchema: CountSchema,
  tablesCreated: z.array(z.string()),
  transaction: TransactionFactsSchema,
  onErrorStop: z.object({ inFile: z.boolean(), declared: z.boolean() }),
  metaCommands: z.array(MetaCommandFactSchema),
  derivedDelta: DerivedDeltaSchema,
});
export type Facts = z.infer<typeof FactsSchema>;

export const LintReportSchema = z.object({
  kind: z.literal(REPORT_KIND),
  formatVersion: z.literal(REPORT_FORMAT_VERSION),
  tool: z.object({ name: z.literal("sql-lint"), version: z.string(), parser: z.string() }),
  artifact: z.object({
    /** The path as given, or null for a string/stdin source. */
    path: z.string().nullable(),
    bytes: CountSchema,
    sha256: Sha256Schema,
  }),
  /** The policy as applied (defaults filled in), and where it came from. */
  policy: z.object({ source: z.string().nullable(), document: LintPolicySchema }),
  pass: z.boolean(),
  summary: z.object({ errors: CountSchema, warnings: CountSchema }),
  findings: z.array(FindingSchema),
  facts: FactsSchema,
});
export type LintReport = z.infer<typeof LintReportSchema>;
