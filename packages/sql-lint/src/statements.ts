/**
 * What a parsed statement is: its command tag (as PostgreSQL's CreateCommandTag names it, a bit
 * more specific for SET ROLE and friends) and the policy classes it belongs to.
 */
import type { Node } from "libpg-query";
import { flag, list, nodeKind, type TreeObject, text, unwrap, walk } from "./tree.js";

export { nodeKind };

/** Statement classes a policy can forbid. */
export const STATEMENT_CLASSES = [
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
  "CREATE_VIEW",
  "CREATE_SEQUENCE",
  "CREATE_TABLE",
  "ALTER_TABLE",
  "RENAME",
  "SET_SCHEMA",
  "COMMENT",
  "SET",
  "LOCK",
  "DATABASE",
  "SYSTEM",
] as const;
export type StatementClass = (typeof STATEMENT_CLASSES)[number];

const OBJECT_WORDS: Record<string, string> = {
  OBJECT_ACCESS_METHOD: "ACCESS METHOD",
  OBJECT_AGGREGATE: "AGGREGATE",
  OBJECT_CAST: "CAST",
  OBJECT_COLUMN: "TABLE",
  OBJECT_COLLATION: "COLLATION",
  OBJECT_CONVERSION: "CONVERSION",
  OBJECT_DATABASE: "DATABASE",
  OBJECT_DOMAIN: "DOMAIN",
  OBJECT_DOMCONSTRAINT: "DOMAIN",
  OBJECT_EVENT_TRIGGER: "EVENT TRIGGER",
  OBJECT_EXTENSION: "EXTENSION",
  OBJECT_FDW: "FOREIGN DATA WRAPPER",
  OBJECT_FOREIGN_SERVER: "SERVER",
  OBJECT_FOREIGN_TABLE: "FOREIGN TABLE",
  OBJECT_FUNCTION: "FUNCTION",
  OBJECT_INDEX: "INDEX",
  OBJECT_LANGUAGE: "LANGUAGE",
  OBJECT_LARGEOBJECT: "LARGE OBJECT",
  OBJECT_MATVIEW: "MATERIALIZED VIEW",
  OBJECT_OPCLASS: "OPERATOR CLASS",
  OBJECT_OPERATOR: "OPERATOR",
  OBJECT_OPFAMILY: "OPERATOR FAMILY",
  OBJECT_POLICY: "POLICY",
  OBJECT_PROCEDURE: "PROCEDURE",
  OBJECT_PUBLICATION: "PUBLICATION",
  OBJECT_ROLE: "ROLE",
  OBJECT_ROUTINE: "ROUTINE",
  OBJECT_RULE: "RULE",
  OBJECT_SCHEMA: "SCHEMA",
  OBJECT_SEQUENCE: "SEQUENCE",
  OBJECT_SUBSCRIPTION: "SUBSCRIPTION",
  OBJECT_STATISTIC_EXT: "STATISTICS",
  OBJECT_TABCONSTRAINT: "TABLE",
  OBJECT_TABLE: "TABLE",
  OBJECT_TABLESPACE: "TABLESPACE",
  OBJECT_TRANSFORM: "TRANSFORM",
  OBJECT_TRIGGER: "TRIGGER",
  OBJECT_TSCONFIGURATION: "TEXT SEARCH CONFIGURATION",
  OBJECT_TSDICTIONARY: "TEXT SEARCH DICTIONARY",
  OBJECT_TSPARSER: "TEXT SEARCH PARSER",
  OBJECT_TSTEMPLATE: "TEXT SEARCH TEMPLATE",
  OBJECT_TYPE: "TYPE",
  OBJECT_USER_MAPPING: "USER MAPPING",
  OBJECT_VIEW: "VIEW",
};

function objectWord(objectType: string | undefined): string {
  return (objectType && OBJECT_WORDS[objectType]) || "OBJECT";
}

