import { harnessConfig } from "@dieu44/test-harness/vitest-config";

// The reliability suite's global setup (after the harness's, which starts the servers) empties its
// results folder at the start and writes RELIABILITY.md from them at the end.
export default harnessConfig({
  include: ["e2e/**/*.test.ts", "reliability/**/*.test.ts"],
  globalSetup: ["./reliability/report.ts"],
});
