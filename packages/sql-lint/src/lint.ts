/**
 * lint(): parse the artifact, derive its facts, and check every policy rule.
 */
import { createHash } from "node:crypto";
import { createRequire } from "node:module";
import type { ObjectKind } from "@dieu44/drift-diff/schema";
import { ObjectKindSchema } from "@dieu44/drift-diff/schema";
import { validateDocument } from "@dieu44/plumbing/json-io";
import { deriveDelta } from "./derive.js";
import { inspectStatement } from "./names.js";
import {
  type DerivedDelta,
  type Facts,
  type Finding,
  type FindingRuleId,
  type LintPolicy,
  type LintPolicyInput,
  LintPolicySchema,
  type LintReport,
  REPORT_FORMAT_VERSION,
  REPORT_KIND,
  type StatementFact,
  type TransactionFacts,
} from "./schema.js";
import { type ParsedScript, parseScript, SqlSyntaxError } from "./script.js";
import { statementClasses } from "./statements.js";
import { text as textField, unwrap } from "./tree.js";

export interface LintOptions {
  /** The artifact's path, recorded in the report. */
  path?: string;
  /** The invocation that will run the artifact sets ON_ERROR_STOP (psql -v ON_ERROR_STOP=1). */
  onErrorStopDeclared?: boolean;
  /** Where the policy came from (a path), recorded in the report. */
  policySource?: string;
}

const require = createRequire(import.meta.url);
const TOOL_VERSION = (require("../package.json") as { version: string }).version;
const PARSER_VERSION = (require("libpg-query/package.json") as { version: string }).version;

const encoder = new TextEncoder();

/** Checks an artifact against a policy. Throws InputError when the policy is invalid. */
export async function lint(
  source: string | Uint8Array,
  policyInput: LintPolicyInput | LintPolicy,
  options: LintOptions = {},
): Promise<LintReport> {
  const policy = validateDocument(LintPolicySchema, policyInput, options.policySource ?? "policy");
  const bytes = typeof source === "string" ? encoder.encode(source) : source;
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  const findings = new Findings(policy);

  let parsed: ParsedScript | undefined;
  try {
    parsed = await parseScript(bytes);
  } catch (error) {
    if (!(error instanceof SqlSyntaxError)) throw error;
    findings.add("syntax", error.message, error, null);
  }

  checkApproved(findings, policy, sha256);
  const facts = parsed ? collectFacts(parsed, options) : emptyFacts(options);
  if (parsed) checkScript(findings, policy, parsed, facts);

  const list = findings.sorted();
  const errors = list.filter((finding) => finding.severity === "error").length;
  return {
    kind: REPORT_KIND,
    formatVersion: REPORT_FORMAT_VERSION,
    tool: {
      name: "sql-lint",
      version: TOOL_VERSION,
      parser: `libpg-query ${PARSER_VERSION}${parsed?.parserVersion ? ` (PostgreSQL ${parsed.parserVersion})` : ""}`,
    },
    artifact: { path: options.path ?? null, bytes: bytes.length, sha256 },
    policy: { source: options.policySource ?? null, document: policy },
    pass: errors === 0,
    summary: { errors, warnings: list.length - errors },
    findings: list,
    facts,
  };
}

interface Position {
  line: number;
  column: number;
}

const FILE_START: Position = { line: 1, column: 1 };

class Findings {
  private readonly list: Finding[] = [];
  constructor(private readonly policy: LintPolicy) {}

  add(ruleId: FindingRuleId, message: string, at: Position, statementIndex: number | null): void {
    const severity = ruleId === "syntax" ? "error" : (this.policy.rules[ruleId] ?? "error");
    if (severity === "off") return;
    this.list.push({ ruleId, severity, message, line: at.line, column: at.column, statementIndex });
  }

  enabled(ruleId: Exclude<FindingRuleId, "syntax">): boolean {
    return (this.policy.rules[ruleId] ?? "error") !== "off";
  }

  sorted(): Finding[] {
    return [...this.list].sort((a, b) => a.line - b.line || a.column - b.column);
  }
}

function checkApproved(findings: Findings, policy: LintPolicy, sha256: string): void {
  if (!policy.approvedSha256) {
    findings.add(
      "approved-sha256",
      "the policy names no approved sha256, so the artifact cannot be proven to be the approved one",
      FILE_START,
      null,
    );
  } else if (policy.approvedSha256 !== sha256) {
    findings.add(
      "approved-sha256",
      `the artifact's sha256 ${sha256} differs from the approved ${policy.approvedSha256}: it is not the approved artifact`,
      FILE_START,
      null,
    );
  }
}