const FIXED_TAGS: Record<string, string> = {
  InsertStmt: "INSERT",
  DeleteStmt: "DELETE",
  UpdateStmt: "UPDATE",
  MergeStmt: "MERGE",
  PLAssignStmt: "SELECT",
  DeclareCursorStmt: "DECLARE CURSOR",
  ClosePortalStmt: "CLOSE CURSOR",
  CreateDomainStmt: "CREATE DOMAIN",
  CreateSchemaStmt: "CREATE SCHEMA",
  CreateStmt: "CREATE TABLE",
  CreateTableSpaceStmt: "CREATE TABLESPACE",
  DropTableSpaceStmt: "DROP TABLESPACE",
  AlterTableSpaceOptionsStmt: "ALTER TABLESPACE",
  CreateExtensionStmt: "CREATE EXTENSION",
  AlterExtensionStmt: "ALTER EXTENSION",
  AlterExtensionContentsStmt: "ALTER EXTENSION",
  CreateFdwStmt: "CREATE FOREIGN DATA WRAPPER",
  AlterFdwStmt: "ALTER FOREIGN DATA WRAPPER",
  CreateForeignServerStmt: "CREATE SERVER",
  AlterForeignServerStmt: "ALTER SERVER",
  CreateUserMappingStmt: "CREATE USER MAPPING",
  AlterUserMappingStmt: "ALTER USER MAPPING",
  DropUserMappingStmt: "DROP USER MAPPING",
  CreateForeignTableStmt: "CREATE FOREIGN TABLE",
  ImportForeignSchemaStmt: "IMPORT FOREIGN SCHEMA",
  TruncateStmt: "TRUNCATE TABLE",
  CommentStmt: "COMMENT",
  SecLabelStmt: "SECURITY LABEL",
  CopyStmt: "COPY",
  AlterDomainStmt: "ALTER DOMAIN",
  AlterDefaultPrivilegesStmt: "ALTER DEFAULT PRIVILEGES",
  CompositeTypeStmt: "CREATE TYPE",
  CreateEnumStmt: "CREATE TYPE",
  CreateRangeStmt: "CREATE TYPE",
  AlterEnumStmt: "ALTER TYPE",
  ViewStmt: "CREATE VIEW",
  IndexStmt: "CREATE INDEX",
  RuleStmt: "CREATE RULE",
  CreateSeqStmt: "CREATE SEQUENCE",
  AlterSeqStmt: "ALTER SEQUENCE",
  DoStmt: "DO",
  CreatedbStmt: "CREATE DATABASE",
  AlterDatabaseStmt: "ALTER DATABASE",
  AlterDatabaseRefreshCollStmt: "ALTER DATABASE",
  AlterDatabaseSetStmt: "ALTER DATABASE",
  DropdbStmt: "DROP DATABASE",
  NotifyStmt: "NOTIFY",
  ListenStmt: "LISTEN",
  UnlistenStmt: "UNLISTEN",
  LoadStmt: "LOAD",
  CallStmt: "CALL",
  ClusterStmt: "CLUSTER",
  ExplainStmt: "EXPLAIN",
  RefreshMatViewStmt: "REFRESH MATERIALIZED VIEW",
  AlterSystemStmt: "ALTER SYSTEM",
  VariableShowStmt: "SHOW",
  CreateTrigStmt: "CREATE TRIGGER",
  CreateEventTrigStmt: "CREATE EVENT TRIGGER",
  AlterEventTrigStmt: "ALTER EVENT TRIGGER",
  CreatePLangStmt: "CREATE LANGUAGE",
  CreateRoleStmt: "CREATE ROLE",
  AlterRoleStmt: "ALTER ROLE",
  AlterRoleSetStmt: "ALTER ROLE",
  DropRoleStmt: "DROP ROLE",
  DropOwnedStmt: "DROP OWNED",
  ReassignOwnedStmt: "REASSIGN OWNED",
  LockStmt: "LOCK TABLE",
  ConstraintsSetStmt: "SET CONSTRAINTS",
  CheckPointStmt: "CHECKPOINT",
  ReindexStmt: "REINDEX",
  CreateConversionStmt: "CREATE CONVERSION",
  CreateCastStmt: "CREATE CAST",
  CreateOpClassStmt: "CREATE OPERATOR CLASS",
  CreateOpFamilyStmt: "CREATE OPERATOR FAMILY",
  AlterOpFamilyStmt: "ALTER OPERATOR FAMILY",
  AlterOperatorStmt: "ALTER OPERATOR",
  AlterTypeStmt: "ALTER TYPE",
  AlterTSDictionaryStmt: "ALTER TEXT SEARCH DICTIONARY",
  AlterTSConfigurationStmt: "ALTER TEXT SEARCH CONFIGURATION",
  CreatePolicyStmt: "CREATE POLICY",
  AlterPolicyStmt: "ALTER POLICY",
  CreateAmStmt: "CREATE ACCESS METHOD",
  CreatePublicationStmt: "CREATE PUBLICATION",
  AlterPublicationStmt: "ALTER PUBLICATION",
  CreateSubscriptionStmt: "CREATE SUBSCRIPTION",
  AlterSubscriptionStmt: "ALTER SUBSCRIPTION",
  DropSubscriptionStmt: "DROP SUBSCRIPTION",
  AlterCollationStmt: "ALTER COLLATION",
  PrepareStmt: "PREPARE",
  ExecuteStmt: "EXECUTE",
  CreateStatsStmt: "CREATE STATISTICS",
  AlterStatsStmt: "ALTER STATISTICS",
  DeallocateStmt: "DEALLOCATE",
  CreateTransformStmt: "CREATE TRANSFORM",
};

