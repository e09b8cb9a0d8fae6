/**
 * Building blocks for step records: a clock the procedure owns (tests pass a fixed one) and a
 * small recorder that turns checks into the report-render Step shape.
 */
import type { Step, StepCheck, StepId, StepStatus } from "@dieu44/report-render/schema";

export type Clock = () => Date;

export class StepRecorder {
  readonly checks: StepCheck[] = [];
  readonly documents: string[] = [];
  private readonly startedAt: string;

  constructor(
    readonly id: StepId,
    readonly title: string,
    private readonly clock: Clock,
  ) {
    this.startedAt = clock().toISOString();
  }

  /** Records a check and returns whether it passed. */
  check(name: string, expected: string, actual: string, passed: boolean = expected === actual): boolean {
    this.checks.push({ name, expected, actual, passed });
    return passed;
  }

  get failedChecks(): StepCheck[] {
    return this.checks.filter((check) => !check.passed);
  }

  finish(status: StepStatus, summary: string, command: string | null): Step {
    return {
      id: this.id,
      title: this.title,
      status,
      startedAt: this.startedAt,
      finishedAt: this.clock().toISOString(),
      command,
      summary,
      checks: this.checks,
      documents: this.documents,
    };
  }
}

export const STEP_TITLES: Record<StepId, string> = {
  P1_preflight: "P1 read-only preflight",
  P2_fresh_backup: "P2 fresh backup",
  P3_command_integrity: "P3 command integrity",
  apply: "Apply as the authorized role, in one transaction",
  verification: "Post-apply verification of the catalog delta",
  rollback: "Rollback package (only when its assumptions hold)",
};

/** A step that never started because an earlier one stopped the procedure. */
export function notRun(id: StepId, reason: string): Step {
  return {
    id,
    title: STEP_TITLES[id],
    status: "not_run",
    startedAt: null,
    finishedAt: null,
    command: null,
    summary: reason,
    checks: [],
    documents: [],
  };
}
