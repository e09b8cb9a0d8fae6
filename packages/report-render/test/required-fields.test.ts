/**
 * A missing required field is an error naming the field (exit 2), never an empty cell or the
 * word "undefined": each field is deleted in turn from a copy of the BLOCKED evidence folder,
 * whose manifest is re-hashed so the deletion reaches schema validation.
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { ExitCode, exitCodeFor } from "@dieu44/plumbing/exit";
import { describe, expect, it } from "vitest";
import { renderBundle } from "../src/index.js";
import { ReportFieldsSchema, VerdictSchema } from "../src/schema.js";
import { copyEvidence, editDocument, PACKAGE_DIR } from "./helpers.js";

const REPORT_FIELDS = Object.keys(ReportFieldsSchema.shape);
const VERDICT_FIELDS = Object.keys(VerdictSchema.shape).filter((field) => field !== "basis");

/** The seed's required report fields and blocked-attempt verdict fields, as the schema names them. */
const SEED_FIELDS = [
  ...REPORT_FIELDS.map((field) => ["reportFields", field]),
  ...VERDICT_FIELDS.map((field) => ["verdict", field]),
];

function runCliAsync(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(PACKAGE_DIR, "bin", "report-render.js"), ...args], {
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
    });
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    child.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}

function withoutField(parent: string, field: string): string {
  const dir = copyEvidence("blocked");
  editDocument(dir, "procedure-result.json", (document) => {
    delete (document[parent] as Record<string, unknown>)[field];
  });
  return dir;
}

describe("a missing required field", () => {
  it("is exactly the seed's nine report fields and six verdict fields", () => {
    expect(REPORT_FIELDS.sort()).toEqual(
      [
        "reauthorized_apply_status",
        "apply_role_used",
        "preflight_rerun_result",
        "fresh_backup_status",
        "command_integrity_result",
        "tables_created",
        "verification_summary",
        "rollback_status_if_any",
        "downstream_not_executed",
      ].sort(),
    );
    expect(VERDICT_FIELDS.sort()).toEqual(
      ["production_changed", "tables_created", "rollback_required", "root_cause", "DDL_defect", "schema_drift"].sort(),
    );
  });

  it("makes `report-render bundle` exit 2 naming it, for each seed field in turn", async () => {
    const runs = SEED_FIELDS.map(async ([parent, field]) => {
      const dir = withoutField(parent!, field!);
      const result = await runCliAsync(["bundle", dir, "--out", join(dir, "out")]);
      return { field: `${parent}.${field}`, ...result };
    });
    for (const result of await Promise.all(runs)) {
      expect(result.status, result.field).toBe(2);
      expect(result.stderr, result.field).toContain(`procedure-result.json: invalid document: field ${result.field}:`);
      expect(result.stdout, result.field).toBe("");
    }
  });

  it("is an InputError (exit 2) naming it for every other required field of the procedure result", () => {
    const fields: [string[], string][] = [
      [["kind"], "kind"],
      [["formatVersion"], "formatVersion"],
      [["mode"], "mode"],
      [["cycle"], "cycle"],
      [["plan", "sha256"], "plan.sha256"],
      [["status"], "status"],
      [["applyRole"], "applyRole"],
      [["connection"], "connection"],
      [["startedAt"], "startedAt"],
      [["finishedAt"], "finishedAt"],
      [["steps", "3", "command"], "steps[3].command"],
      [["steps", "3", "summary"], "steps[3].summary"],
      [["steps", "0", "checks", "1", "actual"], "steps[0].checks[1].actual"],
      [["files", "report"], "files.report"],
      [["verdict", "basis"], "verdict.basis"],
    ];
    for (const [path, name] of fields) {
      const dir = copyEvidence("blocked");
      editDocument(dir, "procedure-result.json", (document) => {
        let node = document as Record<string, unknown>;
        for (const part of path.slice(0, -1)) node = node[part] as Record<string, unknown>;
        delete node[path.at(-1)!];
      });
      let error: unknown;
      try {
        renderBundle(dir);
      } catch (caught) {
        error = caught;
      }
      expect(exitCodeFor(error), name).toBe(ExitCode.BadInput);
      // `kind` goes first: the manifest's kind check names it before the schema does.
      expect((error as Error).message, name).toMatch(new RegExp(`field ${name.replace(/[[\].]/g, "\\$&")}( |:)`));
    }
  });

  it("includes the whole verdict of a run that did not pass", () => {
    const dir = copyEvidence("rolled-back");
    editDocument(dir, "procedure-result.json", (document) => {
      delete document.verdict;
    });
    expect(() => renderBundle(dir)).toThrow(
      /procedure-result\.json: invalid document: field verdict: required when status is not PASS/,
    );
  });

  it("of another evidence document is named with that document's file", () => {
    const dir = copyEvidence("pass");
    editDocument(dir, "apply-log.json", (document) => {
      delete document.outcome;
    });
    expect(() => renderBundle(dir)).toThrow(/apply-log\.json: invalid document: field outcome:/);
    const other = copyEvidence("pass");
    editDocument(other, "expectation-result.json", (document) => {
      delete (document.found as Record<string, unknown>).tablesAdded;
    });
    expect(() => renderBundle(other)).toThrow(/expectation-result\.json: invalid document: field found\.tablesAdded:/);
  });
});
