// Scaling: catalog-snapshot and drift-diff at a tenth of N, N and five times N tables (1,000,
// 10,000 and 50,000 by default): wall time and peak RSS, to show how cost grows.
import { statSync } from "node:fs";
import pg from "pg";
import { buildCatalog, changeInPlace } from "../lib/catalog.mjs";
import { alternate } from "../lib/measure.mjs";
import { ensureSnapshots } from "./drift-diff.mjs";

export default {
  id: "scaling",
  title: "Scaling: catalog-snapshot and drift-diff at growing N",
  issue: "11",
  async run(ctx) {
    const { n, scaling } = ctx.options;
    const rows = [];
    const failures = [];
    let reused = false;
    for (const tables of [...scaling].sort((a, b) => a - b)) {
      // Fewer runs at the largest size: one snapshot there takes many seconds, one diff more.
      const runs = ctx.runs(tables > n ? 2 : 3);
      const row = { tables };
      rows.push(row);
      try {
        if (tables === n) {
          // The N-table catalogs and files the other pairs use (and their figures, when they ran).
          reused = Boolean(ctx.shared.snapshotAtN || ctx.shared.driftDiffAtN);
          const catalog = await ctx.catalog(tables);
          row.buildSeconds = catalog.seconds;
          if (ctx.shared.snapshotAtN) {
            row.snapshot = ctx.shared.snapshotAtN;
          } else {
            row.snapshot = await measureSnapshot(ctx, catalog.database, ctx.snapshotFile(tables, "before"), runs);
            ctx.noteSnapshot(tables, "before");
          }
          row.snapshotBytes = statSync(ctx.snapshotFile(tables, "before")).size;
          const files = await ensureSnapshots(ctx, tables);
          row.drift = ctx.shared.driftDiffAtN ?? (await measureDiff(ctx, files, tables, runs));
        } else {
          // A database of its own, changed in place after the "before" snapshot, dropped at the end.
          const database = `scale_${tables}`;
          ctx.log(`  building ${database}: ${tables} tables ...`);
          const built = await buildCatalog(ctx.cluster, { database, tables, log: ctx.log });
          ctx.log(`  built ${database} in ${built.seconds.toFixed(1)} s`);
          row.buildSeconds = built.seconds;
          const files = {
            before: `${ctx.folder("scaling")}/before-${tables}.json`,
            after: `${ctx.folder("scaling")}/after-${tables}.json`,
          };
          // No warm-up here: the build has just read and written the whole catalog.
          row.snapshot = await measureSnapshot(ctx, database, files.before, runs, false);
          row.snapshotBytes = statSync(files.before).size;
          await changeInPlace(ctx.cluster, { database, tables });
          ctx.measure(process.execPath, [ctx.cli("catalog-snapshot"), "--schema", ctx.schema, "--out", files.after], {
            env: { ...ctx.env, PGDATABASE: database },
          });
          row.drift = await measureDiff(ctx, files, tables, runs, false);
          const admin = new pg.Client({ connectionString: ctx.cluster.url() });
          await admin.connect();
          await admin.query(`drop database ${database}`);
          await admin.end();
        }
      } catch (error) {
        row.error = error.message.split("\n")[0];
        failures.push(`${tables.toLocaleString("en")} tables: ${error.message}`);
        ctx.log(`  scaling at ${tables} tables failed: ${error.message}`);
      }
    }
    const seconds = (stats) => (stats ? `${stats.median.toFixed(2)} s (${stats.runs} run${stats.runs === 1 ? "" : "s"})` : "—");
    const rss = (stats) => (stats?.peakRssMiB == null ? "—" : `${stats.peakRssMiB.toFixed(1)} MiB`);
    const perThousand = (stats, tables) => (stats ? `${((stats.median / tables) * 1000 * 1000).toFixed(0)} ms` : "—");
    return {
      setup: [
        "The snapshot pair's generator (8 columns, PK, FK, UNIQUE and one more index per table), one database per size; catalog-snapshot `--schema bench --out FILE`, then 1% of the tables changed (as in the migra pair) and `drift-diff before.json after.json --format text`.",
        `Runs per size: 3 up to N, 2 above (--runs overrides). At N, after one warm-up; at the other sizes without one: the build has just read and written the whole catalog, and the after snapshot the diff reads was written right before it.${reused ? ` At ${n.toLocaleString("en")} tables the figures are those of the snapshot and drift-diff pairs of this run (same databases, same files).` : ""}`,
      ],
      tables: [
        {
          columns: [
            "tables",
            "catalog built in",
            "catalog-snapshot median",
            "per 1,000 tables",
            "peak RSS",
            "snapshot JSON",
            "drift-diff median",
            "per 1,000 tables",
            "peak RSS",
          ],
          rows: rows.map((row) => [
            row.tables.toLocaleString("en"),
            row.buildSeconds === undefined ? "—" : `${row.buildSeconds.toFixed(1)} s`,
            row.error && !row.snapshot ? `failed: ${row.error}` : seconds(row.snapshot),
            perThousand(row.snapshot, row.tables),
            rss(row.snapshot),
            row.snapshotBytes ? `${(row.snapshotBytes / 1e6).toFixed(1)} MB` : "—",
            row.error && row.snapshot ? `failed: ${row.error}` : seconds(row.drift),
            perThousand(row.drift, row.tables),
            rss(row.drift),
          ]),
        },
      ],
      failures,
      targets: [],
    };
  },
};

async function measureSnapshot(ctx, database, out, runs, warmUp = true) {
  const id = `catalog-snapshot ${database}`;
  const results = await alternate(
    [
      {
        id,
        warmUp,
        run: () =>
          ctx.measure(process.execPath, [ctx.cli("catalog-snapshot"), "--schema", ctx.schema, "--out", out], {
            env: { ...ctx.env, PGDATABASE: database },
          }),
      },
    ],
    runs,
    ctx.log,
  );
  return results[id];
}

async function measureDiff(ctx, files, tables, runs, warmUp = true) {
  const id = `drift-diff ${tables}`;
  const results = await alternate(
    [
      {
        id,
        warmUp,
        run: () =>
          ctx.measure(process.execPath, [ctx.cli("drift-diff"), files.before, files.after, "--format", "text"], { ok: [1] }),
      },
    ],
    runs,
    ctx.log,
  );
  return results[id];
}
