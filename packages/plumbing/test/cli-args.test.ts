import { describe, expect, it } from "vitest";
import yargs from "yargs";
import { fromStdinToken, optionValues, parseCommandLine, protectStdinDash } from "../src/cli-args.js";
import { ExitCode, InputError, ToolError } from "../src/exit.js";

const parserFor = (argv: string[]) =>
  yargs(argv).option("name", { type: "string", requiresArg: true, describe: "a name" }).strict();

describe("parseCommandLine", () => {
  it("returns the parsed arguments", async () => {
    const parsed = await parseCommandLine(parserFor(["--name", "x"]), ["--name", "x"]);
    expect(parsed?.name).toBe("x");
  });

  it("turns usage errors into InputError (exit 2)", async () => {
    await expect(parseCommandLine(parserFor(["--bogus"]), ["--bogus"])).rejects.toThrow(InputError);
    await expect(parseCommandLine(parserFor(["--name"]), ["--name"])).rejects.toThrow(/Not enough arguments following: name/);
  });

  it("keeps the exit code of a ToolError a command throws, and has no --version", async () => {
    const failing = (argv: string[]) =>
      yargs(argv).command("go", "fails", {}, () => {
        throw new ToolError("check failed", ExitCode.CheckFailed);
      });
    await expect(parseCommandLine(failing(["go"]), ["go"])).rejects.toMatchObject({ exitCode: ExitCode.CheckFailed });
    await expect(parseCommandLine(parserFor(["--version"]), ["--version"])).rejects.toThrow(/Unknown argument: version/);
  });

  it("returns null after printing --help to stdout", async () => {
    const written: string[] = [];
    const write = process.stdout.write;
    process.stdout.write = ((chunk: string) => written.push(chunk) > 0) as typeof process.stdout.write;
    try {
      expect(await parseCommandLine(parserFor(["--help"]), ["--help"])).toBeNull();
    } finally {
      process.stdout.write = write;
    }
    expect(written.join("")).toMatch(/--name +a name/);
  });
});

describe("argument helpers", () => {
  it("gives a repeatable option's values as strings", () => {
    expect(optionValues(undefined)).toEqual([]);
    expect(optionValues("a")).toEqual(["a"]);
    expect(optionValues(["a", 2])).toEqual(["a", "2"]);
  });

  it("carries a lone - through yargs", async () => {
    const argv = protectStdinDash(["show", "-", "--name", "-"]);
    const parsed = await parseCommandLine(yargs(argv).command("show <file>", "show").option("name", { type: "string" }), argv);
    expect(fromStdinToken(String(parsed?.file))).toBe("-");
    expect(fromStdinToken(String(parsed?.name))).toBe("-");
    expect(fromStdinToken("file.json")).toBe("file.json");
  });
});
