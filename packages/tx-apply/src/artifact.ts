/**
 * The artifact as tx-apply will send it: its bytes, their sha256, and its statements split at the
 * real parser's boundaries (sql-lint's splitScript). Also the shape tx-apply insists on: exactly
 * one leading BEGIN and one trailing COMMIT, no other transaction control, no role switch, and no
 * psql meta-command except `\set ON_ERROR_STOP on`.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { InputError } from "@dieu44/plumbing/exit";
// The splitter alone: loading the linter's rules too would add ~0.2 s to every apply's start-up.
import { type ParsedScript, parseScript, type ScriptStatement } from "@dieu44/sql-lint/script";

type Node = ParsedScript["trees"][number];

export interface ArtifactInput {
  path: string;
  /** The bytes to apply; read from `path` when absent. */
  bytes?: Uint8Array;
}

export interface ArtifactBytes {
  path: string;
  bytes: Uint8Array;
  sha256: string;
}

export async function readArtifact(artifact: ArtifactInput): Promise<ArtifactBytes> {
  if (!artifact?.path) throw new InputError("the artifact path is required");
  let bytes = artifact.bytes;
  if (!bytes) {
    try {
      bytes = await readFile(artifact.path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new InputError(`${artifact.path}: cannot read the artifact (${code ?? "error"})`, { cause: error });
    }
  }
  return { path: artifact.path, bytes, sha256: createHash("sha256").update(bytes).digest("hex") };
}

export interface PlannedStatement {
  index: number;
  line: number;
  endLine: number;
  tag: string;
  kind: string;
  /** Exactly the artifact's source of the statement (meta-commands blanked, no trailing semicolon). */
  text: string;
}

export interface ArtifactPlan {
  statements: PlannedStatement[];
  metaCommands: { line: number; text: string }[];
  onErrorStop: boolean;
  /** Why tx-apply refuses this artifact; empty when it will run it. */
  problems: string[];
}

const BEGIN_TAGS = new Set(["BEGIN", "START TRANSACTION"]);
/** Settings that change who the session acts as. */
const ROLE_SETTINGS = new Set(["role", "session_authorization"]);

/** The statement's node, as the parser gave it (e.g. { kind: "TRANS_STMT_COMMIT", chain: true }). */
function node(tree: Node | undefined, kind: string): Record<string, unknown> | undefined {
  const value = (tree as Record<string, unknown> | undefined)?.[kind];
  return value && typeof value === "object" ? (value as Record<string, unknown>) : undefined;
}

/** COMMIT or END (any WORK/TRANSACTION spelling), but not AND CHAIN, which would open a second transaction. */
function isPlainCommit(tree: Node | undefined): boolean {
  const commit = node(tree, "TransactionStmt");
  return commit?.kind === "TRANS_STMT_COMMIT" && commit.chain !== true;
}

/** SET/RESET [SESSION|LOCAL] ROLE and SET SESSION AUTHORIZATION, however the name is quoted. */
function switchesRole(tree: Node | undefined): boolean {
  const set = node(tree, "VariableSetStmt");
  return typeof set?.name === "string" && ROLE_SETTINGS.has(set.name);
}

function isTransactionControl(statement: ScriptStatement): boolean {
  return statement.kind === "TransactionStmt";
}

/**
 * Splits and checks the artifact. A parse error is not thrown: it is a problem of the artifact,
 * recorded in the log as a failed guard (nothing is sent).
 */
export async function planArtifact(bytes: Uint8Array): Promise<ArtifactPlan> {
  let split: ParsedScript;
  try {
    split = await parseScript(bytes);
  } catch (error) {
    if (error instanceof Error && error.name === "SqlSyntaxError") {
      const at = error as Error & { line?: number; column?: number };
      return {
        statements: [],
        metaCommands: [],
        onErrorStop: false,
        problems: [`does not parse: ${error.message} at line ${at.line ?? "?"}, column ${at.column ?? "?"}`],
      };
    }
    throw error;
  }

  const problems: string[] = [];
  for (const meta of split.metaCommands) {
    const isOnErrorStop = meta.command === "set" && meta.args[0] === "ON_ERROR_STOP";
    if (!isOnErrorStop)
      problems.push(`line ${meta.line}: psql meta-command ${meta.text.trim()} is not supported (only \\set ON_ERROR_STOP)`);
  }
  if (split.metaCommands.some((meta) => meta.command === "set" && meta.args[0] === "ON_ERROR_STOP") && !split.onErrorStop) {
    problems.push("the artifact turns ON_ERROR_STOP off; tx-apply always stops at the first error");
  }

  const statements = split.statements;
  const first = statements[0];
  const last = statements[statements.length - 1];
  if (statements.length < 2 || !first || !last) {
    problems.push(`needs a leading BEGIN and a trailing COMMIT; found ${statements.length} statement(s)`);
  } else {
    if (!isTransactionControl(first) || !BEGIN_TAGS.has(first.tag)) {
      problems.push(`line ${first.line}: the first statement must be BEGIN, not ${first.tag}`);
    }
    if (!isPlainCommit(split.trees[last.index])) {
      problems.push(`line ${last.line}: the last statement must be a plain COMMIT, not ${last.tag}`);
    }
    for (const statement of statements.slice(1, -1)) {
      if (isTransactionControl(statement)) {
        problems.push(`line ${statement.line}: ${statement.tag} inside the transaction (only one BEGIN ... COMMIT is allowed)`);
      }
    }
  }
  for (const statement of statements) {
    if (switchesRole(split.trees[statement.index])) {
      problems.push(`line ${statement.line}: ${statement.tag} switches roles; the apply runs as --role only`);
    }
  }

  return {
    statements: statements.map((statement) => ({
      index: statement.index,
      line: statement.line,
      endLine: statement.endLine,
      tag: statement.tag,
      kind: statement.kind,
      text: statement.text,
    })),
    metaCommands: split.metaCommands.map((meta) => ({ line: meta.line, text: meta.text.trim() })),
    onErrorStop: split.onErrorStop,
    problems,
  };
}
