/**
 * Exit codes shared by every dieu44 tool, and the one place that turns errors into them.
 */
import { redact } from "./redact.js";

export const ExitCode = {
  /** The check passed. */
  Passed: 0,
  /** A check failed: violation, drift, failed apply. */
  CheckFailed: 1,
  /** Bad usage or invalid input. */
  BadInput: 2,
  /** Environment failure: cannot connect, missing pg_dump, ... */
  Environment: 3,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** An expected failure: its message is printed (redacted), never its stack. */
export class ToolError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Bad usage or invalid input (exit 2). */
export class InputError extends ToolError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, ExitCode.BadInput, options);
  }
}

/** The environment failed: unreachable server, missing binary (exit 3). */
export class EnvironmentError extends ToolError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, ExitCode.Environment, options);
  }
}

/**
 * Maps any thrown value to the tool's exit code. Anything that is not a ToolError (a refused
 * connection, a failed login, a missing binary, a server error) means the tool could not do its
 * job in this environment: exit 3.
 */
export function exitCodeFor(error: unknown): ExitCode {
  return error instanceof ToolError ? error.exitCode : ExitCode.Environment;
}

/**
 * An error's message, not redacted (callers redact what they print): a refused connection to a
 * name with several addresses is an AggregateError with no message of its own, so its first error
 * speaks for it; an error without a message falls back to its code, then its name.
 */
export function errorMessage(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return errorMessage(error.errors[0]);
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return error.message || (typeof code === "string" && code ? code : error.name);
  }
  return String(error);
}

/** A one-line, redacted description of an error for stderr. */
export function describeError(error: unknown): string {
  if (error instanceof ToolError) return redact(error.message);
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    const prefix = typeof code === "string" ? `${code}: ` : "";
    return redact(`${prefix}${error.message || error.name}`);
  }
  return redact(String(error));
}

/**
 * Runs a CLI's main function and sets process.exitCode from its result or error.
 * Only CLI layers call this; libraries throw ToolError subclasses.
 */
export async function runCli(tool: string, main: () => Promise<ExitCode | number>): Promise<void> {
  ignoreBrokenPipe(process.stdout);
  exitOnStrayError(tool);
  try {
    process.exitCode = await main();
  } catch (error) {
    reportError(tool, error);
    process.exitCode = exitCodeFor(error);
  }
}

/** The one-line, redacted message on stderr (the redacted stack only with DIEU44_DEBUG). */
function reportError(tool: string, error: unknown): void {
  process.stderr.write(`${tool}: ${describeError(error)}\n`);
  if (process.env.DIEU44_DEBUG && error instanceof Error && error.stack) {
    process.stderr.write(`${redact(error.stack)}\n`);
  }
}

/**
 * The last resort for an error thrown outside main's promise chain (an 'error' event nobody
 * listens to, e.g. a connection the server closed, or a rejected promise nobody awaits): Node
 * would print the stack, unredacted, and exit 1, which means "check failed". Instead the tool
 * reports it like any other error and exits with its code (3 unless it is a ToolError).
 */
function exitOnStrayError(tool: string): void {
  const onStray = (error: unknown) => {
    reportError(tool, error);
    process.exit(exitCodeFor(error));
  };
  process.on("uncaughtException", onStray);
  process.on("unhandledRejection", onStray);
}

/** A closed downstream pipe (`| head`) ends output quietly instead of crashing. */
export function ignoreBrokenPipe(stream: NodeJS.WriteStream): void {
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") return;
    throw error;
  });
}
