import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["@dieu44/test-harness/global-setup", "./test/build.global-setup.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
