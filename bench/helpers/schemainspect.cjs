// @pgkit/schemainspect has no command line ("not implemented yet. Use the library directly"), so
// this is the smallest program a user would write: inspect one schema, write the inspection as JSON
// (the document @pgkit/migra itself reads back with PostgreSQL.fromJSON).
//   node bench/helpers/schemainspect.cjs URL SCHEMA OUT.json
const { writeFileSync } = require("node:fs");
const { join } = require("node:path");
const { createRequire } = require("node:module");

const tools = createRequire(join(__dirname, "..", ".work", "tools", "package.json"));
const { createClient } = tools("@pgkit/client");
const { get_inspector } = tools("@pgkit/schemainspect");

async function main() {
  const [url, schema, out] = process.argv.slice(2);
  const client = createClient(url);
  try {
    const inspected = await get_inspector(client, schema);
    writeFileSync(out, JSON.stringify(inspected.toJSON()));
  } finally {
    await client.end();
  }
}

main().catch((error) => {
  process.stderr.write(`${error.stack ?? error}\n`);
  process.exitCode = 1;
});
