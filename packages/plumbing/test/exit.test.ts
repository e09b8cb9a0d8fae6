import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";

const exitModule = new URL("../dist/exit.js", import.meta.url).pathname;

/** Runs a script that uses runCli and returns its exit status and stderr. */
function runScript(body: string): { status: number | null; stderr: string } {
  const script = `import { runCli, InputError } from ${JSON.stringify(exitModule)};\n${body}`;
  const result = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
    encoding: "utf8",
    env: { PATH: process.env.PATH },
  });
  return { status: result.status, stderr: result.stderr };
}

describe("runCli: an error outside main is still one redacted line, never a stack trace", () => {
  it("an exception thrown from a callback exits 3 with the redacted message", () => {
    const { status, stderr } = runScript(`await runCli("probe", () => new Promise(() => {
      setTimeout(() => { throw new Error("connection lost to postgres://app:s3cret-pw@db/x"); }, 10);
    }));`);
    expect(status).toBe(3);
    expect(stderr).toBe("probe: connection lost to postgres://app:********@db/x\n");
  });

  it("an unawaited rejection exits with the code of its error", () => {
    const { status, stderr } = runScript(`await runCli("probe", async () => {
      void Promise.reject(new InputError("bad.json: invalid document"));
      await new Promise((resolve) => setTimeout(resolve, 50));
      return 0;
    });`);
    expect(status).toBe(2);
    expect(stderr).toBe("probe: bad.json: invalid document\n");
    expect(stderr).not.toMatch(/^\s+at /m);
  });
});
