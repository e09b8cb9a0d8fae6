/**
 * Mutated SQL artifacts into sql-lint (issue 10): at least 1,000 seeded mutations of the ws-q5
 * artifact and a few other scripts (byte flips, truncation, duplicated and deleted lines, quotes,
 * dollar quotes, comments, backslash commands, NUL bytes, invalid UTF-8, very long identifiers).
 * The library runs each in a worker thread with a watchdog (a hang is terminated and counted);
 * a sample goes through the real CLI. Never a crash (an error that is not a tool error, an exit
 * other than 0, 1 or 2, a stack trace) and never a hang.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { cleanEnv, FIXTURE_DIR, REPO_ROOT, runNodeCli } from "@dieu44/test-harness";
import { afterAll, describe, expect, it } from "vitest";
import { type Mutation, mutateSql, Random, SQL_FAMILIES, seedOf } from "./inputs-mutations.js";
import { type Figure, recordCase } from "./record.js";

const MUTATIONS = Number(process.env.DIEU44_RELIABILITY_SQL_MUTATIONS ?? 1_040);
const CLI_SAMPLE = Number(process.env.DIEU44_RELIABILITY_SQL_CLI_SAMPLE ?? 20);
/** A lint that takes longer than this is a hang: the worker is terminated. */
const HANG_MS = 5_000;
const SQL_LINT_BIN = join(REPO_ROOT, "packages/sql-lint/bin/sql-lint.js");

/** A script with what the ws-q5 artifact lacks: dollar quotes, functions, DO, COPY, E'' strings, meta-commands. */
const SYNTHETIC = `\\set ON_ERROR_STOP on
-- a synthetic artifact: everything the policy forbids, for the mutations to cut through
BEGIN;
CREATE SCHEMA IF NOT EXISTS "odd ""schema""";
CREATE TABLE "odd ""schema"".t ("col $$" text DEFAULT E'a\\'b\\\\', "naïve" int CHECK ("naïve" > 0));
CREATE FUNCTION public.f() RETURNS text LANGUAGE plpgsql AS $fn$
BEGIN
  RETURN $$quoted; COMMIT; $$ || 'x';
END;
$fn$;
DO $$ BEGIN PERFORM 1; END $$;
COPY public.t FROM stdin;
1\tone
\\.
INSERT INTO public.t VALUES (U&'\\0041', $tag$ -- not a comment $tag$);
/* nested /* comment */ still comment */
GRANT ALL ON SCHEMA public TO PUBLIC;
\\if :flag
SELECT 1;
\\endif
COMMIT;
`;

/** What the library worker reports for one artifact. */
interface LintOutcome {
  status: "report" | "tool-error" | "crash";
  pass?: boolean;
  parsed?: boolean;
  exitCode?: number;
  message?: string;
  ms: number;
}

/**
 * A worker that lints artifacts one at a time: the library in process, but on a thread the
 * watchdog can terminate when one lint hangs.
 */
class LintWorker {
  private worker: Worker;

  constructor() {
    const lintUrl = new URL("../../packages/sql-lint/dist/index.js", import.meta.url).href;
    const exitUrl = new URL("../../packages/plumbing/dist/exit.js", import.meta.url).href;
    this.worker = new Worker(
      `const { parentPort } = require("node:worker_threads");
       const loaded = Promise.all([import(${JSON.stringify(lintUrl)}), import(${JSON.stringify(exitUrl)})]);
       parentPort.on("message", async ({ bytes, policy, path }) => {
         const [{ lint }, { ToolError }] = await loaded;
         const started = performance.now();
         try {
           const report = await lint(new Uint8Array(bytes), policy, { path });
           parentPort.postMessage({ status: "report", pass: report.pass, parsed: report.facts.parsed, ms: performance.now() - started });
         } catch (error) {
           const tool = error instanceof ToolError;
           parentPort.postMessage({
             status: tool ? "tool-error" : "crash",
             exitCode: tool ? error.exitCode : undefined,
             message: String(error && error.stack ? (tool ? error.message : error.stack) : error).slice(0, 400),
             ms: performance.now() - started,
           });
         }
       });`,
      { eval: true },
    );
  }

  /** Lints one artifact; resolves "hang" (and the worker is gone) when it takes longer than HANG_MS. */
  lint(bytes: Buffer, policy: unknown, path: string): Promise<LintOutcome | "hang"> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.worker.removeAllListeners("message");
        void this.worker.terminate();
        resolve("hang");
      }, HANG_MS);
      this.worker.once("message", (outcome: LintOutcome) => {
        clearTimeout(timer);
        resolve(outcome);
      });
      this.worker.once("error", (error) => {
        clearTimeout(timer);
        reject(error);
      });
      this.worker.postMessage({ bytes, policy, path });
    });
  }

  terminate(): Promise<number> {
    return this.worker.terminate();
  }
}

