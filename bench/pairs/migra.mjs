// catalog-snapshot + drift-diff against @pgkit/migra on the same two databases (N tables, 1% changed).

import { join } from "node:path";
import { alternate, combine, median, pairedRatio } from "../lib/measure.mjs";
import { contenderRows } from "../lib/report.mjs";

export default {
  id: "migra",
  title: "catalog-snapshot + drift-diff vs migra: the same two databases",
  issue: "4",
  async run(ctx) {
    const { n, runs: runsOption } = ctx.options;
    const runs = ctx.runs(5);
    // migra takes about a minute per run at 10,000 tables: three rounds (fewer when --runs asks).
    const migraRuns = Math.min(runs, runsOption ?? 3);
    const before = await ctx.catalog(n);
    const after = await ctx.changedCatalog(n);
    const beforeFile = ctx.snapshotFile(n, "before");
    const afterFile = ctx.snapshotFile(n, "after");
    const urlOf = (database) => `postgres://${ctx.cluster.host}:${ctx.cluster.port}/${database}`;
    const snapshotCli = ctx.cli("catalog-snapshot");
    const migra = join(ctx.tools()["@pgkit/migra"], "dist", "command.js");
    const pipelineScript = join(ctx.repoRoot, "bench", "helpers", "pipeline.mjs");
    let diffText = "";
    let migraText = "";
    const stages = { "snapshot before": [], "snapshot after": [], "drift-diff": [] };
    const contenders = [
      {
        id: "CLI pipeline",
        role: "ours",
        show: [
          `catalog-snapshot --url postgres://HOST:PORT/${before.database} --schema ${ctx.schema} --out before.json`,
          `catalog-snapshot --url postgres://HOST:PORT/${after.database} --schema ${ctx.schema} --out after.json`,
          "drift-diff before.json after.json --format text",
        ].join(" && "),
        run: ({ warmUp }) => {
          const parts = [
            ctx.measure(process.execPath, [
              snapshotCli,
              "--url",
              urlOf(before.database),
              "--schema",
              ctx.schema,
              "--out",
              beforeFile,
            ]),
            ctx.measure(process.execPath, [
              snapshotCli,
              "--url",
              urlOf(after.database),
              "--schema",
              ctx.schema,
              "--out",
              afterFile,
            ]),
            // drift-diff exits 1: the snapshots differ.
            ctx.measure(process.execPath, [ctx.cli("drift-diff"), beforeFile, afterFile, "--format", "text"], { ok: [1] }),
          ];
          diffText = parts[2].stdout;
          if (!warmUp) {
            for (const [i, stage] of Object.keys(stages).entries()) stages[stage].push(parts[i].seconds);
          }
          return combine(parts);
        },
      },
      {
        id: "migra",
        role: "baseline",
        runs: migraRuns,
        warmUp: false,
        show: `migra URL_BEFORE URL_AFTER --schema ${ctx.schema} --unsafe --with-privileges (@pgkit/migra's bin)`,
        run: () => {
          // migra exits 2 when it found differences, as the Python original does.
          const sample = ctx.measure(
            process.execPath,
            [
              migra,
              ctx.cluster.url({ database: before.database }),
              ctx.cluster.url({ database: after.database }),
              "--schema",
              ctx.schema,
              "--unsafe",
              "--with-privileges",
            ],
            { ok: [0, 2] },
          );
          migraText = sample.stdout;
          return sample;
        },
      },
      {
        id: "library pipeline",
        role: "info",
        show: `node bench/helpers/pipeline.mjs ${before.database} ${after.database} ${ctx.schema} (snapshot() of both concurrently, then diff(), one process)`,
        run: () => ctx.measure(process.execPath, [pipelineScript, before.database, after.database, ctx.schema], { ok: [1] }),
      },
    ];
    const results = await alternate(contenders, runs, ctx.log);
    ctx.noteSnapshot(n, "before");
    ctx.noteSnapshot(n, "after");
    const ours = results["CLI pipeline"];
    const theirs = results.migra;
    const library = results["library pipeline"];
    const ratio = ours.median / theirs.median;
    const libraryRatio = library.median / theirs.median;
    const migraStatements = migraText.split("\n").filter((line) => line.trim().endsWith(";")).length;
    const statLine = diffText.trim().split("\n").at(-1).trim();
    return {
      setup: [
        `Databases \`${before.database}\` (${n.toLocaleString("en")} tables, as the snapshot pair) and \`${after.database}\` (a copy with ${after.tablesChanged} tables changed, one change each, five kinds in turn: a column added, a column type changed, an index added, a UNIQUE dropped, a CHECK added).`,
        `drift-diff's summary: \`${statLine}\`; migra printed ${migraStatements} statements.`,
        `${runs} rounds, alternating, after one warm-up of the pipelines; migra in the first ${migraRuns} rounds without a warm-up of its own (one run takes about as long as all the others' runs together; the pipelines' warm-up has read the same two catalogs).`,
        `CLI pipeline stages (medians): snapshot before ${median(stages["snapshot before"]).toFixed(2)} s, snapshot after ${median(stages["snapshot after"]).toFixed(2)} s, drift-diff ${median(stages["drift-diff"]).toFixed(2)} s; the pipeline's peak RSS is the largest of its three processes.`,
      ],
      contenders: contenderRows(contenders, results, theirs),
      targets: [
        {
          what: "catalog-snapshot ×2 + drift-diff (three CLIs in a row) median wall time / migra's",
          target: "≤ 0.1x",
          value: `${ratio.toFixed(3)}x (${ours.median.toFixed(2)} s vs ${theirs.median.toFixed(2)} s; per-round ratio ${pairedRatio(ours, theirs).toFixed(3)}x)`,
          met: ratio <= 0.1,
        },
        {
          what: "secondary: the library pipeline (one process) / migra's",
          target: "≤ 0.1x",
          value: `${libraryRatio.toFixed(3)}x (${library.median.toFixed(2)} s)`,
          met: libraryRatio <= 0.1,
          secondary: true,
        },
      ],
    };
  },
};
