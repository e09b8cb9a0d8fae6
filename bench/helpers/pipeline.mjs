// The snapshot+diff pipeline as the dieu44 app runs it: one process, the library snapshot() of
// both databases (concurrently: they are independent), then diff(); no JSON files in between.
//   PGHOST=... PGPORT=... PGUSER=... PGPASSWORD=... node bench/helpers/pipeline.mjs DB_BEFORE DB_AFTER SCHEMA
import { snapshot } from "@dieu44/catalog-snapshot";
import { diff, formatText } from "@dieu44/drift-diff";

const [beforeDb, afterDb, schema] = process.argv.slice(2);
const take = (database) =>
  snapshot(
    { url: `postgres://${process.env.PGHOST}:${process.env.PGPORT}/${database}`, env: process.env },
    { schemas: [schema] },
  );
const [before, after] = await Promise.all([take(beforeDb), take(afterDb)]);
const result = diff(before, after);
process.stdout.write(formatText(result));
process.exitCode = result.identical ? 0 : 1;