describe("mutated SQL artifacts into sql-lint", () => {
  const sources: { name: string; bytes: Buffer }[] = [
    { name: "ws-q5-registry-substrate-ddl.sql", bytes: readFileSync(join(FIXTURE_DIR, "ws-q5-registry-substrate-ddl.sql")) },
    {
      name: "ws-q5-registry-substrate-rollback.sql",
      bytes: readFileSync(join(FIXTURE_DIR, "ws-q5-registry-substrate-rollback.sql")),
    },
    { name: "bootstrap.sql", bytes: readFileSync(join(FIXTURE_DIR, "bootstrap.sql")) },
    { name: "synthetic.sql", bytes: Buffer.from(SYNTHETIC, "utf8") },
  ];
  const policies: unknown[] = [
    { kind: "sql-lint-policy", formatVersion: 1 },
    JSON.parse(readFileSync(join(FIXTURE_DIR, "sql-lint-policy.json"), "utf8")),
  ];
  /** The `index`-th mutation: its source (the ws-q5 artifact half the time) and its own random stream. */
  const mutationOf = (index: number): { source: string; mutation: Mutation } => {
    const source = index % 2 === 0 ? sources[0]! : sources[1 + ((index >> 1) % 3)]!;
    return { source: source.name, mutation: mutateSql(source.bytes, index, new Random(seedOf(`sql#${index}`))) };
  };
  const startedAt = Date.now();
  const outcomes = { reports: 0, passed: 0, unparsed: 0, refused: 0 };
  /** Per family: artifacts, and how many still parsed (a mutation need not break the script). */
  const families = new Map<string, { runs: number; parsed: number }>();
  const problems: string[] = [];
  let crashes = 0;
  let hangs = 0;
  let wrongRefusals = 0;
  /** Artifacts with a NUL byte that the lint still reported as parsed (what follows the NUL unseen). */
  const nulHidden: string[] = [];
  const times: number[] = [];
  const cli = { runs: 0, crashes: 0, stackTraces: 0, slow: 0, maxMs: 0, exits: new Map<number | null, number>() };
  let libraryDone = false;
  let cliDone = false;

  afterAll(() => {
    const sorted = [...times].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)] ?? 0;
    const max = sorted[sorted.length - 1] ?? 0;
    const zero = (label: string, value: number): Figure => ({ label, value, required: "0", ok: value === 0 });
    const figures: Figure[] = [
      {
        label: "mutated artifacts linted (library)",
        value: times.length + hangs,
        required: "≥ 1,000",
        ok: libraryDone && times.length + hangs >= 1_000,
      },
      zero("crashes (an error that is not a tool error)", crashes),
      zero(`hangs (a lint over ${HANG_MS / 1000} s)`, hangs),
      zero("refusals with an exit code other than 2", wrongRefusals),
      zero("artifacts with a NUL byte reported as parsed (the rest unseen)", nulHidden.length),
      {
        label: "reports (passed / parse failed)",
        value: `${outcomes.reports} (${outcomes.passed} / ${outcomes.unparsed})`,
        ok: true,
      },
      { label: "refused as bad input", value: outcomes.refused, ok: true },
      { label: "median lint time (ms)", value: Math.round(median * 10) / 10, ok: true },
      {
        label: "max lint time per artifact (ms)",
        value: Math.round(max),
        required: `< ${HANG_MS}`,
        ok: libraryDone && max < HANG_MS,
      },
      { label: "CLI runs", value: cli.runs, ok: cliDone },
      zero("CLI: crashes (signal or exit other than 0, 1, 2)", cli.crashes),
      zero("CLI: stack traces on stderr", cli.stackTraces),
      zero(`CLI: runs over ${HANG_MS / 1000} s`, cli.slow),
    ];
    recordCase({
      id: "inputs-sql",
      title: "Mutated SQL artifacts into sql-lint",
      runs: times.length + hangs + cli.runs,
      figures,
      findings: [
        `Sources: ${sources.map((source) => source.name).join(", ")} (the ws-q5 artifact for half the mutations); families in turn: ${SQL_FAMILIES.join(", ")}; policies: the built-in one and the fixture's, alternately.`,
        `Still parsed after the mutation, per family: ${[...families.entries()].map(([name, f]) => `${name} ${f.parsed}/${f.runs}`).join(", ")}.`,
        `CLI exit codes: ${[...cli.exits.entries()].map(([code, count]) => `${code}: ${count}`).join(", ") || "none"}; slowest CLI run ${Math.round(cli.maxMs)} ms.`,
        ...problems.slice(0, 10),
        ...(nulHidden.length > 0
          ? [
              `A NUL byte hid the rest of the script from the lint again (the parser reads a C string): ${nulHidden.length} mutated artifacts, e.g. ${nulHidden.slice(0, 3).join(", ")}.`,
            ]
          : []),
        "Found by this case and fixed in sql-lint (fca333a): a NUL byte ended the script for the parser, so the statements after it went unseen while the lint reported the script as parsed.",
        `Wall time of the case: ${((Date.now() - startedAt) / 1000).toFixed(1)} s.`,
      ],
    });
  });

  it("the library never crashes or hangs on 1,000+ mutated artifacts", async () => {
    let worker = new LintWorker();
    try {
      for (let index = 0; index < MUTATIONS; index++) {
        const { source, mutation } = mutationOf(index);
        const label = `${source} ${mutation.id}`;
        const outcome = await worker.lint(mutation.bytes, policies[index % policies.length], `/artifacts/${source}`);
        if (outcome === "hang") {
          hangs++;
          problems.push(`hang: ${label}`);
          worker = new LintWorker();
          continue;
        }
        times.push(outcome.ms);
        if (outcome.status === "crash") {
          crashes++;
          problems.push(`crash: ${label}: ${outcome.message}`);
        } else if (outcome.status === "tool-error") {
          outcomes.refused++;
          if (outcome.exitCode !== 2) {
            wrongRefusals++;
            problems.push(`refused with exit ${outcome.exitCode}: ${label}: ${outcome.message}`);
          }
        } else {
          outcomes.reports++;
          if (outcome.pass) outcomes.passed++;
          if (!outcome.parsed) outcomes.unparsed++;
          if (outcome.parsed && mutation.bytes.includes(0)) nulHidden.push(label);
          const family = families.get(mutation.family) ?? { runs: 0, parsed: 0 };
          family.runs++;
          if (outcome.parsed) family.parsed++;
          families.set(mutation.family, family);
        }
      }
    } finally {
      await worker.terminate();
    }
    libraryDone = true;
    expect(problems).toEqual([]);
    expect(nulHidden).toEqual([]);
    expect(times.length).toBeGreaterThanOrEqual(Math.min(1_000, MUTATIONS));
  }, 300_000);

  // Regression: libpg-query reads the script as a C string, so a NUL byte ended it there and the
  // lint reported parsed: true with only the statements before it; a forbidden statement after
  // the NUL went unseen. Found by this suite; sql-lint now reports a NUL as a syntax error (fca333a).
  it("a NUL byte does not hide the statements after it from the lint", async () => {
    const { lint } = await import("@dieu44/sql-lint");
    const artifact = sources[0]!.bytes.toString("utf8");
    const cut = artifact.indexOf("CREATE TABLE cutter_governance.registry_entity_type");
    const hidden = `${artifact.slice(0, cut)}\0${artifact.slice(cut).replace("COMMIT;", "DROP TABLE cutter_governance.registry_namespace;\nCOMMIT;")}`;
    const report = await lint(Buffer.from(hidden, "utf8"), policies[1] as never, { path: "hidden.sql" });
    const seen = !report.facts.parsed || report.findings.some((finding) => /DROP|\bNUL\b|0x00/.test(finding.message));
    expect(seen).toBe(true);
  });

  it("the CLI exits 0, 1 or 2 without a stack trace on a sample", async () => {
    const dir = mkdtempSync(join(tmpdir(), "dieu44-sql-"));
    try {
      const step = Math.max(1, Math.floor(MUTATIONS / CLI_SAMPLE));
      const sample = Array.from({ length: CLI_SAMPLE }, (_, k) => mutationOf(k * step + (k % SQL_FAMILIES.length)));
      const run = async ({ source, mutation }: (typeof sample)[number], k: number) => {
        const path = join(dir, `${k}-${source}`);
        writeFileSync(path, mutation.bytes);
        const started = performance.now();
        const result = await runNodeCli(SQL_LINT_BIN, [path], { env: cleanEnv() });
        const ms = performance.now() - started;
        cli.runs++;
        cli.maxMs = Math.max(cli.maxMs, ms);
        cli.exits.set(result.status, (cli.exits.get(result.status) ?? 0) + 1);
        if (ms > HANG_MS) cli.slow++;
        if (result.status === null || result.status > 2) {
          cli.crashes++;
          problems.push(`CLI exit ${result.status}: ${source} ${mutation.id}: ${result.stderr.slice(0, 300)}`);
        }
        if (/^\s+at /m.test(result.stderr)) {
          cli.stackTraces++;
          problems.push(`CLI stack trace: ${source} ${mutation.id}: ${result.stderr.slice(0, 300)}`);
        }
      };
      // Two at a time: each start is about half a second of CPU on a 2-core machine.
      for (let k = 0; k < sample.length; k += 2) await Promise.all(sample.slice(k, k + 2).map((entry, j) => run(entry, k + j)));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    cliDone = true;
    expect(problems).toEqual([]);
  }, 120_000);
});
