import { harnessConfig } from "./vitest-config.mjs";

export default harnessConfig({ include: ["*.test.ts"] });
