// sql-lint against squawk on the same 20,000-statement artifact (no server: linting is offline).

import { createHash } from "node:crypto";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { lintArtifact } from "../lib/artifacts.mjs";
import { alternate, median, pairedRatio } from "../lib/measure.mjs";
import { contenderRows } from "../lib/report.mjs";

const STATEMENTS = 20_000;

export default {
  id: "sql-lint",
  title: "sql-lint vs squawk: a 20,000-statement artifact",
  issue: "5",
  async run(ctx) {
    const runs = ctx.runs(7);
    const folder = ctx.folder("sql-lint");
    const sql = lintArtifact(STATEMENTS);
    const artifact = join(folder, "artifact.sql");
    writeFileSync(artifact, sql);
    const policy = join(folder, "policy.json");
    writeFileSync(
      policy,
      JSON.stringify({
        kind: "sql-lint-policy",
        formatVersion: 1,
        approvedSha256: createHash("sha256").update(sql).digest("hex"),
        allowedSchemas: ["bench"],
        // The artifact creates indexes and comments; the rest of the seed's list stays forbidden.
        forbiddenStatements: [
          "GRANT",
          "REVOKE",
          "ALTER_OWNER",
          "ALTER_SCHEMA",
          "SET_ROLE",
          "SET_SESSION_AUTHORIZATION",
          "DML",
          "DROP",
          "TRUNCATE",
          "DO",
          "COPY",
          "CREATE_SCHEMA",
        ],
      }),
    );
    const squawkFolder = ctx.tools()["squawk-cli"];
    const squawkWrapper = join(squawkFolder, "..", ".bin", "squawk");
    const squawkBinary = join(squawkFolder, "..", "@squawk-cli", `${process.platform}-${process.arch}`, "bin", "squawk");
    const sqlLint = ctx.cli("sql-lint");
    let report;
    const contenders = [
      {
        id: "sql-lint --format text",
        role: "ours",
        show: "node packages/sql-lint/bin/sql-lint.js artifact.sql --policy policy.json --format text",
        run: () => ctx.measure(process.execPath, [sqlLint, artifact, "--policy", policy, "--format", "text"]),
      },
      {
        id: "squawk",
        role: "baseline",
        show: "squawk artifact.sql (the squawk-cli package's bin: a node wrapper that runs the native binary)",
        // squawk exits 1 when it reports issues (it finds a few in this artifact).
        run: () => ctx.measure(squawkWrapper, [artifact], { ok: [0, 1] }),
      },
      {
        id: "sql-lint (JSON report)",
        role: "info",
        show: "node packages/sql-lint/bin/sql-lint.js artifact.sql --policy policy.json",
        run: () => {
          const sample = ctx.measure(process.execPath, [sqlLint, artifact, "--policy", policy]);
          report = sample.stdout;
          sample.stdout = "";
          return sample;
        },
      },
      ...(existsSync(squawkBinary)
        ? [
            {
              id: "squawk native binary",
              role: "info",
              show: `squawk's native binary (@squawk-cli/${process.platform}-${process.arch}) artifact.sql`,
              run: () => ctx.measure(squawkBinary, [artifact], { ok: [0, 1] }),
            },
          ]
        : []),
    ];
    const results = await alternate(contenders, runs, ctx.log);
    const parsed = JSON.parse(report);
    if (!parsed.pass) throw new Error("the benchmark artifact should pass its policy");
    const counted = parsed.facts.statementCount;
    const squawkVersion = ctx.measure(squawkWrapper, ["--version"]).stdout.trim();
    // Where a cold sql-lint run spends its CPU (fresh processes, medians of 3).
    const phaseScript = join(ctx.repoRoot, "bench", "helpers", "sql-lint-phases.mjs");
    const phaseRuns = [0, 1, 2].map(() => JSON.parse(ctx.measure(process.execPath, [phaseScript, artifact, policy]).stdout));
    const phase = (key) => Math.round(median(phaseRuns.map((run) => run[key])));
    const ours = results["sql-lint --format text"];
    const squawk = results.squawk;
    const ratio = ours.median / squawk.median;
    return {
      versions: { squawk: squawkVersion },
      setup: [
        `Artifact: ${Buffer.byteLength(sql).toLocaleString("en")} bytes, ${counted.toLocaleString("en")} statements as counted by sql-lint's parser (\`\\set ON_ERROR_STOP on\`, BEGIN, CREATE TABLE with PK/FK/UNIQUE/CHECK, ALTER TABLE ADD CONSTRAINT, CREATE INDEX, COMMENT ON with \`CREATE TABLE\` inside a literal, COMMIT).`,
        "sql-lint runs with a policy that approves the artifact's sha256 (it passes, exit 0); squawk with its default rules (it reports issues, exit 1).",
        `${runs} rounds, alternating, after one warm-up of each. Output goes to a pipe.`,
        `Where a cold sql-lint process spends its CPU (\`bench/helpers/sql-lint-phases.mjs\`, medians of 3 fresh processes): process start ${phase("processStartMs")} ms, imports (zod, yargs, the libpg-query WebAssembly, sql-lint) ${phase("importMs")} ms, libpg-query's \`parse\` of the whole file alone (its JSON tree is ${phaseRuns[0].parseTreeJsonChars.toLocaleString("en")} characters) ${phase("parserOnlyColdMs")} ms, then \`lint()\` (its own parse, lexing, facts, derived delta, rules, report) ${phase("lintAfterThatMs")} ms.`,
      ],
      contenders: contenderRows(contenders, results, squawk),
      targets: [
        {
          what: "sql-lint median wall time / squawk's",
          target: "≤ 1x",
          value: `${ratio.toFixed(2)}x (${ours.median.toFixed(2)} s vs ${squawk.median.toFixed(2)} s; per-round ratio ${pairedRatio(ours, squawk).toFixed(2)}x)`,
          met: ratio <= 1,
        },
        {
          what: "sql-lint median wall time",
          target: "< 2 s",
          value: `${ours.median.toFixed(2)} s`,
          met: ours.median < 2,
        },
      ],
    };
  },
};
