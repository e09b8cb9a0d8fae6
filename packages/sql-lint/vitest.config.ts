import { harnessConfig } from "@dieu44/test-harness/vitest-config";

// The CLI tests run the built dist: build it once before the run.
export default harnessConfig({ globalSetup: ["./test/build.global-setup.ts"] });
