/**
 * The apply itself: one session, logged in as the approved role, guards checked in that session
 * right before the first statement, then the artifact's own statements, one at a time, exactly as
 * the parser delimited them. The only statements tx-apply adds are the guard queries, the session
 * settings, the catalog reads of a requested verification, and ROLLBACK; each is recorded.
 *
 * What is never done: a retry, a role switch, a GRANT, an ownership change, anything else.
 */
import { createRequire } from "node:module";
import { performance } from "node:perf_hooks";
import type { CatalogSnapshot, SnapshotOptions } from "@dieu44/catalog-snapshot";
import type { ExpectedDelta } from "@dieu44/drift-diff/schema";
import { describeConnection, resolveConnection, toPgConfig } from "@dieu44/plumbing/connection";
import { EnvironmentError, errorMessage } from "@dieu44/plumbing/exit";
import { redact } from "@dieu44/plumbing/redact";
import pg from "pg";
import { type ArtifactInput, type ArtifactPlan, type PlannedStatement, planArtifact, readArtifact } from "./artifact.js";
import { APPLY_LOG_FORMAT_VERSION, APPLY_LOG_KIND } from "./kind.js";
import { type ApplyOptions, type ResolvedOptions, resolveOptions } from "./options.js";
import type {
  ApplyError,
  ApplyLog,
  ErrorPhase,
  Guard,
  GuardName,
  Notice,
  Outcome,
  StatementRecord,
  ToolStatement,
  Verification,
} from "./schema.js";

export interface ApplyConnection {
  /** A postgres:// URL or key=value DSN; the libpq environment fills the rest. */
  url?: string;
  env?: NodeJS.ProcessEnv;
}

const TOOL_VERSION: string = (createRequire(import.meta.url)("../package.json") as { version: string }).version;
const APPLICATION_NAME = "tx-apply";
const MAX_NOTICES = 100;

/** `psql -U ROLE -v ON_ERROR_STOP=1 -1 -f FILE`, shell-quoted where needed. */
export function psqlEquivalent(role: string, path: string): string {
  return `psql -U ${shellWord(role)} -v ON_ERROR_STOP=1 -1 -f ${shellWord(path)}`;
}

function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** A server ERROR leaves the session usable; anything else (FATAL, a closed socket) may have ended it. */
function sessionSurvived(error: unknown): boolean {
  return error instanceof pg.DatabaseError && error.severity === "ERROR";
}

function field(error: unknown, name: "code" | "severity" | "detail" | "hint"): string | null {
  const value = (error as Record<string, unknown> | null)?.[name];
  return typeof value === "string" && value ? value : null;
}

// Loaded only when a guard or the verification needs them: most applies never read the catalog.
async function snapshot(client: pg.Client, options: SnapshotOptions): Promise<CatalogSnapshot> {
  const { snapshot: take } = await import("@dieu44/catalog-snapshot");
  return take(client, options);
}

/**
 * redactDeep with each distinct string redacted once: a 1,000-statement log repeats a handful of
 * tags and statuses some 2,000 times, and every redact() runs several patterns (~10 ms cold).
 */
function redactLog<T>(value: T, done = new Map<string, string>()): T {
  if (typeof value === "string") {
    let masked = done.get(value);
    if (masked === undefined) {
      masked = redact(value);
      done.set(value, masked);
    }
    return masked as T;
  }
  if (Array.isArray(value)) return value.map((item) => redactLog(item, done)) as T;
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = redactLog(item, done);
    return out as T;
  }
  return value;
}

/**
 * pg's pipeline mode, on for the artifact's statements only: the catalog snapshots (fingerprint
 * guard, pre-commit verification) read through cursors, which pipeline mode refuses. Switched
 * only while nothing is queued or in flight; pg reads the flag for each query it sends. A pg
 * without pipeline mode ignores it and sends one statement at a time, which is still correct.
 */
function setPipelined(client: pg.Client, on: boolean): void {
  (client as unknown as { pipeline: boolean }).pipeline = on;
}

/** Milliseconds, to the microsecond. */
function ms(value: number): number {
  return Math.round(value * 1000) / 1000;
}

function elapsed(since: number): number {
  return ms(performance.now() - since);
}

