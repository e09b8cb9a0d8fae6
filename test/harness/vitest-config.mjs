/**
 * The vitest configuration of every suite that talks to PostgreSQL: the harness's global setup
 * starts the servers once per run and stops them afterwards. Plain JavaScript, because vitest
 * loads config files with Node, which does not run TypeScript from node_modules.
 */
import { defineConfig } from "vitest/config";

/** @param {{ include?: string[]; globalSetup?: string[] }} [options] */
export function harnessConfig(options = {}) {
  return defineConfig({
    test: {
      include: options.include ?? ["test/**/*.test.ts"],
      globalSetup: ["@dieu44/test-harness/global-setup", ...(options.globalSetup ?? [])],
      testTimeout: 120_000,
      hookTimeout: 120_000,
    },
  });
}
