import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { FIXTURE_DIR } from "@dieu44/test-harness";
import { type LintPolicyInput, type LintReport, lint } from "../src/index.js";

export const REFERENCE_PATH = join(FIXTURE_DIR, "ws-q5-registry-substrate-ddl.sql");
export const REFERENCE = readFileSync(REFERENCE_PATH);
export const FIXTURE_POLICY_PATH = join(import.meta.dirname, "fixtures", "ws-q5.policy.json");
export const FIXTURE_POLICY = JSON.parse(readFileSync(FIXTURE_POLICY_PATH, "utf8")) as LintPolicyInput;

export function sha256(text: string | Uint8Array): string {
  return createHash("sha256").update(text).digest("hex");
}

/** A small artifact that passes the default rules: two tables, 2 PK, 1 FK, 1 UNIQUE. */
export const BASE = `\\set ON_ERROR_STOP on
BEGIN;
CREATE TABLE app.a (id bigint PRIMARY KEY, code text NOT NULL UNIQUE);
CREATE TABLE app.b (id bigint PRIMARY KEY, a_id bigint NOT NULL REFERENCES app.a (id));
COMMIT;
`;

/** Wraps statements in the base artifact's frame (ON_ERROR_STOP, BEGIN ... COMMIT). */
export function artifact(...statements: string[]): string {
  return `\\set ON_ERROR_STOP on\nBEGIN;\n${statements.join("\n")}\nCOMMIT;\n`;
}

/**
 * Lints with a policy that approves exactly this text (so only the rule under test can fire),
 * plus the given policy fields.
 */
export function lintApproved(
  sql: string,
  policy: Partial<LintPolicyInput> = {},
  options: { onErrorStopDeclared?: boolean } = {},
): Promise<LintReport> {
  return lint(sql, { kind: "sql-lint-policy", formatVersion: 1, approvedSha256: sha256(sql), ...policy }, options);
}

export function ruleIds(report: LintReport): string[] {
  return [...new Set(report.findings.map((finding) => finding.ruleId))].sort();
}
