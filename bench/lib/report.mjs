// Writes bench/RESULTS.md from a run's results. Every figure comes from the run; the only
// hand-written text is bench/notes/<pair>.md, included under a pair whose target was missed.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

export const formatSeconds = (seconds) =>
  seconds === null || seconds === undefined || Number.isNaN(seconds)
    ? "—"
    : seconds < 1
      ? `${Math.round(seconds * 1000)} ms`
      : `${seconds.toFixed(seconds < 10 ? 3 : 2)} s`;
const formatMiB = (mib) => (mib === null || mib === undefined ? "—" : `${mib.toFixed(1)} MiB`);
const verdict = (met) => (met === null || met === undefined ? "not measured" : met ? "met" : "**missed**");
const cell = (text) => String(text).replaceAll("|", "\\|").replaceAll("\n", " ");

function table(columns, rows) {
  return [
    `| ${columns.map(cell).join(" | ")} |`,
    `| ${columns.map(() => "---").join(" | ")} |`,
    ...rows.map((row) => `| ${row.map(cell).join(" | ")} |`),
  ];
}

export function renderReport({ run, pairs, notesDir }) {
  const lines = [];
  lines.push("# Benchmark results", "");
  lines.push(
    `Written by \`npm run bench\` (\`bench/run.mjs\`) on ${run.finishedAt}. Do not edit by hand: every figure below`,
    'comes from that run; the only hand-written text is each missed target\'s "why / what would close it",',
    "taken from `bench/notes/<pair>.md`. How to run and what each pair measures: `bench/README.md`.",
    "",
  );
  if (run.renderedAgain) {
    lines.push(
      `Rendered again on ${run.renderedAgain} from that run's \`results.json\` (\`--render\`): same figures, notes as of that date.`,
      "",
    );
  }
  lines.push(
    `Total wall time of the run: **${formatSeconds(run.totalSeconds)}** (${(run.totalSeconds / 60).toFixed(1)} min).`,
    "",
  );

  lines.push("## Summary", "");
  const summaryRows = [];
  for (const pair of pairs) {
    if (pair.error) {
      summaryRows.push([pair.title, "—", "—", `could not be measured: ${pair.error.split("\n")[0]}`, "not measured"]);
      continue;
    }
    for (const target of pair.targets) {
      summaryRows.push([
        target.secondary ? `${pair.title} (secondary)` : pair.title,
        target.what,
        target.target,
        target.value,
        target.secondary ? (target.met ? "met" : "missed") : verdict(target.met),
      ]);
    }
    if (pair.targets.length === 0) summaryRows.push([pair.title, "figures only (no target)", "—", "see the section", "—"]);
  }
  lines.push(...table(["pair", "measurement", "target", "result", "target met"], summaryRows), "");
  lines.push("Secondary figures are shown for context; the verdict of a pair is its primary line.", "");

  lines.push("## Machine and versions", "");
  const m = run.machine;
  lines.push(
    `- Date: ${run.startedAt} to ${run.finishedAt}`,
    `- CPUs: ${m.cpus} × ${m.cpuModel}; memory ${m.memoryGiB.toFixed(1)} GiB; ${m.os}`,
    `- Load average (1, 5, 15 min): before the run ${m.loadBefore.join(", ")}; after ${m.loadAfter.join(", ")}. The machine may be shared; each pair below gives the load it saw.`,
    ...(m.pageTouchUs === undefined
      ? []
      : [
          `- First touch of memory: ${m.pageTouchUs.toFixed(2)} µs per 4 KiB page (256 MiB written twice, the first pass minus the second). Virtual machines differ widely here; the node tools' figures, which touch tens to hundreds of MiB, move with it.`,
        ]),
    `- Node ${run.versions.node}; PostgreSQL server ${run.versions.server} (${run.versions.serverSource} binaries, a throwaway cluster from \`startCluster\`; settings: ${run.versions.serverSettings})`,
    `- pg_dump: ${run.versions.pgDump}; psql: ${run.versions.psql}`,
    `- squawk: ${run.versions.squawk}; @pgkit/migra: ${run.versions.migra}; @pgkit/schemainspect: ${run.versions.schemainspect}`,
    `- Commit ${run.commit}${run.dirty ? ` (working tree differs in: ${run.dirty})` : " (clean working tree)"}`,
    `- Options: ${run.optionsText}`,
    "",
  );

  for (const pair of pairs) {
    lines.push(`## ${pair.title}`, "");
    lines.push(
      `Issue ${pair.issue}; \`npm run bench -- --only=${pair.id}\`. Load average (1 min) ${pair.loadBefore} before, ${pair.loadAfter} after; the pair took ${formatSeconds(pair.seconds)}.`,
      "",
    );
    if (pair.error) {
      lines.push(`**Could not be measured:**`, "", "```", pair.error, "```", "");
    } else {
      for (const line of pair.setup ?? []) lines.push(`- ${line}`);
      if (pair.setup?.length) lines.push("");
      if (pair.contenders?.length) {
        const hasRatio = pair.contenders.some((contender) => contender.ratio !== undefined);
        const hasExtra = pair.contenders.some((contender) => contender.extra !== undefined);
        lines.push(
          ...table(
            [
              "contender",
              "role",
              "median wall",
              "min – max",
              "runs",
              "median CPU",
              "peak RSS",
              ...(hasRatio ? ["ratio to baseline"] : []),
              ...(hasExtra ? ["note"] : []),
            ],
            pair.contenders.map((contender) => [
              contender.label,
              contender.role,
              `**${formatSeconds(contender.stats.median)}**`,
              `${formatSeconds(contender.stats.min)} – ${formatSeconds(contender.stats.max)}`,
              contender.stats.runs,
              formatSeconds(contender.stats.medianCpuSeconds),
              formatMiB(contender.stats.peakRssMiB),
              ...(hasRatio ? [contender.ratio === undefined ? "" : `${contender.ratio.toFixed(3)}x`] : []),
              ...(hasExtra ? [contender.extra ?? ""] : []),
            ]),
          ),
          "",
          "Every run (s):",
          "",
          ...pair.contenders.map(
            (contender) =>
              `- ${contender.label}: ${contender.stats.samples.map((sample) => sample.seconds.toFixed(3)).join(", ")}`,
          ),
          "",
          "Commands:",
          "",
          ...pair.contenders.map((contender) => `- ${contender.label}: \`${contender.command}\``),
          "",
        );
      }
      for (const extra of pair.tables ?? []) lines.push(...table(extra.columns, extra.rows), "");
      if (pair.failures?.length) lines.push("Failures:", "", ...pair.failures.map((failure) => `- ${failure}`), "");
      if (pair.targets.length) {
        lines.push(
          ...table(
            ["measurement", "target", "result", "target met"],
            pair.targets.map((target) => [target.what, target.target, target.value, verdict(target.met)]),
          ),
          "",
        );
      }
    }
    const missed = pair.error || pair.targets.some((target) => !target.secondary && target.met === false);
    if (missed) {
      lines.push("### Why, and what would close it", "");
      const notesFile = join(notesDir, `${pair.id}.md`);
      lines.push(
        existsSync(notesFile)
          ? readFileSync(notesFile, "utf8").trim()
          : `(No notes yet: write them in \`bench/notes/${pair.id}.md\`; the next run includes them.)`,
        "",
      );
    }
  }
  return `${lines.join("\n").trimEnd()}\n`;
}

/**
 * A pair's contenders as report rows, each with its ratio to the baseline's median when a
 * baseline is given.
 */
export function contenderRows(contenders, results, baseline) {
  return contenders.map((contender) => ({
    label: contender.id,
    command: contender.show,
    role: contender.role,
    stats: results[contender.id],
    ...(baseline ? { ratio: results[contender.id].median / baseline.median } : {}),
  }));
}
