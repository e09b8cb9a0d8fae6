// @dieu44/sql-lint: prove a DDL artifact is the approved one and obeys the policy, with the real PostgreSQL parser.
export { type ExpectedDeltaOptions, toExpectedDelta } from "./expect.js";
export { formatSarif, formatText } from "./format.js";
export { type LintOptions, lint } from "./lint.js";
export {
  DEFAULT_ALLOWED_META_COMMANDS,
  DEFAULT_FORBIDDEN_STATEMENTS,
  type DerivedDelta,
  type Facts,
  type Finding,
  type LintPolicy,
  type LintPolicyInput,
  LintPolicySchema,
  type LintReport,
  LintReportSchema,
  RULE_IDS,
  type RuleId,
} from "./schema.js";
export { type MetaCommand, type ScriptStatement, type SplitScript, SqlSyntaxError, splitScript } from "./script.js";
export { STATEMENT_CLASSES, type StatementClass } from "./statements.js";
