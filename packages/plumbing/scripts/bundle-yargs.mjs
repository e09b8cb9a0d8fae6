/**
 * Replaces dist/yargs.js (compiled from src/yargs.ts, which re-exports yargs) with the same
 * exports bundled into one file, so that a command line loads one module instead of yargs' tree.
 * Run by `npm run build` after tsc.
 */
import { rename, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "rolldown";

const dist = join(dirname(fileURLToPath(import.meta.url)), "..", "dist");
const target = join(dist, "yargs.js");
const bundled = join(dist, "yargs.bundle.tmp.js");

await build({
  input: target,
  platform: "node",
  logLevel: "warn",
  output: { file: bundled, format: "esm", sourcemap: false, minify: false },
});
await rename(bundled, target);
// The map tsc wrote describes the re-export, not the bundle.
await rm(`${target}.map`, { force: true });
