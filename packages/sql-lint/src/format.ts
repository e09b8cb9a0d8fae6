/**
 * Report renderings: compiler-style text lines and SARIF 2.1.0 for code-scanning tools.
 */
import { type LintReport, RULE_IDS } from "./schema.js";

const RULE_DESCRIPTIONS: Record<(typeof RULE_IDS)[number] | "syntax", string> = {
  syntax: "The artifact parses with the PostgreSQL parser.",
  "approved-sha256": "The artifact's sha256 equals the approved one.",
  "allowed-schema": "Every object created or changed is in an allowed schema.",
  "allowed-tables": "The artifact creates exactly the allowed tables and touches no other table.",
  "statement-counts": "Exact number of statements per command tag; no other statements when the policy says so.",
  "object-counts": "Exact number of catalog objects added per kind (tables, keys, defaults, sequences, ...).",
  "forbidden-statement": "No statement of a forbidden class (GRANT, ALTER ... OWNER, DML, DROP, DO, ...).",
  "transaction-boundary": "BEGIN first, COMMIT last, nothing outside and no other transaction control.",
  "on-error-stop": "ON_ERROR_STOP is set in the file or declared by the invocation.",
  "unqualified-name": "Object names are schema-qualified (they would otherwise depend on search_path).",
  "if-not-exists": "No IF NOT EXISTS (it would hide that a target already exists).",
  "or-replace": "No CREATE OR REPLACE (it would silently replace an existing object).",
  "meta-command": "Only the psql meta-commands the policy allows.",
};

/** One line per finding: `file:line:col: severity: rule: message`, then a summary line. */
export function formatText(report: LintReport): string {
  const file = report.artifact.path ?? "<stdin>";
  const lines = report.findings.map(
    (finding) => `${file}:${finding.line}:${finding.column}: ${finding.severity}: ${finding.ruleId}: ${finding.message}`,
  );
  const facts = report.facts;
  const counts = facts.derivedDelta.counts;
  const summary = facts.parsed
    ? `${facts.statementCount} statements, ${facts.createTable} CREATE TABLE, ${counts.primary_key} PK, ${counts.foreign_key} FK, ${counts.unique} UNIQUE, ${counts.check} CHECK, ${counts.default} DEFAULT, ${facts.createSchema} CREATE SCHEMA`
    : "not parsed";
  lines.push(
    `${file}: ${report.pass ? "PASS" : "FAIL"}: ${report.summary.errors} error(s), ${report.summary.warnings} warning(s); ${summary}; sha256 ${report.artifact.sha256}`,
  );
  return `${lines.join("\n")}\n`;
}

/** The report as a SARIF 2.1.0 log with one run. */
export function formatSarif(report: LintReport): Record<string, unknown> {
  const uri = report.artifact.path ?? "stdin";
  const ruleIds = ["syntax", ...RULE_IDS] as const;
  return {
    $schema: "https://json.schemastore.org/sarif-2.1.0.json",
    version: "2.1.0",
    runs: [
      {
        tool: {
          driver: {
            name: "sql-lint",
            version: report.tool.version,
            rules: ruleIds.map((id) => ({
              id,
              shortDescription: { text: RULE_DESCRIPTIONS[id] },
              defaultConfiguration: {
                level: id === "syntax" ? "error" : sarifLevel(report.policy.document.rules[id] ?? "error"),
              },
            })),
          },
        },
        columnKind: "utf16CodeUnits",
        artifacts: [
          {
            location: { uri },
            length: report.artifact.bytes,
            hashes: { "sha-256": report.artifact.sha256 },
          },
        ],
        results: report.findings.map((finding) => ({
          ruleId: finding.ruleId,
          ruleIndex: ruleIds.indexOf(finding.ruleId),
          level: finding.severity,
          message: { text: finding.message },
          locations: [
            {
              physicalLocation: {
                artifactLocation: { uri, index: 0 },
                region: { startLine: finding.line, startColumn: finding.column },
              },
            },
          ],
          ...(finding.statementIndex === null ? {} : { properties: { statementIndex: finding.statementIndex } }),
        })),
        properties: { pass: report.pass, sha256: report.artifact.sha256 },
      },
    ],
  };
}

function sarifLevel(severity: "error" | "warning" | "off"): "error" | "warning" | "none" {
  return severity === "off" ? "none" : severity;
}