class ApplySession {
  readonly guards: Guard[] = [];
  readonly statements: StatementRecord[];
  readonly toolStatements: ToolStatement[] = [];
  readonly notices: Notice[] = [];
  noticesOmitted = 0;
  error: ApplyError | null = null;
  verification: Verification | null = null;
  backendPid: number | null = null;
  serverVersion: string | null = null;
  /** The artifact statement in flight, for notices. */
  current: number | null = null;
  timings = {
    connectMs: null as number | null,
    guardsMs: null as number | null,
    statementsMs: null as number | null,
    verificationMs: null as number | null,
    commitMs: null as number | null,
  };
  client: pg.Client | undefined;
  /** The connection reported an error or closed: nothing more can be sent on it. */
  connectionEnded = false;

  constructor(
    readonly options: ResolvedOptions,
    readonly plan: ArtifactPlan | null,
  ) {
    this.statements = (plan?.statements ?? []).map((statement) => ({
      index: statement.index,
      line: statement.line,
      endLine: statement.endLine,
      tag: statement.tag,
      status: "not_sent",
      durationMs: null,
    }));
  }

  guard(name: GuardName, expected: string, actual: string | null, passed: boolean, detail?: string): boolean {
    this.guards.push(detail === undefined ? { name, expected, actual, passed } : { name, expected, actual, passed, detail });
    return passed;
  }

  recordError(phase: ErrorPhase, error: unknown, statement: PlannedStatement | null): void {
    this.error = {
      phase,
      sqlstate: field(error, "code"),
      severity: field(error, "severity"),
      message: redact(errorMessage(error)),
      detail: field(error, "detail"),
      hint: field(error, "hint"),
      statementIndex: statement?.index ?? null,
      line: statement?.line ?? null,
      connectionLost: !sessionSurvived(error),
    };
  }

  /** Runs a statement of tx-apply's own (guard, setting, ROLLBACK) and records it. */
  async toolQuery<R extends pg.QueryResultRow>(purpose: string, sql: string, values?: unknown[]): Promise<R[]> {
    const client = this.client;
    if (!client) throw new Error("not connected");
    this.toolStatements.push({ purpose, sql });
    const result = await client.query<R>(sql, values);
    return result.rows;
  }

  onNotice(notice: { severity?: string; code?: string; message?: string; detail?: string }): void {
    if (this.notices.length >= MAX_NOTICES) {
      this.noticesOmitted += 1;
      return;
    }
    this.notices.push({
      severity: notice.severity ?? "NOTICE",
      sqlstate: notice.code ?? null,
      message: notice.message ?? "",
      detail: notice.detail ?? null,
      statementIndex: this.current,
    });
  }
}

/**
 * Applies the artifact. Never throws for an outcome: not_started, rolled_back and unknown are
 * data in the returned log. Throws InputError for bad input and EnvironmentError when no
 * connection can be made at all.
 */
