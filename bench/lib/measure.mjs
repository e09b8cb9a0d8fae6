// Timing and peak RSS of one child process, and the alternating runner every pair uses.
//
// Wall time: process.hrtime around a synchronous spawn (nothing else runs in the harness meanwhile).
// Peak RSS and CPU: GNU time (`/usr/bin/time -f ... -o FILE`), which reads the child's rusage from
// wait4: ru_maxrss is the largest resident set of the process and of every descendant it waited
// for, so a node CLI that runs pg_dump reports the larger of the two. Without GNU time the RSS and
// CPU columns are left empty (the README says how to install it).
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";

export const GNU_TIME = existsSync("/usr/bin/time") ? "/usr/bin/time" : null;

/**
 * Runs `command args` to completion. Returns wall seconds, peak RSS in MiB, CPU seconds
 * (user + system), the exit status and stdout (a string, unless `stdout` names a file descriptor).
 * Throws when the exit status is not in `ok`.
 */
export function measure(command, args, { env, cwd, ok = [0], stdout = "pipe", timeFile } = {}) {
  const argv = GNU_TIME ? [GNU_TIME, "-f", "%M %U %S", "-o", timeFile, command, ...args] : [command, ...args];
  const started = process.hrtime.bigint();
  const result = spawnSync(argv[0], argv.slice(1), {
    env,
    cwd,
    stdio: ["ignore", stdout, "pipe"],
    encoding: "utf8",
    maxBuffer: 1 << 30,
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (result.error) throw new Error(`${command}: ${result.error.message}`);
  if (!ok.includes(result.status)) {
    const tail = (result.stderr ?? "").trim().split("\n").slice(-15).join("\n");
    throw new Error(`${shortCommand(command, args)} exited ${result.status ?? result.signal}:\n${tail}`);
  }
  let rssMiB = null;
  let cpuSeconds = null;
  if (GNU_TIME) {
    // GNU time writes "Command exited with non-zero status N" before the format line then.
    const fields = readFileSync(timeFile, "utf8").trim().split("\n").at(-1).split(" ").map(Number);
    rssMiB = fields[0] / 1024;
    cpuSeconds = fields[1] + fields[2];
    rmSync(timeFile, { force: true });
  }
  return { seconds, rssMiB, cpuSeconds, status: result.status, stdout: result.stdout ?? "", stderr: result.stderr ?? "" };
}

function shortCommand(command, args) {
  return [command, ...args].map((part) => (part.length > 80 ? `${part.slice(0, 77)}...` : part)).join(" ");
}

export function median(values) {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

export const maxOf = (values) => (values.some((value) => value === null) ? null : Math.max(...values));

/**
 * Runs each contender `runs` times (a contender may ask for fewer with its own `runs`), after an
 * untimed warm-up of each (unless it sets `warmUp: false`), in rounds that alternate the order
 * (forward on odd rounds, reversed on even ones) so that background load hits all alike.
 *
 * A contender: { id, runs?, warmUp?, run: async ({ round, warmUp }) => sample }, where a sample is
 * at least { seconds, rssMiB, cpuSeconds } (a contender made of several processes sums seconds
 * and CPU and takes the largest RSS). Returns { [id]: { samples, median, min, max, peakRssMiB } }.
 */
export async function alternate(contenders, runs, log) {
  for (const contender of contenders) {
    if (contender.warmUp === false) continue;
    const sample = await contender.run({ round: 0, warmUp: true });
    log(`  warm-up ${contender.id}: ${sample.seconds.toFixed(3)} s`);
  }
  const samples = Object.fromEntries(contenders.map((contender) => [contender.id, []]));
  for (let round = 1; round <= runs; round += 1) {
    const order = round % 2 ? contenders : [...contenders].reverse();
    for (const contender of order) {
      if (round > (contender.runs ?? runs)) continue;
      const { stdout, stderr, ...sample } = await contender.run({ round, warmUp: false });
      samples[contender.id].push(sample);
      const rss = sample.rssMiB === null ? "" : `, peak RSS ${sample.rssMiB.toFixed(1)} MiB`;
      log(`  round ${round} ${contender.id}: ${sample.seconds.toFixed(3)} s${rss}`);
    }
  }
  return Object.fromEntries(Object.entries(samples).map(([id, list]) => [id, summarize(list)]));
}

/** Median, min, max wall seconds, the largest RSS and the median CPU of a list of samples. */
export function summarize(list) {
  return {
    samples: list,
    runs: list.length,
    median: median(list.map((sample) => sample.seconds)),
    min: Math.min(...list.map((sample) => sample.seconds)),
    max: Math.max(...list.map((sample) => sample.seconds)),
    peakRssMiB: maxOf(list.map((sample) => sample.rssMiB)),
    medianCpuSeconds: list.some((sample) => sample.cpuSeconds === null) ? null : median(list.map((sample) => sample.cpuSeconds)),
  };
}

/** The median of per-round ratios ours/theirs (rounds where both ran): steadier under swinging load. */
export function pairedRatio(ours, theirs) {
  const count = Math.min(ours.samples.length, theirs.samples.length);
  const ratios = [];
  for (let i = 0; i < count; i += 1) ratios.push(ours.samples[i].seconds / theirs.samples[i].seconds);
  return median(ratios);
}

/** A sample made of several processes run one after the other. */
export function combine(parts) {
  return {
    seconds: parts.reduce((sum, part) => sum + part.seconds, 0),
    rssMiB: maxOf(parts.map((part) => part.rssMiB)),
    cpuSeconds: parts.some((part) => part.cpuSeconds === null) ? null : parts.reduce((sum, part) => sum + part.cpuSeconds, 0),
    parts: parts.map((part) => ({ seconds: part.seconds, rssMiB: part.rssMiB, cpuSeconds: part.cpuSeconds })),
  };
}

export const timeFileIn = (folder) => join(folder, "time.txt");