const TRANSACTION_TAGS: Record<string, string> = {
  TRANS_STMT_BEGIN: "BEGIN",
  TRANS_STMT_START: "START TRANSACTION",
  TRANS_STMT_COMMIT: "COMMIT",
  TRANS_STMT_ROLLBACK: "ROLLBACK",
  TRANS_STMT_SAVEPOINT: "SAVEPOINT",
  TRANS_STMT_RELEASE: "RELEASE",
  TRANS_STMT_ROLLBACK_TO: "ROLLBACK TO SAVEPOINT",
  TRANS_STMT_PREPARE: "PREPARE TRANSACTION",
  TRANS_STMT_COMMIT_PREPARED: "COMMIT PREPARED",
  TRANS_STMT_ROLLBACK_PREPARED: "ROLLBACK PREPARED",
};

/** The human command tag of a statement, e.g. "CREATE TABLE", "BEGIN", "ALTER TABLE". */
export function commandTag(node: Node | TreeObject): string {
  const wrapped = unwrap(node);
  if (!wrapped) return "UNKNOWN";
  const [kind, body] = wrapped;
  const fixed = FIXED_TAGS[kind];
  if (fixed) return fixed;
  switch (kind) {
    case "SelectStmt":
      return body.intoClause ? "SELECT INTO" : "SELECT";
    case "TransactionStmt":
      return TRANSACTION_TAGS[text(body, "kind") ?? ""] ?? "TRANSACTION";
    case "FetchStmt":
      return flag(body, "ismove") ? "MOVE" : "FETCH";
    case "DropStmt":
      return `DROP ${objectWord(text(body, "removeType"))}`;
    case "RenameStmt":
      return `ALTER ${objectWord(text(body, "renameType") === "OBJECT_COLUMN" ? text(body, "relationType") : text(body, "renameType"))}`;
    case "AlterObjectDependsStmt":
    case "AlterObjectSchemaStmt":
    case "AlterOwnerStmt":
      return `ALTER ${objectWord(text(body, "objectType"))}`;
    case "AlterTableMoveAllStmt":
    case "AlterTableStmt":
      return `ALTER ${objectWord(text(body, "objtype"))}`;
    case "AlterFunctionStmt":
      return `ALTER ${objectWord(text(body, "objtype"))}`;
    case "GrantStmt":
      return flag(body, "is_grant") ? "GRANT" : "REVOKE";
    case "GrantRoleStmt":
      return flag(body, "is_grant") ? "GRANT ROLE" : "REVOKE ROLE";
    case "DefineStmt":
      return `CREATE ${objectWord(text(body, "kind"))}`;
    case "CreateFunctionStmt":
      return flag(body, "is_procedure") ? "CREATE PROCEDURE" : "CREATE FUNCTION";
    case "CreateTableAsStmt":
      if (flag(body, "is_select_into")) return "SELECT INTO";
      return text(body, "objtype") === "OBJECT_MATVIEW" ? "CREATE MATERIALIZED VIEW" : "CREATE TABLE AS";
    case "VacuumStmt":
      return flag(body, "is_vacuumcmd") ? "VACUUM" : "ANALYZE";
    case "DiscardStmt":
      return `DISCARD ${(text(body, "target") ?? "DISCARD_ALL").replace("DISCARD_", "")}`;
    case "VariableSetStmt":
      return variableSetTag(body);
    default:
      return (kind.endsWith("Stmt") ? kind.slice(0, -4) : kind).toUpperCase();
  }
}

