// The tools the benchmarks measure against (squawk, migra) are not project dependencies: their
// lockfile entries would tie `npm ci` to platform packages the registry may not serve. They are
// installed on first use into bench/.work/tools (ignored by git), at the versions measured.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const TOOLS_DIR = join(dirname(fileURLToPath(import.meta.url)), ".work", "tools");

const VERSIONS = { "squawk-cli": "2.66.0", "@pgkit/migra": "0.6.1" };

/** Installs the package if missing and returns its folder inside TOOLS_DIR/node_modules. */
export function comparisonTool(name) {
  const folder = join(TOOLS_DIR, "node_modules", ...name.split("/"));
  if (!existsSync(folder)) {
    mkdirSync(TOOLS_DIR, { recursive: true });
    process.stderr.write(`installing ${name}@${VERSIONS[name]} into ${TOOLS_DIR} ...\n`);
    const result = spawnSync(
      "npm",
      [
        "install",
        "--no-save",
        "--no-package-lock",
        "--no-audit",
        "--no-fund",
        "--prefix",
        TOOLS_DIR,
        `${name}@${VERSIONS[name]}`,
      ],
      { stdio: ["ignore", "inherit", "inherit"] },
    );
    if (result.status !== 0) throw new Error(`could not install ${name}`);
  }
  return folder;
}
