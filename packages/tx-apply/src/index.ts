// @dieu44/tx-apply: apply exactly the approved artifact, in one transaction, as the approved role,
// with guards checked in the same session right before the first statement.
export { type ApplyConnection, apply, psqlEquivalent } from "./apply.js";
export { type ArtifactInput, type ArtifactPlan, type PlannedStatement, planArtifact, readArtifact } from "./artifact.js";
export { DEFAULT_LOCK_TIMEOUT, DEFAULT_PIPELINE_DEPTH, DEFAULT_STATEMENT_TIMEOUT } from "./defaults.js";
export { formatText } from "./format.js";
export { type ApplyOptions, advisoryLockKeyFor, DEFAULT_ADVISORY_LOCK_KEY, type StatementEvent } from "./options.js";
export * from "./schema.js";
