// Start-up: each CLI's `--help`, wall time from spawn to exit, with bare `node -e 0` as the floor.
import { alternate } from "../lib/measure.mjs";

export const CLIS = ["catalog-snapshot", "drift-diff", "sql-lint", "backup-marker", "tx-apply", "report-render", "dieu44"];
const TARGET_SECONDS = 0.15;

export default {
  id: "startup",
  title: "Start-up: each CLI's `--help`",
  issue: "11",
  async run(ctx) {
    const runs = ctx.runs(20);
    const contenders = [
      { id: "node -e 0", command: [process.execPath, ["-e", "0"]], show: "node -e 0" },
      ...CLIS.map((tool) => ({
        id: tool,
        command: [process.execPath, [ctx.cli(tool), "--help"]],
        show: `node ${ctx.cli(tool).slice(ctx.repoRoot.length + 1)} --help`,
      })),
    ].map((contender) => ({
      ...contender,
      run: () => ctx.measure(contender.command[0], contender.command[1]),
    }));
    const results = await alternate(contenders, runs, ctx.log);
    const floor = results["node -e 0"];
    return {
      setup: [
        `${runs} rounds; each round runs \`node -e 0\` and the seven CLIs' \`--help\` once, in alternating order, after one untimed warm-up of each.`,
        "Wall time from spawn to exit (stdout piped to the harness); peak RSS from GNU time.",
      ],
      contenders: contenders.map((contender) => ({
        label: contender.id,
        command: contender.show,
        role: contender.id === "node -e 0" ? "floor" : "ours",
        stats: results[contender.id],
        extra: `+${Math.round((results[contender.id].median - floor.median) * 1000)} ms over node`,
      })),
      targets: CLIS.map((tool) => ({
        what: `\`${tool} --help\` median wall time`,
        target: "< 150 ms",
        value: `${Math.round(results[tool].median * 1000)} ms`,
        met: results[tool].median < TARGET_SECONDS,
      })),
    };
  },
};