function emptyFacts(options: LintOptions): Facts {
  const counts = Object.fromEntries(ObjectKindSchema.options.map((kind) => [kind, 0])) as Record<ObjectKind, number>;
  return {
    parsed: false,
    statementCount: 0,
    statements: [],
    statementCounts: {},
    createTable: 0,
    createSchema: 0,
    tablesCreated: [],
    transaction: { wrapped: false, firstIsBegin: false, lastIsCommit: false, outside: [], extraControl: [] },
    onErrorStop: { inFile: false, declared: options.onErrorStopDeclared ?? false },
    metaCommands: [],
    derivedDelta: { tables: [], objects: [], changes: [], counts, dml: 0, schemas: [], notDerived: [] },
  };
}

function collectFacts(parsed: ParsedScript, options: LintOptions): Facts {
  const { delta, targets } = deriveDelta(parsed.trees);
  const statements: StatementFact[] = parsed.statements.map((statement, index) => ({
    index: statement.index,
    kind: statement.kind,
    tag: statement.tag,
    line: statement.line,
    column: statement.column,
    endLine: statement.endLine,
    endColumn: statement.endColumn,
    byteStart: statement.byteStart,
    byteEnd: statement.byteEnd,
    classes: [...statementClasses(parsed.trees[index]!)].sort(),
    target: targets[index] ?? null,
  }));
  const statementCounts: Record<string, number> = {};
  for (const statement of statements) statementCounts[statement.tag] = (statementCounts[statement.tag] ?? 0) + 1;
  return {
    parsed: true,
    statementCount: statements.length,
    statements,
    statementCounts,
    createTable: statementCounts["CREATE TABLE"] ?? 0,
    createSchema: statementCounts["CREATE SCHEMA"] ?? 0,
    tablesCreated: delta.tables,
    transaction: transactionFacts(parsed),
    onErrorStop: { inFile: parsed.onErrorStop, declared: options.onErrorStopDeclared ?? false },
    metaCommands: parsed.metaCommands,
    derivedDelta: delta,
  };
}

type Control = "begin" | "commit" | "end" | "savepoint" | null;

function transactionControl(tree: unknown): { control: Control; chain: boolean } {
  const wrapped = unwrap(tree);
  if (wrapped?.[0] !== "TransactionStmt") return { control: null, chain: false };
  const kind = textField(wrapped[1], "kind");
  const chain = wrapped[1].chain === true;
  switch (kind) {
    case "TRANS_STMT_BEGIN":
    case "TRANS_STMT_START":
      return { control: "begin", chain };
    case "TRANS_STMT_COMMIT":
      return { control: "commit", chain };
    case "TRANS_STMT_ROLLBACK":
    case "TRANS_STMT_PREPARE":
      return { control: "end", chain };
    default:
      return { control: "savepoint", chain };
  }
}

/**
 * The artifact must be exactly one transaction: BEGIN first, COMMIT last, and no other
 * transaction control in between (a COMMIT in the middle would make everything after it run
 * outside the transaction; a ROLLBACK TO or SAVEPOINT changes what the block does).
 */
function transactionFacts(parsed: ParsedScript): TransactionFacts {
  const outside: number[] = [];
  const extraControl: number[] = [];
  const last = parsed.trees.length - 1;
  let inTransaction = false;
  parsed.trees.forEach((tree, index) => {
    const { control, chain } = transactionControl(tree);
    if (control === "begin") {
      if (inTransaction || index !== 0) extraControl.push(index);
      inTransaction = true;
    } else if (control === "commit" || control === "end") {
      const isFinalCommit = control === "commit" && index === last && inTransaction && !chain;
      if (!isFinalCommit) extraControl.push(index);
      inTransaction = chain && inTransaction;
    } else if (control === "savepoint") {
      extraControl.push(index);
    } else if (!inTransaction) {
      outside.push(index);
    }
  });
  const firstIsBegin = transactionControl(parsed.trees[0]).control === "begin";
  const lastTree = transactionControl(parsed.trees[last]);
  const lastIsCommit = lastTree.control === "commit" && !lastTree.chain;
  return {
    wrapped: firstIsBegin && lastIsCommit && outside.length === 0 && extraControl.length === 0,
    firstIsBegin,
    lastIsCommit,
    outside,
    extraControl,
  };
}

function schemaOf(qualified: string | null): string | null {
  if (!qualified) return null;
  const dot = qualified.lastIndexOf(".");
  return dot < 0 ? null : qualified.slice(0, dot);
}

