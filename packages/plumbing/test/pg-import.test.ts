import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { importPg } from "../src/pg-import.js";

/** Whether a fresh node process has loaded Node's bundled fetch (undici) after importing pg. */
function loadsUndici(viaImportPg: boolean): boolean {
  const helper = new URL("../dist/pg-import.js", import.meta.url).href;
  const script = viaImportPg
    ? `const { importPg } = await import(${JSON.stringify(helper)}); await importPg(() => import("pg"));`
    : `await import("pg");`;
  const result = spawnSync(
    process.execPath,
    ["--input-type=module", "-e", `${script} console.log(process.moduleLoadList.some((m) => m.includes("undici")));`],
    { cwd: new URL("..", import.meta.url), encoding: "utf8" },
  );
  expect(result.status, result.stderr).toBe(0);
  return result.stdout.trim() === "true";
}

describe("importPg", () => {
  it("loads pg without Node's bundled fetch (undici) and leaves no navigator behind on Node 20", async () => {
    const hadNavigator = (globalThis as { navigator?: unknown }).navigator !== undefined;
    let seen: unknown;
    const pg = await importPg(async () => {
      seen = (globalThis as { navigator?: { userAgent: string } }).navigator?.userAgent;
      return import("pg");
    });
    expect(typeof pg.default.Client).toBe("function");
    expect(String(seen)).toMatch(/^Node\.js\/\d+$|^Node\.js/);
    if (!hadNavigator) expect((globalThis as { navigator?: unknown }).navigator).toBeUndefined();
  });

  it("keeps undici out of the process (where pg would load it, Node 20)", () => {
    expect(loadsUndici(true)).toBe(false);
    // Node 21 and later have a navigator of their own: pg never probes there.
    if (Number(process.versions.node.split(".")[0]) < 21) expect(loadsUndici(false)).toBe(true);
  });

  it("restores the global when the load fails", async () => {
    const before = (globalThis as { navigator?: unknown }).navigator;
    await expect(importPg(() => Promise.reject(new Error("no such module")))).rejects.toThrow("no such module");
    expect((globalThis as { navigator?: unknown }).navigator).toBe(before);
  });
});