export async function apply(connection: ApplyConnection, artifactInput: ArtifactInput, options: ApplyOptions): Promise<ApplyLog> {
  const opts = await resolveOptions(options);
  const env = connection.env ?? process.env;
  // The session logs in as the role itself (psql -U ROLE). A URL naming another user keeps it, and
  // the connection_user guard refuses before connecting.
  const spec = resolveConnection({ url: connection.url, env: { ...env, PGUSER: opts.role }, applicationName: APPLICATION_NAME });
  const artifact = await readArtifact(artifactInput);
  const startedAt = new Date();
  const started = performance.now();

  const shaMatches = artifact.sha256 === opts.sha256;
  // The approved bytes or nothing: a mismatched file is not even parsed.
  const plan = shaMatches ? await planArtifact(artifact.bytes) : null;
  const session = new ApplySession(opts, plan);

  const finish = (outcome: Outcome, passed: boolean, summary: string): ApplyLog => {
    const finishedAt = new Date();
    const log: ApplyLog = {
      kind: APPLY_LOG_KIND,
      formatVersion: APPLY_LOG_FORMAT_VERSION,
      tool: { name: "tx-apply", version: TOOL_VERSION },
      artifact: {
        path: artifact.path,
        sha256: artifact.sha256,
        expectedSha256: opts.sha256,
        sizeBytes: artifact.bytes.byteLength,
        statementCount: plan ? plan.statements.length : null,
        onErrorStop: plan ? plan.onErrorStop : null,
        metaCommands: plan?.metaCommands ?? [],
      },
      role: opts.role,
      connection: describeConnection(spec),
      backendPid: session.backendPid,
      serverVersion: session.serverVersion,
      settings: {
        lockTimeout: opts.lockTimeout,
        statementTimeout: opts.statementTimeout,
        advisoryLockKey: opts.advisoryLockKey.toString(),
        schemas: opts.schemas,
        pipelineDepth: opts.pipelineDepth,
      },
      dryRun: opts.dryRun,
      guards: session.guards,
      statements: session.statements,
      toolStatements: session.toolStatements,
      notices: session.notices,
      noticesOmitted: session.noticesOmitted,
      verification: session.verification,
      error: session.error,
      outcome,
      passed,
      summary,
      timings: {
        startedAt: startedAt.toISOString(),
        finishedAt: finishedAt.toISOString(),
        totalMs: elapsed(started),
        ...session.timings,
      },
      psqlEquivalent: psqlEquivalent(opts.role, artifact.path),
    };
    // Not re-validated here: a throw at this point could hide an outcome that already happened.
    return redactLog(log);
  };
  const notStarted = (guard: Guard | undefined): ApplyLog =>
    finish(
      "not_started",
      false,
      `not started: guard ${guard?.name ?? "?"} failed (expected ${guard?.expected ?? "?"}, found ${guard?.actual ?? "nothing"}); no artifact statement was sent`,
    );
  const lastGuard = () => session.guards[session.guards.length - 1];

  // Guards that need no server: the bytes, the artifact's shape, the login role.
  if (
    !session.guard(
      "sha256",
      opts.sha256,
      artifact.sha256,
      shaMatches,
      shaMatches ? undefined : "the file is not the approved artifact",
    )
  ) {
    return notStarted(lastGuard());
  }
  if (!plan) return notStarted(lastGuard());
  const shapeOk = plan.problems.length === 0;
  const shapeExpected = "parses; one leading BEGIN, one trailing COMMIT; no meta-command but \\set ON_ERROR_STOP; no role switch";
  const shapeActual = shapeOk ? `${plan.statements.length} statements, BEGIN ... COMMIT` : plan.problems.join("; ");
  if (!session.guard("artifact", shapeExpected, shapeActual, shapeOk)) return notStarted(lastGuard());
  if (!session.guard("connection_user", opts.role, spec.user, spec.user === opts.role, "the user the connection logs in as")) {
    return notStarted(lastGuard());
  }

  const connectStarted = performance.now();
  // Keepalive: a peer that vanishes without a reset still ends the wait (as an error, never a guess).
  const client = new pg.Client({ ...toPgConfig(spec), keepAlive: true, keepAliveInitialDelayMillis: 10_000 });
  session.client = client;
  // A lost connection surfaces as the failing query's error; the event itself must not crash us.
  client.on("error", () => {
    session.connectionEnded = true;
  });
  client.on("end", () => {
    session.connectionEnded = true;
  });
  client.on("notice", (notice) => session.onNotice(notice));
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    const code = field(error, "code");
    throw new EnvironmentError(
      `cannot connect to ${describeConnection(spec)}: ${code ? `${code}: ` : ""}${redact(errorMessage(error))}`,
      {
        cause: error,
      },
    );
  }
  session.timings.connectMs = elapsed(connectStarted);

  try {
    return await runInSession(session, client, plan, finish, notStarted, lastGuard);
  } catch (error) {
    // Not a server answer but a failure of tx-apply itself: close the session (the server then
    // discards any open transaction) and still report what happened, never throw it away.
    await client.end().catch(() => undefined);
    session.recordError("internal", error, null);
    const message = redact(errorMessage(error));
    const commit = session.statements[session.statements.length - 1];
    if (commit?.status === "unknown" || commit?.status === "succeeded") {
      return finish("unknown", false, `unknown: tx-apply failed after COMMIT was sent (${message}); verify the catalog`);
    }
    if (session.statements.some((statement) => statement.status !== "not_sent")) {
      return finish("rolled_back", false, `rolled back: tx-apply failed (${message}); the session was closed before COMMIT`);
    }
    return finish("not_started", false, `not started: tx-apply failed (${message}); no artifact statement was sent`);
  } finally {
    // Ending the session releases the advisory lock; an open transaction would be rolled back.
    await client.end().catch(() => undefined);
  }
}

