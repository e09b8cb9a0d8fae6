// Where one cold sql-lint run spends its CPU, measured inside a fresh process (WebAssembly on
// Liftoff only, as sql-lint's bin sets it). Prints JSON; the sql-lint pair runs it three times.
//   node bench/helpers/sql-lint-phases.mjs ARTIFACT POLICY
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { setFlagsFromString } from "node:v8";

setFlagsFromString("--liftoff-only");
const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const cpuMs = () => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
};
const [artifact, policyPath] = process.argv.slice(2);
const atStart = cpuMs();
const { lint } = await import(join(ROOT, "packages", "sql-lint", "dist", "index.js"));
const { parse } = await import("libpg-query");
const afterImport = cpuMs();
const bytes = readFileSync(artifact);
const policy = JSON.parse(readFileSync(policyPath, "utf8"));
// The parser alone, cold: parse + its JSON output + JSON.parse of the tree (meta-command line blanked).
const text = bytes.toString("utf8").replace("\\set ON_ERROR_STOP on", " ".repeat("\\set ON_ERROR_STOP on".length));
const beforeParse = cpuMs();
const tree = await parse(text);
const afterParse = cpuMs();
const report = await lint(bytes, policy);
const afterLint = cpuMs();
console.log(
  JSON.stringify({
    processStartMs: Math.round(atStart),
    importMs: Math.round(afterImport - atStart),
    parserOnlyColdMs: Math.round(afterParse - beforeParse),
    lintAfterThatMs: Math.round(afterLint - afterParse),
    parseTreeJsonChars: JSON.stringify(tree).length,
    statements: report.facts.statementCount,
  }),
);
