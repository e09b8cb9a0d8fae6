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

  it("measures text like yargs: wide, combining, emoji and coloured text lays out the same", async () => {
    // The build defers string-width's Unicode tables to their first use; no width may move. Each
    // sample is an option name (yargs' string-width sizes the first column from it; a wrap of 60
    // keeps that column under its cap) and a description (measured by cliui's), alone in its
    // usage so that no longer row hides it.
    const { default: bundled } = (await import(bundle)) as typeof import("yargs");
    const { default: original } = await import("yargs");
    const samples = [
      "wide-表示表示",
      "hangul-한국어-각",
      "jamo-\u1100\u1161\u11a8",
      "emoji-🚀-👩‍💻",
      "flag-🇻🇳",
      "zwj-☺\u200d☺",
      "keycap-#️⃣-1\u20e3",
      "watch-⌚-plane-✈",
      "mark-e\u0301\u0301",
      "soft\u00adhyphen",
      "spacing-\u0915\u093f",
      "half-ﾊﾝｶｸ-full-ＦＵＬＬ",
      "red-\u001b[31mred\u001b[39m",
    ];
    const usageOf = async (factory: typeof bundled, sample: string): Promise<string> => {
      let usage = "";
      const parser = factory(["--help"])
        .scriptName("tool")
        .usage(`${sample} ${sample}`)
        .option(`option-${sample}`, { type: "string", describe: `${sample} ${sample} ${sample}` })
        .wrap(60)
        .help()
        .exitProcess(false);
      await parser.parseAsync(["--help"], {}, (_error, _argv, output) => {
        usage = output;
      });
      return usage;
    };
    for (const sample of samples) {
      const expected = await usageOf(original, sample);
      expect(expected).toContain(sample.slice(0, 4));
      expect(await usageOf(bundled, sample), sample).toBe(expected);
    }
  });
});
