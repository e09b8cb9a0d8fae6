// Regenerates schema/backup-marker.schema.json from the zod schema (run after building).
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { BackupMarkerSchema } from "../dist/schema.js";

const target = join(dirname(fileURLToPath(import.meta.url)), "..", "schema", "backup-marker.schema.json");
writeFileSync(target, `${JSON.stringify(z.toJSONSchema(BackupMarkerSchema), null, 2)}\n`);
process.stdout.write(`wrote ${target}\n`);
