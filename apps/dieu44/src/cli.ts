/**
 * dieu44 run|preflight|rehearse --plan PLAN [--evidence DIR] [--previous DIR] [--url URL]
 * dieu44 demo [--out DIR]
 *
 * stdout: a one-screen summary (or the procedure result with --format json); progress on stderr.
 * Exit: 0 PASS, 1 FAIL/BLOCKED/ROLLED_BACK/STOP_AND_ESCALATE, 2 bad usage or plan, 3 environment.
 */
import { relative } from "node:path";
import { parseCommandLine } from "@dieu44/plumbing/cli-args";
import { ExitCode, runCli } from "@dieu44/plumbing/exit";
import { importPg } from "@dieu44/plumbing/pg-import";
import yargs, { hideBin } from "@dieu44/plumbing/yargs";
import type { ProcedureMode, ProcedureResult } from "@dieu44/report-render/schema";
import type { Argv } from "yargs";
import type { DemoResult } from "./demo.js";

const TOOL = "dieu44";
const logLine = (line: string) => process.stderr.write(`${line}\n`);

function summarize(result: ProcedureResult, evidenceDir: string): string {
  const lines = [
    `${result.cycle}: ${result.status}`,
    `  apply role ${result.applyRole}, ${result.connection}`,
    ...result.steps.map((step) => `  ${step.status.padEnd(8)} ${step.title}: ${step.summary}`),
  ];
  if (result.verdict)
    lines.push(`  root cause: ${result.verdict.root_cause}; production changed: ${result.verdict.production_changed}`);
  lines.push(`  evidence: ${evidenceDir}`);
  for (const file of Object.values(result.files)) lines.push(`    ${file}`);
  return `${lines.join("\n")}\n`;
}

function summarizeDemo(demo: DemoResult): string {
  const lines = [`dieu44 demo on PostgreSQL ${demo.serverVersion}:`];
  for (const attempt of demo.attempts) {
    lines.push(`  ${attempt.label}: ${attempt.status}`);
    lines.push(`    evidence: ${relative(process.cwd(), attempt.evidenceDir) || "."}`);
    lines.push(`    report:   ${relative(process.cwd(), attempt.report)}`);
  }
  lines.push(demo.asExpected ? "As the seed tells it: BLOCKED at preflight, then PASS." : "Unexpected result: see the reports.");
  return `${lines.join("\n")}\n`;
}

async function main(argv: string[]): Promise<number> {
  let exitCode: number = ExitCode.Passed;
  const procedureOptions = (y: Argv) =>
    y
      .option("plan", { type: "string", demandOption: true, describe: "plan file (JSON or YAML)" })
      .option("evidence", { type: "string", describe: "evidence folder (default: the plan's evidence.dir)" })
      .option("previous", { type: "string", describe: "evidence folder of the previous attempt" })
      .option("url", { alias: "dsn", type: "string", describe: "the apply role's connection (default: libpq environment)" })
      .option("verify-before-commit", { type: "boolean", default: true, describe: "check the expected delta before COMMIT" })
      .option("pg-dump", { type: "string", describe: "pg_dump binary for the fresh backup" })
      .option("templates", { type: "string", describe: "report templates folder" })
      .option("format", { choices: ["text", "json"] as const, default: "text" as const });
  // The procedure's modules (pg, the parser, zod, handlebars) load only once a command is chosen,
  // so that --help and usage errors answer at once.
  const runMode = (mode: ProcedureMode) => async (args: Awaited<ReturnType<typeof procedureOptions>["argv"]>) => {
    const [{ runProcedure }, { toJsonText, writeOut }] = await Promise.all([
      importPg(() => import("pg")).then(() => import("./procedure.js")),
      import("@dieu44/plumbing/json-io"),
    ]);
    const outcome = await runProcedure({
      mode,
      planPath: args.plan,
      evidenceDir: args.evidence,
      previousDir: args.previous,
      connection: { url: args.url },
      verifyBeforeCommit: args.verifyBeforeCommit,
      pgDump: args.pgDump,
      templatesDir: args.templates,
      log: logLine,
    });
    await writeOut(args.format === "json" ? toJsonText(outcome.result) : summarize(outcome.result, outcome.evidenceDir));
    exitCode = outcome.exitCode;
  };

  const parser = yargs(argv)
    .scriptName(TOOL)
    .command("run", "run the whole procedure: P1, P2, P3, apply, verification", procedureOptions, runMode("run"))
    .command("preflight", "read-only: P1 and P3 only", procedureOptions, runMode("preflight"))
    .command("rehearse", "everything including verification, then ROLLBACK", procedureOptions, runMode("rehearse"))
    .command(
      "demo",
      "the procedure on a throwaway embedded PostgreSQL: BLOCKED as directus, then PASS as workflow_admin",
      (y) => y.option("out", { type: "string", default: "evidence", describe: "folder for both evidence folders" }),
      async (args) => {
        const [{ runDemo }, { writeOut }] = await Promise.all([
          importPg(() => import("pg")).then(() => import("./demo.js")),
          import("@dieu44/plumbing/json-io"),
        ]);
        const demo = await runDemo({ outDir: args.out, log: logLine });
        await writeOut(summarizeDemo(demo));
        exitCode = demo.asExpected ? ExitCode.Passed : ExitCode.CheckFailed;
      },
    )
    .demandCommand(1, "name a command: run, preflight, rehearse or demo")
    .strict();
  // null: --help printed the usage and ran no command.
  return (await parseCommandLine(parser, argv)) === null ? ExitCode.Passed : exitCode;
}

await runCli(TOOL, () => main(hideBin(process.argv)));