function variableSetTag(body: TreeObject): string {
  const reset = text(body, "kind") === "VAR_RESET" || text(body, "kind") === "VAR_RESET_ALL";
  const verb = reset ? "RESET" : "SET";
  switch (text(body, "name")) {
    case "role":
      return `${verb} ROLE`;
    case "session_authorization":
      return `${verb} SESSION AUTHORIZATION`;
    default:
      return verb;
  }
}

const DML_KINDS = new Set(["InsertStmt", "UpdateStmt", "DeleteStmt", "MergeStmt"]);

function containsDml(body: TreeObject): boolean {
  let found = false;
  walk(body, (object) => {
    if (found) return false;
    for (const key in object) {
      if (DML_KINDS.has(key)) {
        found = true;
        return false;
      }
    }
    return undefined;
  });
  return found;
}

/** The policy classes a statement belongs to (a statement can be in several). */
export function statementClasses(node: Node | TreeObject): Set<StatementClass> {
  const classes = new Set<StatementClass>();
  const wrapped = unwrap(node);
  if (!wrapped) return classes;
  const [kind, body] = wrapped;
  switch (kind) {
    case "GrantStmt":
    case "GrantRoleStmt":
      classes.add(flag(body, "is_grant") ? "GRANT" : "REVOKE");
      if (kind === "GrantRoleStmt") classes.add("ROLE");
      break;
    case "AlterDefaultPrivilegesStmt": {
      classes.add("ALTER_DEFAULT_PRIVILEGES");
      const action = unwrap(body.action) ?? ["GrantStmt", (body.action ?? {}) as TreeObject];
      classes.add(flag(action[1], "is_grant") ? "GRANT" : "REVOKE");
      break;
    }
    case "AlterOwnerStmt":
      classes.add("ALTER_OWNER");
      if (text(body, "objectType") === "OBJECT_SCHEMA") classes.add("ALTER_SCHEMA");
      if (text(body, "objectType") === "OBJECT_DATABASE") classes.add("DATABASE");
      break;
    case "ReassignOwnedStmt":
      classes.add("ALTER_OWNER");
      classes.add("ROLE");
      break;
    case "RenameStmt":
      classes.add("RENAME");
      if (text(body, "renameType") === "OBJECT_SCHEMA") classes.add("ALTER_SCHEMA");
      if (text(body, "renameType") === "OBJECT_TABLE" || text(body, "relationType") === "OBJECT_TABLE")
        classes.add("ALTER_TABLE");
      break;
    case "AlterObjectSchemaStmt":
      classes.add("SET_SCHEMA");
      break;
    case "VariableSetStmt": {
      const name = text(body, "name");
      if (name === "role") classes.add("SET_ROLE");
      else if (name === "session_authorization") classes.add("SET_SESSION_AUTHORIZATION");
      else classes.add("SET");
      break;
    }
    case "InsertStmt":
    case "UpdateStmt":
    case "DeleteStmt":
    case "MergeStmt":
      classes.add("DML");
      break;
    case "SelectStmt":
      classes.add("SELECT");
      if (body.intoClause) {
        classes.add("CREATE_TABLE");
        classes.add("DML");
      }
      if (containsDml(body)) classes.add("DML");
      break;
    case "ExplainStmt":
      if (containsDml(body)) classes.add("DML");
      classes.add("SELECT");
      break;
    case "CallStmt":
      classes.add("CALL");
      break;
    case "IndexStmt":
      classes.add("CREATE_INDEX");
      break;
    case "DropStmt":
      classes.add("DROP");
      if (text(body, "removeType") === "OBJECT_SCHEMA") classes.add("ALTER_SCHEMA");
      break;
    case "DropdbStmt":
      classes.add("DROP");
      classes.add("DATABASE");
      break;
    case "DropRoleStmt":
    case "DropOwnedStmt":
      classes.add("DROP");
      classes.add("ROLE");
      break;
    case "DropTableSpaceStmt":
    case "DropUserMappingStmt":
    case "DropSubscriptionStmt":
      classes.add("DROP");
      break;
    case "TruncateStmt":
      classes.add("TRUNCATE");
      break;
    case "CreateTrigStmt":
    case "CreateEventTrigStmt":
      classes.add("CREATE_TRIGGER");
      break;
    case "CompositeTypeStmt":
    case "CreateEnumStmt":
    case "CreateRangeStmt":
    case "CreateDomainStmt":
      classes.add("CREATE_TYPE");
      break;
    case "DefineStmt": {
      const defineKind = text(body, "kind");
      if (defineKind === "OBJECT_TYPE") classes.add("CREATE_TYPE");
      else if (defineKind === "OBJECT_AGGREGATE" || defineKind === "OBJECT_OPERATOR") classes.add("CREATE_FUNCTION");
      break;
    }
    case "CreateFunctionStmt":
    case "CreatePLangStmt":
    case "CreateCastStmt":
    case "CreateTransformStmt":
      classes.add("CREATE_FUNCTION");
      break;
    case "DoStmt":
      classes.add("DO");
      break;
    case "CopyStmt":
      classes.add("COPY");
      if (flag(body, "is_from")) classes.add("DML");
      break;
    case "CreateSchemaStmt":
      classes.add("CREATE_SCHEMA");
      if (body.authrole) classes.add("ALTER_OWNER");
      for (const element of list(body, "schemaElts")) {
        for (const inner of statementClasses(element as TreeObject)) classes.add(inner);
      }
      break;
    case "CreateRoleStmt":
    case "AlterRoleStmt":
    case "AlterRoleSetStmt":
      classes.add("ROLE");
      break;
    case "CreateExtensionStmt":
    case "AlterExtensionStmt":
    case "AlterExtensionContentsStmt":
      classes.add("CREATE_EXTENSION");
      break;
    case "RuleStmt":
      classes.add("CREATE_RULE");
      break;
    case "CreatePolicyStmt":
    case "AlterPolicyStmt":
      classes.add("CREATE_POLICY");
      break;
    case "ViewStmt":
      classes.add("CREATE_VIEW");
      break;
    case "CreateSeqStmt":
    case "AlterSeqStmt":
      classes.add("CREATE_SEQUENCE");
      break;
    case "CreateStmt":
    case "CreateForeignTableStmt":
      classes.add("CREATE_TABLE");
      break;
    case "CreateTableAsStmt":
      if (text(body, "objtype") === "OBJECT_MATVIEW") classes.add("CREATE_VIEW");
      else classes.add("CREATE_TABLE");
      if (!body.into || !flag(body.into as TreeObject, "skipData")) classes.add("DML");
      break;
    case "AlterTableStmt":
      classes.add("ALTER_TABLE");
      for (const command of list(body, "cmds")) {
        const [, cmd] = unwrap(command) ?? ["", {}];
        const subtype = text(cmd, "subtype");
        if (subtype === "AT_ChangeOwner") classes.add("ALTER_OWNER");
        if (subtype === "AT_DropColumn" || subtype === "AT_DropConstraint") classes.add("DROP");
      }
      break;
    case "CommentStmt":
    case "SecLabelStmt":
      classes.add("COMMENT");
      break;
    case "LockStmt":
      classes.add("LOCK");
      break;
    case "CreatedbStmt":
    case "AlterDatabaseStmt":
    case "AlterDatabaseSetStmt":
    case "AlterDatabaseRefreshCollStmt":
      classes.add("DATABASE");
      break;
    case "AlterSystemStmt":
    case "CheckPointStmt":
    case "LoadStmt":
    case "CreateTableSpaceStmt":
    case "AlterTableSpaceOptionsStmt":
    case "CreateFdwStmt":
    case "AlterFdwStmt":
    case "CreateForeignServerStmt":
    case "AlterForeignServerStmt":
    case "CreateUserMappingStmt":
    case "AlterUserMappingStmt":
    case "CreateSubscriptionStmt":
    case "AlterSubscriptionStmt":
    case "CreatePublicationStmt":
    case "AlterPublicationStmt":
      classes.add("SYSTEM");
      break;
  }
  return classes;
}
