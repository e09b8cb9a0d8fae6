import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["harness/**/*.test.ts", "e2e/**/*.test.ts"],
    globalSetup: ["./harness/global-setup.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
