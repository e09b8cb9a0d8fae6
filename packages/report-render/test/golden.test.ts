/**
 * Golden files: the three procedure files of each fixture evidence folder, byte for byte.
 * Regenerate after an intended template change: UPDATE_GOLDEN=1 npx vitest run test/golden.test.ts
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { renderBundle } from "../src/index.js";
import { EVIDENCE, GOLDEN, runCli, SCENARIOS, scratchDir, tableProblems } from "./helpers.js";

const update = process.env.UPDATE_GOLDEN === "1";

describe.each(SCENARIOS)("golden files: %s run", (scenario) => {
  const { files } = renderBundle(join(EVIDENCE, scenario));
  const goldenDir = join(GOLDEN, scenario);
  if (update) {
    mkdirSync(goldenDir, { recursive: true });
    for (const file of files) writeFileSync(join(goldenDir, file.name), file.content);
  }

  it("renders the plan's three file names", () => {
    expect(files.map((file) => file.name)).toHaveLength(3);
    expect(files.map((file) => file.name).sort()).toEqual(readdirSync(goldenDir).sort());
  });

  it.each(files.map((file) => [file.name, file.content] as const))("%s matches its golden file", (name, content) => {
    const golden = join(goldenDir, name);
    expect(existsSync(golden), `${golden} missing: run with UPDATE_GOLDEN=1`).toBe(true);
    expect(content).toBe(readFileSync(golden, "utf8"));
  });

  it("never renders undefined, [object Object] or an empty table cell", () => {
    for (const file of files) {
      expect(file.content).not.toMatch(/undefined|\[object Object\]/);
      expect(tableProblems(file.content)).toEqual([]);
    }
  });

  it("gives the same bytes on every render, and the CLI writes the same bytes", () => {
    const again = renderBundle(join(EVIDENCE, scenario));
    expect(again.files).toEqual(files);
    const out = scratchDir();
    const result = runCli(["bundle", join(EVIDENCE, scenario), "--out", out]);
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    const written = JSON.parse(result.stdout) as { files: { name: string; sha256: string }[] };
    expect(written.files.map((file) => file.name)).toEqual(files.map((file) => file.name));
    for (const file of files) expect(readFileSync(join(out, file.name), "utf8")).toBe(file.content);
  });
});