function checkScript(findings: Findings, policy: LintPolicy, parsed: ParsedScript, facts: Facts): void {
  const statements = parsed.statements;
  const at = (index: number): Position => statements[index] ?? FILE_START;
  const delta = facts.derivedDelta;

  // ON_ERROR_STOP: in the file, or declared by the invocation that will run it.
  if (!facts.onErrorStop.inFile && !(policy.acceptDeclaredOnErrorStop && facts.onErrorStop.declared)) {
    const turnedOff = parsed.metaCommands.find(
      (meta) => (meta.command === "set" || meta.command === "unset") && meta.args[0] === "ON_ERROR_STOP",
    );
    findings.add(
      "on-error-stop",
      policy.acceptDeclaredOnErrorStop
        ? "ON_ERROR_STOP is not on for every statement (\\set ON_ERROR_STOP on before the first statement), nor declared by the invocation"
        : "ON_ERROR_STOP is not on for every statement (\\set ON_ERROR_STOP on before the first statement)",
      turnedOff ?? FILE_START,
      null,
    );
  }

  for (const meta of parsed.metaCommands) {
    if (!policy.allowedMetaCommands.includes(meta.command)) {
      findings.add(
        "meta-command",
        `psql meta-command \\${meta.command} is not allowed by the policy (allowed: ${policy.allowedMetaCommands.map((name) => `\\${name}`).join(", ") || "none"})`,
        meta,
        null,
      );
    }
  }

  checkTransaction(findings, facts, statements.length, at);

  const forbidden = new Set(policy.forbiddenStatements);
  facts.statements.forEach((statement) => {
    const hits = statement.classes.filter((name) => forbidden.has(name));
    if (hits.length > 0) {
      findings.add(
        "forbidden-statement",
        `${statement.tag} is forbidden by the policy (${hits.join(", ")})`,
        statement,
        statement.index,
      );
    }
  });

  if (policy.statementCounts) {
    for (const [tag, expected] of Object.entries(policy.statementCounts)) {
      const found = facts.statementCounts[tag] ?? 0;
      if (found !== expected) {
        const extra = expected < found ? facts.statements.filter((statement) => statement.tag === tag)[expected] : undefined;
        findings.add(
          "statement-counts",
          `${found} ${tag} statement${found === 1 ? "" : "s"}, the policy requires exactly ${expected}`,
          extra ?? FILE_START,
          extra?.index ?? null,
        );
      }
    }
    if (policy.onlyCountedStatements) {
      for (const statement of facts.statements) {
        if (!(statement.tag in policy.statementCounts)) {
          findings.add(
            "statement-counts",
            `${statement.tag} is not among the statements the policy allows (${Object.keys(policy.statementCounts).join(", ")})`,
            statement,
            statement.index,
          );
        }
      }
    }
  }

  if (policy.objectCounts) {
    for (const [kind, expected] of Object.entries(policy.objectCounts) as Array<[ObjectKind, number]>) {
      const found = delta.counts[kind];
      if (found !== expected) {
        const extra = expected < found ? delta.objects.filter((object) => object.kind === kind)[expected] : undefined;
        findings.add(
          "object-counts",
          `the artifact adds ${found} ${kind} object${found === 1 ? "" : "s"}, the policy requires exactly ${expected}${extra ? ` (the ${expected + 1}${ordinal(expected + 1)}: ${describeObject(extra)})` : ""}`,
          extra ? at(extra.statementIndex) : FILE_START,
          extra?.statementIndex ?? null,
        );
      }
    }
  }

  checkSchemasAndTables(findings, policy, facts, delta, at);

  if (findings.enabled("unqualified-name") || findings.enabled("if-not-exists") || findings.enabled("or-replace")) {
    parsed.trees.forEach((tree, index) => {
      const inspection = inspectStatement(tree);
      for (const name of inspection.unqualified) {
        findings.add(
          "unqualified-name",
          `${name.what} "${name.name}" is not schema-qualified: what it means depends on search_path`,
          name.location === null ? at(index) : parsed.positions.at(name.location),
          index,
        );
      }
      if (inspection.ifNotExists) {
        findings.add(
          "if-not-exists",
          `${statements[index]!.tag} uses IF NOT EXISTS, which would hide that the object already exists`,
          at(index),
          index,
        );
      }
      if (inspection.orReplace) {
        findings.add(
          "or-replace",
          `${statements[index]!.tag} uses OR REPLACE, which would silently replace an existing object`,
          at(index),
          index,
        );
      }
    });
  }
}

function ordinal(n: number): string {
  const tens = n % 100;
  if (tens >= 11 && tens <= 13) return "th";
  return n % 10 === 1 ? "st" : n % 10 === 2 ? "nd" : n % 10 === 3 ? "rd" : "th";
}

