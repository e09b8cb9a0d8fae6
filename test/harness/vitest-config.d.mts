import type { UserConfig } from "vitest/config";

export function harnessConfig(options?: { include?: string[]; globalSetup?: string[] }): UserConfig;
