/**
 * The sql-lint command as a plain async function returning what to print and the exit code. The
 * CLI loads it only once the arguments parsed, so that --help does not pay for the parser and zod.
 */
import { ExitCode, InputError } from "@dieu44/plumbing/exit";
import { readBytes, readDocument, toJsonText } from "@dieu44/plumbing/json-io";
import { toExpectedDelta } from "./expect.js";
import { formatSarif, formatText } from "./format.js";
import { lint } from "./lint.js";
import { type LintPolicyInput, LintPolicySchema, POLICY_FORMAT_VERSION, POLICY_KIND } from "./schema.js";

export interface SqlLintArguments {
  file: string;
  policy?: string;
  format: "json" | "text" | "sarif";
  emitExpect: boolean;
  onErrorStopDeclared: boolean;
  scopeSchema: string[];
}

/** stdout: the data; stderr: the findings when stdout carries the expected delta instead. */
export interface SqlLintOutcome {
  stdout?: string;
  stderr?: string;
  exitCode: ExitCode;
}

export async function sqlLint(args: SqlLintArguments): Promise<SqlLintOutcome> {
  if (args.file === "-" && args.policy === "-") throw new InputError("the artifact and the policy cannot both be stdin");
  const policy: LintPolicyInput = args.policy
    ? await readDocument(LintPolicySchema, args.policy)
    : { kind: POLICY_KIND, formatVersion: POLICY_FORMAT_VERSION };
  const bytes = await readBytes(args.file);
  const report = await lint(bytes, policy, {
    path: args.file === "-" ? undefined : args.file,
    policySource: args.policy,
    onErrorStopDeclared: args.onErrorStopDeclared,
  });
  const exitCode = report.pass ? ExitCode.Passed : ExitCode.CheckFailed;
  if (args.emitExpect) {
    const scopeSchemas = args.scopeSchema.length > 0 ? args.scopeSchema : report.policy.document.allowedSchemas;
    if (!report.facts.parsed) return { stderr: formatText(report), exitCode: ExitCode.CheckFailed };
    return {
      stdout: toJsonText(toExpectedDelta(report, { scopeSchemas })),
      ...(report.pass ? {} : { stderr: formatText(report) }),
      exitCode,
    };
  }
  if (args.format === "text") return { stdout: formatText(report), exitCode };
  if (args.format === "sarif") return { stdout: toJsonText(formatSarif(report)), exitCode };
  return { stdout: toJsonText(report), exitCode };
}
