import { readFileSync } from "node:fs";
import { join } from "node:path";
import { FIXTURE_DIR } from "@dieu44/test-harness";
import { describe, expect, it } from "vitest";
import { jsonSchemaFiles } from "../src/json-schema.js";
import { loadPlan, planDifferences } from "../src/plan.js";
import { lintPolicyOf } from "../src/procedure.js";

describe("plan", () => {
  for (const { path, text } of jsonSchemaFiles()) {
    it(`${path.split("/").pop()} matches the zod schema (regenerate: node apps/dieu44/scripts/gen-json-schema.mjs)`, () => {
      expect(readFileSync(path, "utf8")).toBe(text);
    });
  }

  it("loads the fixture plans, whose artifact hashes are the files' own", async () => {
    const loaded = await loadPlan(join(FIXTURE_DIR, "plan.json"));
    expect(loaded.plan.target.tables).toHaveLength(12);
    const { createHash } = await import("node:crypto");
    const hash = (file: string) => createHash("sha256").update(readFileSync(file)).digest("hex");
    expect(hash(loaded.artifactPath)).toBe(loaded.plan.artifact.sha256);
    expect(hash(loaded.rollbackPath)).toBe(loaded.plan.rollback.sha256);
  });

  it("the reauthorized plan differs from the first attempt's only in the apply role", async () => {
    const first = await loadPlan(join(FIXTURE_DIR, "plan-attempt-1.json"));
    const second = await loadPlan(join(FIXTURE_DIR, "plan.json"));
    expect(planDifferences(first.plan, second.plan)).toEqual(["applyRole"]);
    expect(second.plan.reauthorization?.allowedChanges).toEqual(["applyRole"]);
  });

  it("the shipped sql-lint policy is the one the plan implies (the shell pipeline uses it)", async () => {
    const { plan } = await loadPlan(join(FIXTURE_DIR, "plan.json"));
    const shipped = JSON.parse(readFileSync(join(FIXTURE_DIR, "sql-lint-policy.json"), "utf8"));
    expect(shipped).toEqual(lintPolicyOf(plan));
  });

  it("names the file and field of an invalid plan", async () => {
    const { parsePlan } = await import("../src/plan.js");
    const plan = JSON.parse(readFileSync(join(FIXTURE_DIR, "plan.json"), "utf8"));
    plan.target.systemIdentifier = 42;
    expect(() => parsePlan(JSON.stringify(plan), "bad-plan.json")).toThrow(
      /bad-plan\.json: invalid document: field target\.systemIdentifier/,
    );
  });

  it("takes wait limits for the apply and the backup, never 0 (PostgreSQL's 'wait forever')", async () => {
    const { parsePlan } = await import("../src/plan.js");
    const plan = JSON.parse(readFileSync(join(FIXTURE_DIR, "plan.json"), "utf8"));
    plan.apply = { lockTimeout: "750ms", statementTimeout: "2m" };
    plan.backup.lockWaitTimeout = "30s";
    expect(parsePlan(JSON.stringify(plan), "plan.json")).toMatchObject({
      apply: { lockTimeout: "750ms", statementTimeout: "2m" },
      backup: { lockWaitTimeout: "30s" },
    });
    for (const [field, edit] of [
      ["apply.lockTimeout", (p: typeof plan) => (p.apply.lockTimeout = "0s")],
      ["apply.statementTimeout", (p: typeof plan) => (p.apply.statementTimeout = "5 minutes")],
      ["backup.lockWaitTimeout", (p: typeof plan) => (p.backup.lockWaitTimeout = "0ms")],
    ] as const) {
      const bad = structuredClone(plan);
      edit(bad);
      expect(() => parsePlan(JSON.stringify(bad), "plan.json")).toThrow(new RegExp(`field ${field.replace(".", "\\.")}`));
    }
  });

  it("refuses a plan file that is not valid UTF-8, naming the file", async () => {
    const { mkdtempSync, writeFileSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const text = readFileSync(join(FIXTURE_DIR, "plan.json"), "utf8");
    const path = join(mkdtempSync(join(tmpdir(), "dieu44-plan-")), "plan.json");
    const at = text.indexOf("workflow_admin");
    writeFileSync(path, Buffer.concat([Buffer.from(text.slice(0, at)), Buffer.from([0xff]), Buffer.from(text.slice(at))]));
    await expect(loadPlan(path)).rejects.toThrow(/plan\.json: not valid UTF-8/);
  });

  it("a rerun that changes the apply's wait limits differs in what it runs", async () => {
    const plan = (await loadPlan(join(FIXTURE_DIR, "plan.json"))).plan;
    expect(planDifferences(plan, { ...plan, apply: { lockTimeout: "1s" } })).toEqual(["apply"]);
  });

  it("refuses a YAML plan nested far too deep before parsing it, and still reads the fixture plan as YAML", async () => {
    const { parsePlan } = await import("../src/plan.js");
    const text = readFileSync(join(FIXTURE_DIR, "plan.json"), "utf8");
    const deep = text.replace(/"cycle": "[^"]*"/, `"cycle": ${"[".repeat(100_000)}0${"]".repeat(100_000)}`);
    for (let attempt = 0; attempt < 3; attempt++) {
      expect(() => parsePlan(deep, "deep.yaml")).toThrow(/deep\.yaml: not a plan: nested more than 256 levels deep/);
    }
    const indented = `cycle:\n${Array.from({ length: 600 }, (_, i) => `${"  ".repeat(i + 1)}k${i}:`).join("\n")}\n`;
    expect(() => parsePlan(indented, "indented.yaml")).toThrow(/nested more than 256 levels deep/);
    // Brackets inside quotes and comments are not nesting.
    const quoted = text.replace(/"cycle": "[^"]*"/, `"cycle": "${"[".repeat(1000)}"`);
    expect(parsePlan(`# ${"{".repeat(1000)}\n${quoted}`, "quoted.yaml").cycle).toBe("[".repeat(1000));
    expect(parsePlan(text, "plan.yaml").cycle).toBe(JSON.parse(text).cycle);
  });
});
