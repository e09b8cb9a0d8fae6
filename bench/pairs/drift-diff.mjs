// drift-diff alone on two N-table snapshots (1% of the tables changed): the CLI end to end, and
// the library's diff() on parsed snapshots as a secondary figure.

import { statSync } from "node:fs";
import { join } from "node:path";
import { alternate, median } from "../lib/measure.mjs";
import { contenderRows } from "../lib/report.mjs";

export default {
  id: "drift-diff",
  title: "drift-diff alone: two snapshots, 1% of the tables changed",
  issue: "4",
  async run(ctx) {
    const { n } = ctx.options;
    const runs = ctx.runs(7);
    const files = await ensureSnapshots(ctx, n);
    const contenders = [
      {
        id: "drift-diff",
        role: "ours",
        show: "node packages/drift-diff/bin/drift-diff.js before.json after.json --format text",
        run: () =>
          ctx.measure(process.execPath, [ctx.cli("drift-diff"), files.before, files.after, "--format", "text"], { ok: [1] }),
      },
    ];
    const results = await alternate(contenders, runs, ctx.log);
    ctx.shared.driftDiffAtN = results["drift-diff"];
    const helper = join(ctx.repoRoot, "bench", "helpers", "diff-in-process.mjs");
    const inProcess = JSON.parse(ctx.measure(process.execPath, [helper, files.before, files.after, "11"]).stdout);
    const diffMedian = median(inProcess.diffSeconds);
    const cli = results["drift-diff"];
    return {
      setup: [
        `The catalog-snapshot JSON of \`catalog_${n}\` and \`catalog_${n}_after\` (${statSync(files.before).size.toLocaleString("en")} and ${statSync(files.after).size.toLocaleString("en")} bytes); drift-diff reports ${inProcess.changes} changes.`,
        `${runs} runs after one warm-up; text output to a pipe (exit 1: the snapshots differ).`,
        `In process (\`bench/helpers/diff-in-process.mjs\`, one fresh node process): reading and validating both files as the CLI does (as a pair: the tables whose text is the same in both parsed and validated once) took ${inProcess.readSeconds.toFixed(2)} s; then \`diff()\` 11 times: median ${diffMedian.toFixed(3)} s (min ${Math.min(...inProcess.diffSeconds).toFixed(3)} s).`,
      ],
      contenders: contenderRows(contenders, results),
      targets: [
        {
          what: "`drift-diff` CLI end to end, median wall time",
          target: "< 1 s",
          value: `${cli.median.toFixed(2)} s`,
          met: cli.median < 1,
        },
        {
          what: "secondary: library `diff()` on parsed snapshots, median of 11",
          target: "< 1 s",
          value: `${diffMedian.toFixed(3)} s`,
          met: diffMedian < 1,
          secondary: true,
        },
      ],
    };
  },
};

/** The before/after snapshot files of the N-table catalogs, written by catalog-snapshot if no pair has yet. */
export async function ensureSnapshots(ctx, tables) {
  const before = await ctx.catalog(tables);
  const after = await ctx.changedCatalog(tables);
  const files = {};
  for (const [which, database] of [
    ["before", before.database],
    ["after", after.database],
  ]) {
    files[which] = ctx.snapshotFile(tables, which);
    if (!ctx.hasSnapshot(tables, which)) {
      const url = `postgres://${ctx.cluster.host}:${ctx.cluster.port}/${database}`;
      const sample = ctx.measure(process.execPath, [
        ctx.cli("catalog-snapshot"),
        "--url",
        url,
        "--schema",
        ctx.schema,
        "--out",
        files[which],
      ]);
      ctx.log(`  snapshot of ${database}: ${sample.seconds.toFixed(2)} s`);
      ctx.noteSnapshot(tables, which);
    }
  }
  return files;
}
