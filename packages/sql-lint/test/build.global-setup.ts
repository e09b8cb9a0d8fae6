// The CLI tests spawn bin/sql-lint.js, which runs the built dist: build it once, before any test file runs.
import { spawnSync } from "node:child_process";
import { join } from "node:path";

export default function setup(): void {
  const root = join(import.meta.dirname, "..", "..", "..");
  const build = spawnSync("npx", ["tsc", "-p", "packages/sql-lint/tsconfig.build.json"], { cwd: root, encoding: "utf8" });
  if (build.status !== 0) throw new Error(`building sql-lint failed:\n${build.stdout}${build.stderr}`);
}
