// Copies the repository's top-level templates/ into dist/templates, so a published package
// carries its templates (inside the repository the top-level folder is used directly).
//   node packages/report-render/scripts/copy-templates.mjs   (part of `npm run build`)
import { cpSync, existsSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const packageDir = join(dirname(fileURLToPath(import.meta.url)), "..");
const source = join(packageDir, "..", "..", "templates");
const target = join(packageDir, "dist", "templates");
if (!existsSync(join(source, "report.hbs"))) throw new Error(`no templates at ${source}`);
rmSync(target, { recursive: true, force: true });
cpSync(source, target, { recursive: true });
process.stderr.write(`copied ${source} to ${target}\n`);
