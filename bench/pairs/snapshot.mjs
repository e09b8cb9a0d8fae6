// catalog-snapshot against pg_dump --schema-only and @pgkit/schemainspect, on the N-table schema.

import { statSync } from "node:fs";
import { join } from "node:path";
import { alternate, pairedRatio } from "../lib/measure.mjs";
import { contenderRows } from "../lib/report.mjs";

const RSS_TARGET_MIB = 300 / 1.048576; // 300 MB

export default {
  id: "snapshot",
  title: "catalog-snapshot vs pg_dump --schema-only vs schemainspect",
  issue: "3",
  async run(ctx) {
    const { n, runs: runsOption } = ctx.options;
    const runs = ctx.runs(5);
    // schemainspect takes many times longer: three rounds (fewer when --runs asks for fewer).
    const inspectRuns = Math.min(runs, runsOption ?? 3);
    const catalog = await ctx.catalog(n);
    const folder = ctx.folder("snapshot");
    const snapshotOut = ctx.snapshotFile(n, "before");
    const dumpOut = join(folder, "dump.sql");
    const inspectOut = join(folder, "schemainspect.json");
    const env = { ...ctx.env, PGDATABASE: catalog.database };
    const inspector = join(ctx.repoRoot, "bench", "helpers", "schemainspect.cjs");
    const floorScript = join(ctx.repoRoot, "bench", "helpers", "snapshot-floor.mjs");
    ctx.tools();
    const contenders = [
      {
        id: "catalog-snapshot",
        role: "ours",
        show: `node packages/catalog-snapshot/bin/catalog-snapshot.js --schema ${ctx.schema} --out FILE`,
        run: () =>
          ctx.measure(process.execPath, [ctx.cli("catalog-snapshot"), "--schema", ctx.schema, "--out", snapshotOut], { env }),
      },
      {
        id: "pg_dump",
        role: "baseline",
        show: `pg_dump --schema-only --schema ${ctx.schema} --file FILE`,
        run: () => ctx.measure(ctx.pgDump, ["--schema-only", "--schema", ctx.schema, "--file", dumpOut], { env }),
      },
      {
        id: "catalog queries alone",
        role: "floor",
        show: `node bench/helpers/snapshot-floor.mjs ${catalog.database} ${ctx.schema} (catalog-snapshot's connections and queries, every row decoded and dropped)`,
        run: () => ctx.measure(process.execPath, [floorScript, catalog.database, ctx.schema], { env }),
      },
      {
        id: "schemainspect",
        role: "info",
        runs: inspectRuns,
        warmUp: false,
        show: `node bench/helpers/schemainspect.cjs URL ${ctx.schema} FILE (get_inspector(client, schema), JSON of the inspection)`,
        run: () =>
          ctx.measure(process.execPath, [inspector, ctx.cluster.url({ database: catalog.database }), ctx.schema, inspectOut], {
            env,
          }),
      },
    ];
    const results = await alternate(contenders, runs, ctx.log);
    ctx.noteSnapshot(n, "before");
    const ours = results["catalog-snapshot"];
    const dump = results.pg_dump;
    ctx.shared.snapshotAtN = ours;
    const ratio = ours.median / dump.median;
    const bytes = (file) => statSync(file).size.toLocaleString("en");
    return {
      setup: [
        `Database \`${catalog.database}\`: schema \`${ctx.schema}\` with ${catalog.counts.tables.toLocaleString("en")} tables (8 columns, PK, FK to the previous table, UNIQUE, one more index each): ${catalog.counts.primaryKeys.toLocaleString("en")} PK, ${catalog.counts.foreignKeys.toLocaleString("en")} FK, ${catalog.counts.uniques.toLocaleString("en")} UNIQUE, ${catalog.counts.indexes.toLocaleString("en")} indexes; built in ${catalog.seconds.toFixed(1)} s.`,
        `${runs} rounds, alternating, after one warm-up of catalog-snapshot and pg_dump; schemainspect in the first ${inspectRuns} rounds, without a warm-up of its own (the others' warm-up has read the same catalog).`,
        `Output: catalog-snapshot ${bytes(snapshotOut)} bytes of JSON, pg_dump ${bytes(dumpOut)} bytes of SQL, schemainspect ${bytes(inspectOut)} bytes of JSON. All connect over TCP to the same server; the password comes from PGPASSWORD (schemainspect: in its URL).`,
      ],
      contenders: contenderRows(contenders, results, dump),
      targets: [
        {
          what: "catalog-snapshot median wall time / pg_dump's",
          target: "≤ 0.5x",
          value: `${ratio.toFixed(3)}x (${ours.median.toFixed(2)} s vs ${dump.median.toFixed(2)} s; per-round ratio ${pairedRatio(ours, dump).toFixed(3)}x)`,
          met: ratio <= 0.5,
        },
        {
          what: "catalog-snapshot peak RSS",
          target: "≤ 300 MB",
          value: ours.peakRssMiB === null ? "not measured (no GNU time)" : `${ours.peakRssMiB.toFixed(1)} MiB`,
          met: ours.peakRssMiB === null ? null : ours.peakRssMiB <= RSS_TARGET_MIB,
        },
      ],
    };
  },
};
