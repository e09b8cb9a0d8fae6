/** The backup-marker command line: create, verify, register. */
import { parseCommandLine, protectStdinDash } from "@dieu44/plumbing/cli-args";
import { ExitCode, runCli } from "@dieu44/plumbing/exit";
import { importPg } from "@dieu44/plumbing/pg-import";
import yargs, { hideBin } from "@dieu44/plumbing/yargs";
import type { OutputFormat } from "./commands.js";

/** The commands load once one is chosen (with pg: see importPg), so --help answers at once. */
const loadCommands = () => importPg(() => import("pg")).then(() => import("./commands.js"));

const TOOL = "backup-marker";

async function main(): Promise<number> {
  let result: Promise<number> | undefined;
  // A marker given as - (stdin) must reach the command as it is.
  const args = protectStdinDash(hideBin(process.argv));
  const parser = yargs(args)
    .scriptName(TOOL)
    .usage("$0 <command>: a fresh, verified, secret-free backup record")
    .option("format", { choices: ["json", "text"] as const, default: "json" as OutputFormat, describe: "stdout format" })
    .command(
      "create",
      "run pg_dump (custom format) into --out-dir and write a marker beside the archive",
      (y) =>
        y
          .option("out-dir", { type: "string", demandOption: true, describe: "directory for the archive and its marker" })
          .option("url", {
            alias: "dsn",
            type: "string",
            describe: "postgres:// URL or key=value DSN (default: libpq environment)",
          })
          .option("label", { type: "string", describe: "free text recorded in the marker" })
          .option("pg-dump", { type: "string", describe: "pg_dump binary (default: pg_dump on PATH)" })
          .option("progress", { type: "boolean", describe: "bytes written on stderr (default: when stderr is a terminal)" }),
      (argv) => {
        result = loadCommands().then((commands) => commands.create(argv));
      },
    )
    .command(
      "verify <marker>",
      "recompute the checksum, prove the archive readable, check freshness, cluster and optionally restorability",
      (y) =>
        y
          .positional("marker", { type: "string", demandOption: true, describe: "marker JSON file (- for stdin)" })
          .option("max-age", { type: "string", describe: "fail when the backup started longer ago, e.g. 1h, 30m, 2d" })
          .option("expect-system-identifier", { type: "string", describe: "fail unless the backup is of this cluster" })
          .option("restore-to", {
            type: "string",
            describe: "empty scratch database URL: restore there and compare catalog fingerprints",
          })
          .option("source-url", {
            type: "string",
            describe: "compare the restored copy with this live database instead of the recorded fingerprint",
          })
          .option("pg-restore", {
            type: "string",
            describe: "pg_restore binary (default: beside the recorded pg_dump, else PATH)",
          })
          .option("write", {
            type: "boolean",
            default: true,
            describe: "record the result in the marker file (--no-write: leave it)",
          }),
      (argv) => {
        result = loadCommands().then((commands) => commands.verify(argv));
      },
    )
    .command(
      "register [file]",
      "record a backup made elsewhere (a file, or --identifier for e.g. a managed snapshot id), marked external",
      (y) =>
        y
          .positional("file", { type: "string", describe: "the backup file (hashed and sized)" })
          .option("identifier", { type: "string", describe: "an opaque backup identifier instead of a file" })
          .option("taken-at", { type: "string", describe: "when the backup was taken (ISO 8601; default for a file: its mtime)" })
          .option("archive-format", { type: "string", describe: "override the detected file format" })
          .option("label", { type: "string", describe: "free text recorded in the marker" })
          .option("url", { alias: "dsn", type: "string", describe: "the backed-up database: server facts are read from it" })
          .option("out-dir", { type: "string", describe: "where to write the marker (default: current directory)" }),
      (argv) => {
        result = loadCommands().then((commands) => commands.register(argv));
      },
    )
    .demandCommand(1, "give a command: create, verify or register")
    .strict();
  await parseCommandLine(parser, args);
  // --help printed usage and ran no command.
  return result ? await result : ExitCode.Passed;
}

await runCli(TOOL, main);
