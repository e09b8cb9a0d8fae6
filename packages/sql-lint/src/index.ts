// @dieu44/sql-lint: prove a DDL artifact is the approved one and obeys the policy, with the real PostgreSQL parser.
export { type MetaCommand, type ScriptStatement, type SplitScript, SqlSyntaxError, splitScript } from "./script.js";