function describeObject(object: DerivedDelta["objects"][number]): string {
  const name = object.name ?? "unnamed";
  const where = object.table ? ` on ${object.table}` : "";
  const note = object.note ? ` (${object.note})` : "";
  return `${object.kind} ${name}${where}${note}`;
}

function checkTransaction(findings: Findings, facts: Facts, count: number, at: (index: number) => Position): void {
  const transaction = facts.transaction;
  if (count === 0) {
    findings.add("transaction-boundary", "the artifact has no statements, so no BEGIN...COMMIT block", FILE_START, null);
    return;
  }
  const first = facts.statements[0]!;
  const last = facts.statements[count - 1]!;
  if (!transaction.firstIsBegin) {
    findings.add("transaction-boundary", `the first statement is ${first.tag}, not BEGIN`, first, 0);
  }
  if (!transaction.lastIsCommit) {
    findings.add("transaction-boundary", `the last statement is ${last.tag}, not COMMIT`, last, count - 1);
  }
  for (const index of transaction.extraControl) {
    const statement = facts.statements[index]!;
    const after = index < count - 1 ? ": statements after it do not run in the artifact's single transaction" : "";
    findings.add(
      "transaction-boundary",
      `${statement.tag} inside the artifact; only the opening BEGIN and the final COMMIT are allowed${after}`,
      at(index),
      index,
    );
  }
  for (const index of transaction.outside) {
    const statement = facts.statements[index]!;
    findings.add(
      "transaction-boundary",
      `${statement.tag} runs outside the BEGIN...COMMIT transaction (autocommitted on its own)`,
      at(index),
      index,
    );
  }
}

function checkSchemasAndTables(
  findings: Findings,
  policy: LintPolicy,
  facts: Facts,
  delta: DerivedDelta,
  at: (index: number) => Position,
): void {
  if (policy.allowedSchemas) {
    const allowed = new Set(policy.allowedSchemas);
    const reported = new Set<string>();
    const check = (schema: string | null, statementIndex: number, what: string) => {
      if (schema === null || allowed.has(schema)) return;
      const key = `${statementIndex}\u0000${schema}`;
      if (reported.has(key)) return;
      reported.add(key);
      findings.add(
        "allowed-schema",
        `${what} is in schema "${schema}", outside the allowed ${policy.allowedSchemas!.map((name) => `"${name}"`).join(", ")}`,
        at(statementIndex),
        statementIndex,
      );
    };
    for (const object of delta.objects) {
      if (object.kind === "role" || object.kind === "extension") continue;
      const schema = object.kind === "schema" ? object.name : schemaOf(object.table ?? object.name);
      check(schema, object.statementIndex, `${object.kind} ${object.name ?? object.table ?? ""}`.trim());
    }
    for (const change of delta.changes) {
      if (change.kind === "role") continue;
      const schema = change.kind === "schema" ? change.target : schemaOf(change.target);
      check(schema, change.statementIndex, `the changed ${change.kind ?? "object"} ${change.target ?? ""}`.trim());
    }
    for (const statement of facts.statements) {
      if (statement.kind === "CreateSchemaStmt") continue;
      check(schemaOf(statement.target), statement.index, `the target of ${statement.tag} ${statement.target ?? ""}`.trim());
    }
  }

  if (policy.tables) {
    const allowed = new Set(policy.tables);
    const created = new Set(delta.tables);
    for (const object of delta.objects) {
      if (object.kind === "table" && object.name && !allowed.has(object.name)) {
        findings.add(
          "allowed-tables",
          `table ${object.name} is not one of the ${allowed.size} tables the policy allows`,
          at(object.statementIndex),
          object.statementIndex,
        );
      } else if (object.kind !== "table" && object.table && !allowed.has(object.table)) {
        findings.add(
          "allowed-tables",
          `${object.kind} on table ${object.table}, which is not one of the tables the policy allows`,
          at(object.statementIndex),
          object.statementIndex,
        );
      }
    }
    for (const change of delta.changes) {
      if (
        change.target &&
        (change.kind === "table" || change.kind === "column" || change.kind === null) &&
        !allowed.has(change.target)
      ) {
        findings.add(
          "allowed-tables",
          `the artifact changes ${change.target} (${change.description}), which is not one of the tables the policy allows`,
          at(change.statementIndex),
          change.statementIndex,
        );
      }
    }
    for (const table of policy.tables) {
      if (!created.has(table)) {
        findings.add("allowed-tables", `allowed table ${table} is not created by the artifact`, FILE_START, null);
      }
    }
  }
}
