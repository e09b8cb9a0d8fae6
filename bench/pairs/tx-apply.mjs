// tx-apply against psql -1 -v ON_ERROR_STOP=1 -f on the same 1,000-statement artifact; every run
// on a fresh database, checked afterwards (all tables committed).

import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { applyArtifact } from "../lib/artifacts.mjs";
import { alternate, median, pairedRatio } from "../lib/measure.mjs";
import { contenderRows } from "../lib/report.mjs";

const STATEMENTS = 1000;
const ROLE = "bench_applier";
const ROLE_PASSWORD = "bench-applier-secret";

export default {
  id: "tx-apply",
  title: "tx-apply vs psql -1: a 1,000-statement artifact",
  issue: "7",
  async run(ctx) {
    const runs = ctx.runs(7);
    const folder = ctx.folder("tx-apply");
    const sql = applyArtifact(STATEMENTS);
    const file = join(folder, "artifact.sql");
    writeFileSync(file, sql);
    const sha256 = createHash("sha256").update(sql).digest("hex");
    const admin = new pg.Client({ connectionString: ctx.cluster.url() });
    await admin.connect();
    try {
      await admin.query(`CREATE ROLE ${ROLE} LOGIN PASSWORD '${ROLE_PASSWORD}'`);
      const systemIdentifier = (await admin.query("SELECT system_identifier::text AS id FROM pg_control_system()")).rows[0].id;
      let databaseNumber = 0;
      const freshDatabase = async () => {
        const name = `apply_${++databaseNumber}`;
        await admin.query(`CREATE DATABASE ${name}`);
        const client = new pg.Client({ connectionString: ctx.cluster.url({ database: name }) });
        await client.connect();
        await client.query(`CREATE SCHEMA bench AUTHORIZATION ${ROLE}`);
        await client.end();
        return name;
      };
      const committedTables = async (name) => {
        const client = new pg.Client({ connectionString: ctx.cluster.url({ database: name }) });
        await client.connect();
        const { rows } = await client.query("SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'bench'");
        await client.end();
        return rows[0].n;
      };
      const env = { PATH: ctx.env.PATH, HOME: ctx.env.HOME, LANG: ctx.env.LANG, PGPASSWORD: ROLE_PASSWORD };
      const phases = [];
      const runOn = async (tool, argsFor, record) => {
        const database = await freshDatabase();
        const [command, args] = argsFor(database);
        const sample = ctx.measure(command, args, { env });
        const tables = await committedTables(database);
        if (tables !== STATEMENTS / 4) throw new Error(`${tool}: ${tables} tables after the run, expected ${STATEMENTS / 4}`);
        if (tool === "tx-apply") {
          const log = JSON.parse(sample.stdout);
          if (log.outcome !== "committed") throw new Error(`tx-apply outcome ${log.outcome}`);
          if (record) phases.push(log.timings);
        }
        await admin.query(`DROP DATABASE ${database}`);
        return sample;
      };
      const contenders = [
        {
          id: "tx-apply",
          role: "ours",
          show: `node packages/tx-apply/bin/tx-apply.js artifact.sql --role ${ROLE} --expect-system-identifier ID --sha256 HEX --url postgres://${ROLE}@HOST:PORT/DB`,
          run: ({ warmUp }) =>
            runOn(
              "tx-apply",
              (database) => [
                process.execPath,
                [
                  ctx.cli("tx-apply"),
                  file,
                  "--role",
                  ROLE,
                  "--expect-system-identifier",
                  systemIdentifier,
                  "--sha256",
                  sha256,
                  "--url",
                  `postgres://${ROLE}@${ctx.cluster.host}:${ctx.cluster.port}/${database}`,
                ],
              ],
              !warmUp,
            ),
        },
        {
          id: "psql",
          role: "baseline",
          show: `psql -X -q -h HOST -p PORT -U ${ROLE} -d DB -v ON_ERROR_STOP=1 -1 -f artifact.sql`,
          run: ({ warmUp }) =>
            runOn(
              "psql",
              (database) => [
                ctx.psql,
                [
                  "-X",
                  "-q",
                  "-h",
                  ctx.cluster.host,
                  "-p",
                  String(ctx.cluster.port),
                  "-U",
                  ROLE,
                  "-d",
                  database,
                  "-v",
                  "ON_ERROR_STOP=1",
                  "-1",
                  "-f",
                  file,
                ],
              ],
              !warmUp,
            ),
        },
      ];
      const results = await alternate(contenders, runs, ctx.log);
      const ours = results["tx-apply"];
      const theirs = results.psql;
      const ratio = ours.median / theirs.median;
      const phase = (key) => median(phases.map((timing) => timing[key]));
      return {
        setup: [
          `Artifact: ${Buffer.byteLength(sql).toLocaleString("en")} bytes; \`\\set ON_ERROR_STOP on\`, BEGIN, ${STATEMENTS.toLocaleString("en")} statements (per table: CREATE TABLE with PK and UNIQUE, ALTER TABLE ADD CONSTRAINT FOREIGN KEY to the previous table, CREATE INDEX, COMMENT ON TABLE), COMMIT.`,
          `Each run gets a fresh database (schema \`bench\` owned by the login role \`${ROLE}\`) and is checked afterwards: ${STATEMENTS / 4} tables committed, tx-apply's log says \`committed\`. Both get the password from PGPASSWORD. tx-apply runs with all its default guards (sha256, parse and shape check, role, system identifier, advisory lock, timeouts) and prints its JSON log to a pipe.`,
          `${runs} rounds, alternating, after one warm-up of each.`,
          `tx-apply's own log, medians: connect ${phase("connectMs").toFixed(1)} ms, guards ${phase("guardsMs").toFixed(1)} ms, statements ${phase("statementsMs").toFixed(1)} ms, COMMIT ${phase("commitMs").toFixed(1)} ms, inside \`apply()\` ${phase("totalMs").toFixed(1)} ms; the rest of its wall time is node start-up, module loading and writing the log.`,
        ],
        contenders: contenderRows(contenders, results, theirs),
        targets: [
          {
            what: "tx-apply median wall time / psql's",
            target: "≤ 1.2x",
            value: `${ratio.toFixed(3)}x (${ours.median.toFixed(3)} s vs ${theirs.median.toFixed(3)} s; per-round ratio ${pairedRatio(ours, theirs).toFixed(3)}x)`,
            met: ratio <= 1.2,
          },
        ],
      };
    } finally {
      await admin.end();
    }
  },
};
