// @dieu44/dieu44: the Điều 44 production-apply procedure as a library.
export { type DemoAttempt, type DemoOptions, type DemoResult, runDemo } from "./demo.js";
export { EvidenceFolder } from "./evidence.js";
export { expectedDeltaOf, scopeFingerprint } from "./expectation.js";
export { type LoadedPlan, loadPlan, parsePlan, planDifferences } from "./plan.js";
export { lintPolicyOf, type ProcedureOptions, type ProcedureOutcome, runProcedure } from "./procedure.js";
export * from "./schema.js";
