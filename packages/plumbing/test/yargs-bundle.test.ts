import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// The build's output, which the command lines load (the test runs after `npm run build`).
const bundle = fileURLToPath(new URL("../dist/yargs.js", import.meta.url));

describe("the bundled yargs the command lines load", () => {
  it("is one file that imports only Node's own modules", () => {
    const text = readFileSync(bundle, "utf8");
    const specifiers = [...text.matchAll(/^import .* from "([^"]+)";$/gm)].map((match) => match[1]);
    expect(specifiers.length).toBeGreaterThan(0);
    expect(specifiers.filter((specifier) => !/^(node:)?(assert|fs|module|path|url|util)$/.test(specifier ?? ""))).toEqual([]);
  });

  it("parses and prints usage like yargs", async () => {
    const { default: yargs } = (await import(bundle)) as typeof import("yargs");
    let usage = "";
    const argv = await yargs(["--jobs", "3"])
      .scriptName("tool")
      .option("jobs", { type: "number", describe: "how many" })
      .help()
      .exitProcess(false)
      .parseAsync();
    expect(argv.jobs).toBe(3);
    await yargs(["--help"])
      .scriptName("tool")
      .option("jobs", { type: "number", describe: "how many" })
      .help()
      .exitProcess(false)
      .parseAsync(["--help"], {}, (_error, _argv, output) => {
        usage = output;
      });
    expect(usage).toContain("--jobs");
    expect(usage).toContain("how many");
    expect(usage).toContain("Show help");
  });
});
