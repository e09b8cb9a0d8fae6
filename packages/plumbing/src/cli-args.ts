/**
 * The yargs settings every dieu44 command line shares, and the small helpers their arguments need.
 */
import type { Argv } from "yargs";
import { InputError, ToolError } from "./exit.js";

/** What yargs' parseAsync resolves to for a parser of type Argv<T>. */
export type ParsedArguments<T> = ReturnType<Argv<T>["parseSync"]>;

/**
 * Parses argv with the shared settings: --help (printed to stdout), no --version, never
 * process.exit. A usage error becomes InputError (exit 2); a ToolError a command handler throws
 * keeps its own exit code. Returns null when --help printed the usage (nothing else was run).
 */
export async function parseCommandLine<T>(parser: Argv<T>, argv: readonly string[]): Promise<ParsedArguments<T> | null> {
  let printed = false;
  const parsed = await parser
    .help()
    .version(false)
    .exitProcess(false)
    .fail((message, error) => {
      if (error instanceof ToolError) throw error;
      throw new InputError(message || error?.message || "invalid arguments");
    })
    // With a parse callback yargs hands over what it would print (the usage) instead of printing it.
    .parseAsync(argv, {}, (error, _argv, output) => {
      if (!error && output) {
        printed = true;
        process.stdout.write(`${output}\n`);
      }
    });
  return printed ? null : parsed;
}

/** A repeatable option's values: yargs gives one as a string, several as an array. */
export function optionValues(value: unknown): string[] {
  return value === undefined ? [] : [value].flat().map(String);
}

/** yargs turns a lone `-` into an empty string (or `true`), so `-` (stdin) travels under a token it leaves alone. */
const STDIN_TOKEN = "\u0000stdin";

/** argv with each lone `-` replaced by the token; undo it on the parsed value with {@link fromStdinToken}. */
export function protectStdinDash(argv: readonly string[]): string[] {
  return argv.map((arg) => (arg === "-" ? STDIN_TOKEN : arg));
}

/** A parsed value with the token turned back into `-`. */
export function fromStdinToken(value: string): string {
  return value === STDIN_TOKEN ? "-" : value;
}