type Finish = (outcome: Outcome, passed: boolean, summary: string) => ApplyLog;

async function runInSession(
  session: ApplySession,
  client: pg.Client,
  plan: ArtifactPlan,
  finish: Finish,
  notStarted: (guard: Guard | undefined) => ApplyLog,
  lastGuard: () => Guard | undefined,
): Promise<ApplyLog> {
  const opts = session.options;
  const guardsStarted = performance.now();
  const guardFailed = (name: GuardName, expected: string, error: unknown): ApplyLog => {
    session.guard(name, expected, null, false, `could not be checked: ${redact(errorMessage(error))}`);
    session.recordError("guard", error, null);
    session.timings.guardsMs = elapsed(guardsStarted);
    return notStarted(lastGuard());
  };

  // Identity: who the session is and which cluster it reached.
  let identity: { current_user: string; session_user: string; system_identifier: string; pid: number; server_version: string };
  try {
    const rows = await session.toolQuery<typeof identity>(
      "guard: role, cluster and backend of this session",
      "SELECT current_user::text AS current_user, session_user::text AS session_user, " +
        "(SELECT system_identifier::text FROM pg_control_system()) AS system_identifier, " +
        "pg_backend_pid() AS pid, current_setting('server_version') AS server_version",
    );
    identity = rows[0] as typeof identity;
  } catch (error) {
    return guardFailed("current_user", opts.role, error);
  }
  session.backendPid = identity.pid;
  session.serverVersion = identity.server_version;
  const sameRole = (name: "current_user" | "session_user", actual: string) =>
    session.guard(
      name,
      opts.role,
      actual,
      actual === opts.role,
      actual === opts.role ? undefined : "the session is not the approved role",
    );
  if (!sameRole("current_user", identity.current_user) || !sameRole("session_user", identity.session_user)) {
    session.timings.guardsMs = elapsed(guardsStarted);
    return notStarted(lastGuard());
  }
  const sameCluster = identity.system_identifier === opts.expectSystemIdentifier;
  if (
    !session.guard(
      "system_identifier",
      opts.expectSystemIdentifier,
      identity.system_identifier,
      sameCluster,
      sameCluster ? undefined : "this is not the approved cluster",
    )
  ) {
    session.timings.guardsMs = elapsed(guardsStarted);
    return notStarted(lastGuard());
  }

  // One apply at a time per database; the lock lives as long as this session.
  const key = opts.advisoryLockKey.toString();
  try {
    const rows = await session.toolQuery<{ locked: boolean }>(
      "guard: session advisory lock (two applies never overlap)",
      "SELECT pg_try_advisory_lock($1::bigint) AS locked",
      [key],
    );
    const locked = rows[0]?.locked === true;
    if (
      !session.guard(
        "advisory_lock",
        `acquired (key ${key})`,
        locked ? `acquired (key ${key})` : `held by another session (key ${key})`,
        locked,
        locked ? undefined : "another apply is running against this database",
      )
    ) {
      session.timings.guardsMs = elapsed(guardsStarted);
      return notStarted(lastGuard());
    }
  } catch (error) {
    return guardFailed("advisory_lock", `acquired (key ${key})`, error);
  }

  // Session settings: never queue behind production traffic for long. Read back in milliseconds,
  // so the guard compares what the server applies, not how it spells it ("60s" shows as "1min").
  const timeouts = [
    ["lock_timeout", opts.lockTimeout, opts.lockTimeoutMs],
    ["statement_timeout", opts.statementTimeout, opts.statementTimeoutMs],
  ] as const;
  try {
    for (const [name, value] of timeouts) {
      await session.toolQuery(`session setting: ${name} = ${value}`, `SELECT set_config('${name}', $1, false)`, [value]);
    }
    // "committed" must survive a crash of the server: with synchronous_commit = off (a throughput
    // setting some servers use) COMMIT is acknowledged before its WAL is flushed, and an immediate
    // stop right after it loses the transaction the log calls committed (found by the reliability
    // suite). Every other value flushes locally first and is kept (a synchronous standby stays).
    await session.toolQuery(
      "session setting: synchronous_commit = local if the server's is off (an acknowledged COMMIT is flushed first)",
      "SELECT set_config('synchronous_commit', 'local', false) WHERE current_setting('synchronous_commit') = 'off'",
    );
  } catch (error) {
    return guardFailed("lock_timeout", `${opts.lockTimeout} (${opts.lockTimeoutMs} ms)`, error);
  }
  let applied: Map<string, string>;
  try {
    const rows = await session.toolQuery<{ name: string; setting: string }>(
      "guard: the timeouts in effect",
      "SELECT name, setting FROM pg_settings WHERE name IN ('lock_timeout', 'statement_timeout')",
    );
    applied = new Map(rows.map((row) => [row.name, row.setting]));
  } catch (error) {
    return guardFailed("lock_timeout", `${opts.lockTimeout} (${opts.lockTimeoutMs} ms)`, error);
  }
  for (const [name, value, ms] of timeouts) {
    const setting = applied.get(name);
    if (
      !session.guard(
        name,
        `${value} (${ms} ms)`,
        setting === undefined ? null : `${setting} ms`,
        setting === String(ms),
        "set for this session",
      )
    ) {
      session.timings.guardsMs = elapsed(guardsStarted);
      return notStarted(lastGuard());
    }
  }

  // The catalog has not moved since the preflight (closes the window between preflight and apply).
  if (opts.expectFingerprint) {
    try {
      session.toolStatements.push({
        purpose: `guard: catalog-snapshot fingerprint of ${opts.schemas.join(", ")}`,
        sql: "(catalog-snapshot read-only catalog queries in a REPEATABLE READ, READ ONLY transaction)",
      });
      const doc = await snapshot(client, {
        schemas: opts.schemas,
        privilegesFor: opts.privilegesFor,
        statementTimeoutMs: opts.statementTimeoutMs,
      });
      const same = doc.fingerprint === opts.expectFingerprint;
      if (
        !session.guard(
          "fingerprint",
          opts.expectFingerprint,
          doc.fingerprint,
          same,
          same ? undefined : `the catalog of ${opts.schemas.join(", ")} changed since the preflight`,
        )
      ) {
        session.timings.guardsMs = elapsed(guardsStarted);
        return notStarted(lastGuard());
      }
    } catch (error) {
      return guardFailed("fingerprint", opts.expectFingerprint, error);
    }
  }
  session.timings.guardsMs = elapsed(guardsStarted);

  return runStatements(session, client, plan, finish);
}

