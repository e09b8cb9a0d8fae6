// The tools the benchmarks measure against (squawk, migra, schemainspect) are not lockfile
// dependencies: squawk-cli's optional platform packages are not all served by every registry
// mirror, and a missing one breaks `npm ci` for everybody; the @pgkit packages would add a second
// zod, an older pg and trpc-cli's peers to every install. So they are installed on first use into
// bench/.work/tools (ignored by git), all in one `npm install`, at the versions pinned here.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const TOOLS_DIR = join(dirname(fileURLToPath(import.meta.url)), ".work", "tools");

export const TOOL_VERSIONS = { "squawk-cli": "2.66.0", "@pgkit/migra": "0.6.1", "@pgkit/schemainspect": "0.6.1" };

const folderOf = (name) => join(TOOLS_DIR, "node_modules", ...name.split("/"));
const installedVersion = (name) => {
  try {
    return JSON.parse(readFileSync(join(folderOf(name), "package.json"), "utf8")).version;
  } catch {
    return undefined;
  }
};

/** Installs every comparison tool that is missing or at another version; returns their folders. */
export function comparisonTools(log = (message) => process.stderr.write(`${message}\n`)) {
  const stale = Object.entries(TOOL_VERSIONS).filter(([name, version]) => installedVersion(name) !== version);
  if (stale.length) {
    mkdirSync(TOOLS_DIR, { recursive: true });
    // A package.json listing all of them, so one install never prunes another.
    writeFileSync(
      join(TOOLS_DIR, "package.json"),
      `${JSON.stringify({ name: "dieu44-bench-comparison-tools", private: true, dependencies: TOOL_VERSIONS }, null, 2)}\n`,
    );
    log(`installing ${stale.map(([name, version]) => `${name}@${version}`).join(", ")} into ${TOOLS_DIR} ...`);
    const result = spawnSync("npm", ["install", "--no-package-lock", "--no-audit", "--no-fund", "--prefix", TOOLS_DIR], {
      stdio: ["ignore", "inherit", "inherit"],
    });
    if (result.status !== 0) throw new Error("could not install the comparison tools (npm install failed)");
  }
  return Object.fromEntries(
    Object.keys(TOOL_VERSIONS).map((name) => {
      if (!existsSync(folderOf(name))) throw new Error(`${name} is missing from ${TOOLS_DIR} after installing`);
      return [name, folderOf(name)];
    }),
  );
}
