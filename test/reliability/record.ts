/**
 * What each reliability case found, recorded while it runs so that RELIABILITY.md is written from
 * the suite's own results (report.ts composes it when the run ends). One JSON file per case, in a
 * results folder the vitest global setup empties at the start of a run.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const RESULTS_DIR = join(dirname(fileURLToPath(import.meta.url)), ".results");

/** One measured figure of a case, with the bound it must meet (when it has one). */
export interface Figure {
  label: string;
  value: number | string;
  /** What the value must be, in words ("0", "all 31", "≤ 2 s"); omitted for a plain measurement. */
  required?: string;
  /** Whether the value meets `required` (true when there is none). */
  ok: boolean;
}

export interface CaseResult {
  /** Stable file-name-safe id, e.g. "fault-statement-boundary". */
  id: string;
  /** The case as the issue names it. */
  title: string;
  /** How many times the case's scenario was run. */
  runs: number;
  figures: Figure[];
  /** What was found, in sentences: defects seen and fixed, oddities, the server versions used. */
  findings: string[];
}

export function recordCase(result: CaseResult): void {
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(join(RESULTS_DIR, `${result.id}.json`), `${JSON.stringify(result, null, 2)}\n`);
}