async function runStatements(session: ApplySession, client: pg.Client, plan: ArtifactPlan, finish: Finish): Promise<ApplyLog> {
  const opts = session.options;
  const total = plan.statements.length;
  const begin = plan.statements[0] as PlannedStatement;
  const commit = plan.statements[total - 1] as PlannedStatement;
  const body = plan.statements.slice(1, -1);
  const statementsStarted = performance.now();

  const notify = (event: Parameters<NonNullable<ResolvedOptions["onStatement"]>>[0]) => {
    try {
      opts.onStatement?.(event);
    } catch {
      // A progress callback must never change what is sent.
    }
  };

  interface ServerAnswer {
    error?: unknown;
    command?: string;
    answeredAt: number;
  }
  /** An artifact statement on its way: sent, its answer still to come. */
  interface InFlight {
    statement: PlannedStatement;
    sentAt: number;
    answer: Promise<ServerAnswer>;
  }
  interface Answer {
    statement: PlannedStatement;
    sent: boolean;
    error?: unknown;
    command?: string;
  }
  /** Indexes of the statements in flight, oldest first: the server answers in order. */
  const inFlightIndexes: number[] = [];
  /** An error answer has arrived (set as it arrives, before it is settled in order). */
  let errorArrived = false;
  /** Statements are pipelined: the server starts on one when it has it and the one before is answered. */
  let lastAnsweredAt = 0;

  const startEvent = (statement: PlannedStatement) =>
    ({ phase: "start", index: statement.index, total, line: statement.line, tag: statement.tag }) as const;

  const dispatch = (statement: PlannedStatement): InFlight => {
    notify(startEvent(statement));
    inFlightIndexes.push(statement.index);
    // Notices arrive before their statement's answer: they belong to the oldest one in flight.
    session.current = inFlightIndexes[0] ?? null;
    const sentAt = performance.now();
    const answer = new Promise<ServerAnswer>((resolve) => {
      // No values: the simple query protocol, the statement's own text and nothing else. The
      // callback runs as the answer is read, in order, so the next notice finds the next statement.
      client.query(statement.text, (error: Error | undefined, result: pg.QueryResult | undefined) => {
        const answeredAt = performance.now();
        inFlightIndexes.shift();
        session.current = inFlightIndexes[0] ?? null;
        if (error) {
          errorArrived = true;
          resolve({ error, answeredAt });
        } else {
          resolve({ command: result?.command, answeredAt });
        }
      });
    });
    return { statement, sentAt, answer };
  };

  /** Waits for the oldest statement's answer and records it; only the first error counts as the failure. */
  const settle = async ({ statement, sentAt, answer }: InFlight, earlierFailure: Answer | undefined): Promise<Answer> => {
    const { error, command, answeredAt } = await answer;
    const record = session.statements[statement.index] as StatementRecord;
    const durationMs = ms(answeredAt - Math.max(sentAt, lastAnsweredAt));
    lastAnsweredAt = answeredAt;
    if (error === undefined) {
      record.status = "succeeded";
      record.durationMs = durationMs;
    } else if (earlierFailure) {
      record.status = "skipped";
      record.durationMs = null;
      record.note = `sent before statement ${earlierFailure.statement.index} failed; not run (the server refuses the rest of a failed transaction)`;
    } else {
      // Only COMMIT can leave the outcome open; everywhere else an answerless statement failed.
      const unknown = statement === commit && !sessionSurvived(error);
      record.status = unknown ? "unknown" : "failed";
      record.durationMs = unknown ? null : durationMs;
    }
    notify({
      phase: "end",
      index: statement.index,
      total,
      line: statement.line,
      tag: statement.tag,
      status: record.status as "succeeded" | "failed" | "skipped" | "unknown",
      durationMs,
    });
    return error === undefined ? { statement, sent: true, command } : { statement, sent: true, error };
  };

  /** Awaits the hook, then whether the statement can still leave at all. */
  const readyToSend = async (statement: PlannedStatement): Promise<Answer | undefined> => {
    if (opts.onBeforeStatement) {
      try {
        await opts.onBeforeStatement(startEvent(statement));
      } catch {
        // Like onStatement: a hook never changes what is sent.
      }
    }
    // The socket is already gone: this statement never leaves, so it cannot have done anything.
    if (session.connectionEnded) {
      return { statement, sent: false, error: new Error("the connection ended before this statement could be sent") };
    }
    return undefined;
  };

  /** Sends one statement alone and waits for its answer (BEGIN, COMMIT). */
  const send = async (statement: PlannedStatement): Promise<Answer> =>
    (await readyToSend(statement)) ?? settle(dispatch(statement), undefined);

  /**
   * Sends the statements between BEGIN and COMMIT with up to pipelineDepth in flight, and returns
   * the first failure. Pipelining cannot run anything past an error: inside the transaction the
   * server refuses every statement after one that failed until the transaction ends, and the
   * artifact check has refused every statement that could end it (SAVEPOINT and ROLLBACK TO
   * included). No statement is sent once an error has arrived.
   */
  const sendBody = async (statements: PlannedStatement[]): Promise<Answer | undefined> => {
    const depth = opts.pipelineDepth;
    const pending: InFlight[] = [];
    let failure: Answer | undefined;
    const settleOldest = async () => {
      const answer = await settle(pending.shift() as InFlight, failure);
      failure ??= answer.error === undefined ? undefined : answer;
    };
    setPipelined(client, depth > 1);
    try {
      for (const statement of statements) {
        while (pending.length >= depth) await settleOldest();
        if (failure || errorArrived) break;
        const unsent = await readyToSend(statement);
        if (unsent) {
          // Those in flight went first: one of them may be the failure to report.
          while (pending.length > 0) await settleOldest();
          failure ??= unsent;
          break;
        }
        pending.push(dispatch(statement));
      }
      while (pending.length > 0) await settleOldest();
    } finally {
      setPipelined(client, false);
    }
    return failure;
  };

  /** ROLLBACK of tx-apply's own (error, failed verification, dry run). */
  const rollback = async (purpose: string): Promise<void> => {
    try {
      await session.toolQuery(purpose, "ROLLBACK");
    } catch {
      // The session is gone, and with it the transaction: nothing was committed either way.
    }
  };

  const failed = async (
    phase: ErrorPhase,
    error: unknown,
    statement: PlannedStatement | null,
    what: string,
  ): Promise<ApplyLog> => {
    session.recordError(phase, error, statement);
    session.timings.statementsMs ??= elapsed(statementsStarted);
    // COMMIT was never sent: a transaction whose session ends is rolled back by the server.
    if (sessionSurvived(error)) await rollback("ROLLBACK after the first error (ON_ERROR_STOP)");
    const lost = session.error?.connectionLost ? " (the session ended; the server discards its open transaction)" : "";
    const code = session.error?.sqlstate ? `SQLSTATE ${session.error.sqlstate}: ` : "";
    return finish(
      "rolled_back",
      false,
      `rolled back: ${what} failed with ${code}${redact(errorMessage(error))}${lost}; nothing was committed`,
    );
  };
  const at = (statement: PlannedStatement) => `statement ${statement.index} (line ${statement.line}, ${statement.tag})`;

  const opened = await send(begin);
  if (opened.error !== undefined) return failed("statement", opened.error, begin, at(begin));

  /** The expectation's scope as this transaction sees it (its own uncommitted DDL included). */
  const snapshotInTransaction = (expectation: ExpectedDelta, when: string): Promise<CatalogSnapshot> => {
    session.toolStatements.push({
      purpose: `pre-commit verification: catalog snapshot ${when}`,
      sql: "(catalog-snapshot read-only catalog queries under SAVEPOINT catalog_snapshot, rolled back to it afterwards)",
    });
    return snapshot(client, {
      schemas: expectation.scope.schemas,
      privilegesFor: opts.privilegesFor,
      statementTimeoutMs: opts.statementTimeoutMs,
      useCurrentTransaction: true,
    });
  };

  // The verification's "before": inside the transaction, before the first statement of the body.
  const expectation = opts.verifyBeforeCommit;
  let before: CatalogSnapshot | undefined;
  if (expectation) {
    const verifyStarted = performance.now();
    try {
      before = await snapshotInTransaction(expectation, "before the first statement");
    } catch (error) {
      session.timings.verificationMs = elapsed(verifyStarted);
      session.verification = {
        expectation,
        beforeFingerprint: null,
        afterFingerprint: null,
        result: null,
        passed: false,
        durationMs: elapsed(verifyStarted),
      };
      return failed("verification", error, null, "the pre-commit verification's first snapshot");
    }
    session.timings.verificationMs = elapsed(verifyStarted);
  }

  const failure = await sendBody(body);
  if (failure) return failed("statement", failure.error, failure.statement, at(failure.statement));
  session.timings.statementsMs = elapsed(statementsStarted);

  const commitRecord = session.statements[commit.index] as StatementRecord;
  // A statement can change who the session acts as by means no parser check sees (a function
  // calling set_config('role', ...)): ask again right before COMMIT, and commit nothing otherwise.
  let roleNow: { current_user: string; session_user: string } | undefined;
  try {
    [roleNow] = await session.toolQuery<{ current_user: string; session_user: string }>(
      "guard: still the apply role right before COMMIT",
      "select current_user, session_user",
    );
  } catch (error) {
    commitRecord.note = "replaced by ROLLBACK: the role could not be checked before COMMIT";
    return failed("guard", error, null, "the role check before COMMIT");
  }
  const sameRole = roleNow?.current_user === opts.role && roleNow?.session_user === opts.role;
  const actualRole = `current_user ${roleNow?.current_user}, session_user ${roleNow?.session_user}`;
  if (!session.guard("current_user", opts.role, actualRole, sameRole, "checked again right before COMMIT")) {
    commitRecord.note = "replaced by ROLLBACK: the session's role changed during the apply";
    await rollback("ROLLBACK: the session's role changed during the apply");
    return finish(
      "rolled_back",
      false,
      `rolled back: the session acts as ${actualRole}, not ${opts.role}; nothing was committed`,
    );
  }
  if (expectation && before) {
    const verifyStarted = performance.now();
    let after: CatalogSnapshot | undefined;
    try {
      after = await snapshotInTransaction(expectation, "before COMMIT");
      const { check, diff } = await import("@dieu44/drift-diff");
      const result = check(diff(before, after, { scope: { schemas: expectation.scope.schemas } }), expectation);
      session.verification = {
        expectation,
        beforeFingerprint: before.fingerprint,
        afterFingerprint: after.fingerprint,
        result,
        passed: result.pass,
        durationMs: elapsed(verifyStarted) + (session.timings.verificationMs ?? 0),
      };
    } catch (error) {
      session.verification = {
        expectation,
        beforeFingerprint: before.fingerprint,
        afterFingerprint: after?.fingerprint ?? null,
        result: null,
        passed: false,
        durationMs: elapsed(verifyStarted) + (session.timings.verificationMs ?? 0),
      };
      session.timings.verificationMs = session.verification.durationMs;
      commitRecord.note = "replaced by ROLLBACK: the pre-commit verification could not run";
      return failed("verification", error, null, "the pre-commit verification");
    }
    session.timings.verificationMs = session.verification.durationMs;
    if (!session.verification.passed) {
      commitRecord.note = "replaced by ROLLBACK: the pre-commit verification failed";
      await rollback("ROLLBACK: the pre-commit verification failed");
      const count = session.verification.result?.violations.length ?? 0;
      return finish(
        "rolled_back",
        false,
        `rolled back: the pre-commit verification found ${count} violation(s) of the expected delta; nothing was committed`,
      );
    }
  }

  if (opts.dryRun) {
    commitRecord.note = "replaced by ROLLBACK: dry run";
    await rollback("ROLLBACK instead of COMMIT: dry run");
    const verified = expectation ? " and the pre-commit verification passed" : "";
    return finish(
      "rolled_back",
      true,
      `dry run: all ${body.length} statements succeeded${verified}; rolled back, nothing was committed`,
    );
  }

  const commitStarted = performance.now();
  const committed = await send(commit);
  session.timings.commitMs = elapsed(commitStarted);
  if (committed.error === undefined) {
    if (committed.command === "COMMIT") {
      return finish("committed", true, `committed: ${body.length} statements as ${opts.role}`);
    }
    // The server answers COMMIT of a failed transaction with ROLLBACK.
    commitRecord.note = `the server answered ${committed.command ?? "nothing"}`;
    return finish(
      "rolled_back",
      false,
      `rolled back: the server answered COMMIT with ${committed.command ?? "nothing"}; nothing was committed`,
    );
  }
  session.recordError("commit", committed.error, commit);
  if (!committed.sent) {
    // COMMIT never left: the server discards the transaction of a session that ended.
    return finish("rolled_back", false, "rolled back: the session ended before COMMIT could be sent; nothing was committed");
  }
  if (sessionSurvived(committed.error)) {
    // An ERROR from COMMIT (a deferred constraint, a serialization failure) aborts the transaction.
    const code = session.error?.sqlstate ? `SQLSTATE ${session.error.sqlstate}: ` : "";
    return finish(
      "rolled_back",
      false,
      `rolled back: COMMIT failed with ${code}${redact(errorMessage(committed.error))}; nothing was committed`,
    );
  }
  // The answer to COMMIT never arrived: it may or may not have committed. Never assume.
  return finish(
    "unknown",
    false,
    `unknown: the connection was lost while COMMIT was in flight (${redact(errorMessage(committed.error))}); ` +
      "verify the catalog before doing anything else",
  );
}
