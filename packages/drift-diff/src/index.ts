// @dieu44/drift-diff: compare two catalog snapshots and check the delta against an expected-delta
// spec. Pure functions over documents: no database connection is ever needed.
export { check, describeFound } from "./check.js";
export { type DiffOptions, type DiffScope, diff, snapshotRef, summarize } from "./diff.js";
export { formatMarkdown, formatText } from "./format.js";
export { qualifiedName, quoteName } from "./identity.js";
export * from "./schema.js";
