/** The apply log as plain text for a terminal (--format text). */
import type { ApplyLog } from "./schema.js";

/** A reviewer's view of the log. */
export function formatText(log: ApplyLog): string {
  const lines = [`${log.outcome.toUpperCase()}${log.dryRun ? " (dry run)" : ""}: ${log.summary}`, ""];
  lines.push(`artifact   ${log.artifact.path}  sha256 ${log.artifact.sha256}`);
  lines.push(`connection ${log.connection}  role ${log.role}${log.backendPid === null ? "" : `  backend pid ${log.backendPid}`}`);
  lines.push(`psql       ${log.psqlEquivalent}`, "", "guards:");
  for (const guard of log.guards) {
    lines.push(
      `  ${guard.passed ? "ok  " : "FAIL"} ${guard.name}: expected ${guard.expected}, found ${guard.actual ?? "nothing"}`,
    );
  }
  lines.push("", "statements:");
  for (const statement of log.statements) {
    const duration = statement.durationMs === null ? "" : ` ${statement.durationMs.toFixed(1)} ms`;
    const note = statement.note ? ` (${statement.note})` : "";
    lines.push(
      `  ${String(statement.index).padStart(4)}  line ${statement.line}  ${statement.tag}: ${statement.status}${duration}${note}`,
    );
  }
  if (log.verification) {
    lines.push("", `pre-commit verification: ${log.verification.passed ? "passed" : "FAILED"}`);
    for (const violation of log.verification.result?.violations ?? []) lines.push(`  - ${violation.message}`);
  }
  if (log.error) {
    const where = log.error.statementIndex === null ? "" : ` at statement ${log.error.statementIndex} (line ${log.error.line})`;
    lines.push("", `error${where}: ${log.error.sqlstate ?? "no SQLSTATE"} ${log.error.message}`);
  }
  return `${lines.join("\n")}\n`;
}
