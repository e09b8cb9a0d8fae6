/** Every package imports by its published name through its `exports` map, and has its bin. */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { REPO_ROOT } from "@dieu44/test-harness";
import { describe, expect, it } from "vitest";

const tools = ["catalog-snapshot", "drift-diff", "backup-marker", "sql-lint", "tx-apply", "report-render"];

describe("published packages", () => {
  for (const tool of tools) {
    it(`@dieu44/${tool} exports its library, its schema and a bin of the same name`, async () => {
      const library = await import(`@dieu44/${tool}`);
      const schema = await import(`@dieu44/${tool}/schema`);
      expect(typeof library).toBe("object");
      expect(typeof schema).toBe("object");
      const manifest = JSON.parse(readFileSync(join(REPO_ROOT, "packages", tool, "package.json"), "utf8"));
      expect(manifest.name).toBe(`@dieu44/${tool}`);
      expect(manifest.bin[tool]).toBe(`./bin/${tool}.js`);
      expect(existsSync(join(REPO_ROOT, "packages", tool, "bin", `${tool}.js`))).toBe(true);
    });
  }

  it("@dieu44/dieu44 has the dieu44 bin", async () => {
    expect(typeof (await import("@dieu44/dieu44"))).toBe("object");
    const manifest = JSON.parse(readFileSync(join(REPO_ROOT, "apps", "dieu44", "package.json"), "utf8"));
    expect(manifest.bin.dieu44).toBe("./bin/dieu44.js");
  });

  it("the shared plumbing exposes one module per concern, not a barrel", async () => {
    for (const module of ["connection", "redact", "json-io", "exit", "progress", "cli-args", "json-schema"]) {
      expect(typeof (await import(`@dieu44/plumbing/${module}`))).toBe("object");
    }
    const require = createRequire(import.meta.url);
    expect(() => require.resolve("@dieu44/plumbing")).toThrow();
  });
});
