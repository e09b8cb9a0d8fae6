// backup-marker create against pg_dump -Fc followed by sha256sum, on a database whose custom-format
// dump is at least --backup-mb (default 200) MiB.

import { rmSync, statSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { alternate, combine, median, pairedRatio } from "../lib/measure.mjs";
import { contenderRows } from "../lib/report.mjs";

const DATABASE = "backup_data";

/** Rows of 256 pseudo-random bytes as base64 text: pg_dump's compression gains little on them. */
async function insertRows(client, from, to) {
  const digests = Array.from({ length: 8 }, (_, i) => `sha256(('${i}:' || g)::bytea)`).join(" || ");
  await client.query(`insert into blob select g, encode(${digests}, 'base64') from generate_series(${from}, ${to - 1}) g`);
}

export default {
  id: "backup-marker",
  title: "backup-marker create vs pg_dump -Fc + sha256sum",
  issue: "6",
  async run(ctx) {
    const runs = ctx.runs(3);
    const targetBytes = ctx.options.backupMb * 1024 * 1024;
    const folder = ctx.folder("backup-marker");
    const env = { ...ctx.env, PGDATABASE: DATABASE };
    const loadStarted = performance.now();
    const admin = new pg.Client({ connectionString: ctx.cluster.url() });
    await admin.connect();
    await admin.query(`create database ${DATABASE}`);
    await admin.end();
    const client = new pg.Client({ connectionString: ctx.cluster.url({ database: DATABASE }) });
    await client.connect();
    let rows;
    let tableBytes;
    try {
      await client.query("create table blob (id bigint primary key, payload text not null)");
      // Calibrate: dump a first slice, then load enough rows for the target archive size (+2%).
      const calibrationRows = 20_000;
      await insertRows(client, 1, calibrationRows + 1);
      const calibration = join(folder, "calibration.dump");
      ctx.measure(ctx.pgDump, ["-Fc", "-f", calibration], { env });
      const bytesPerRow = statSync(calibration).size / calibrationRows;
      rmSync(calibration);
      rows = Math.ceil((targetBytes * 1.02) / bytesPerRow);
      ctx.log(`  calibration: ${bytesPerRow.toFixed(1)} dump bytes per row; loading ${rows} rows`);
      const batch = 250_000;
      for (let from = calibrationRows + 1; from <= rows; from += batch) {
        await insertRows(client, from, Math.min(from + batch, rows + 1));
      }
      await client.query("vacuum analyze blob");
      tableBytes = Number((await client.query("select pg_total_relation_size('blob') as size")).rows[0].size);
    } finally {
      await client.end();
    }
    const loadSeconds = (performance.now() - loadStarted) / 1000;
    ctx.log(`  loaded ${(tableBytes / 2 ** 20).toFixed(1)} MiB in ${loadSeconds.toFixed(1)} s`);

    const baselineFile = join(folder, "baseline.dump");
    const outDir = join(folder, "ours");
    let archiveBytes = 0;
    let lastMarker;
    const contenders = [
      {
        id: "backup-marker create",
        role: "ours",
        // The baseline's warm-up has read the same table into the caches.
        warmUp: false,
        show: `node packages/backup-marker/bin/backup-marker.js create --out-dir DIR --pg-dump ${ctx.pgDump}`,
        run: () => {
          rmSync(outDir, { recursive: true, force: true });
          const sample = ctx.measure(
            process.execPath,
            [ctx.cli("backup-marker"), "create", "--out-dir", outDir, "--pg-dump", ctx.pgDump],
            {
              env,
            },
          );
          const marker = JSON.parse(sample.stdout);
          if (marker.status !== "complete") throw new Error(`backup-marker create: ${marker.failure?.message ?? marker.status}`);
          lastMarker = marker;
          return sample;
        },
      },
      {
        id: "pg_dump -Fc + sha256sum",
        role: "baseline",
        show: `${ctx.pgDump} -Fc -f FILE && sha256sum FILE`,
        run: () => {
          const dump = ctx.measure(ctx.pgDump, ["-Fc", "-f", baselineFile], { env });
          const hash = ctx.measure("sha256sum", [baselineFile], { env });
          archiveBytes = statSync(baselineFile).size;
          rmSync(baselineFile);
          return combine([dump, hash]);
        },
      },
    ];
    const results = await alternate(contenders, runs, ctx.log);
    rmSync(outDir, { recursive: true, force: true });
    const ours = results["backup-marker create"];
    const theirs = results["pg_dump -Fc + sha256sum"];
    const ratio = ours.median / theirs.median;
    const part = (i) => median(theirs.samples.map((sample) => sample.parts[i].seconds));
    const bigEnough = archiveBytes >= 200 * 1e6;
    return {
      setup: [
        `Database \`${DATABASE}\`: one table of base64 text made from sha256 digests (barely compressible), ${rows.toLocaleString("en")} rows, ${(tableBytes / 2 ** 20).toFixed(1)} MiB on disk, loaded in ${loadSeconds.toFixed(1)} s; the custom-format archive is ${(archiveBytes / 2 ** 20).toFixed(1)} MiB (${archiveBytes.toLocaleString("en")} bytes; backup-marker's: ${lastMarker.size.toLocaleString("en")} bytes).`,
        `${runs} rounds, alternating, after one untimed warm-up dump (pg_dump -Fc + sha256sum). Both use the same pg_dump binary (${ctx.pgDump}); the baseline's time is pg_dump's plus sha256sum's (medians ${part(0).toFixed(2)} s + ${part(1).toFixed(2)} s), its peak RSS the larger of the two. backup-marker's peak RSS is the larger of node and the pg_dump it runs.`,
      ],
      contenders: contenderRows(contenders, results, theirs),
      targets: [
        {
          what: `backup-marker create median wall time / (pg_dump -Fc + sha256sum)'s, archive ≥ 200 MB`,
          target: "≤ 1.1x",
          value: `${ratio.toFixed(3)}x (${ours.median.toFixed(2)} s vs ${theirs.median.toFixed(2)} s; per-round ratio ${pairedRatio(ours, theirs).toFixed(3)}x)${bigEnough ? "" : `; archive only ${(archiveBytes / 1e6).toFixed(0)} MB`}`,
          met: ratio <= 1.1 && bigEnough,
        },
      ],
    };
  },
};
