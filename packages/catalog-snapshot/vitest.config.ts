import { harnessConfig } from "@dieu44/test-harness/vitest-config";

export default harnessConfig();
