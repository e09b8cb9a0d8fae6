import { harnessConfig } from "@dieu44/test-harness/vitest-config";

export default harnessConfig({ include: ["e2e/**/*.test.ts"] });
