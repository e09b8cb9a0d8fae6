// The floor under one catalog-snapshot: the same connections and catalog queries (two connections
// sharing an exported snapshot, the table queries split in two), with every row decoded by pg and
// dropped. Nothing is built, composed, sorted, serialised or written.
//   PGHOST=... PGPORT=... PGUSER=... PGPASSWORD=... node bench/helpers/snapshot-floor.mjs DB SCHEMA
import pg from "pg";
import * as queries from "../../packages/catalog-snapshot/dist/queries.js";

const [database, schema] = process.argv.slice(2);
const connect = async () => {
  const client = new pg.Client({ database });
  await client.connect();
  return client;
};
const drop = (client, text, values) =>
  new Promise((resolve, reject) => {
    const query = client.query(new pg.Query({ text, values, rowMode: "array" }));
    query.on("row", () => undefined);
    query.once("error", reject);
    query.once("end", resolve);
  });
const [leader, worker] = await Promise.all([connect(), connect()]);
const settings = queries.sessionSettingsSql(60_000, 10_000);
await leader.query(`BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY; ${settings}`);
const { id } = (await leader.query(queries.exportSnapshotQuery)).rows[0];
await worker.query(`BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY; SET TRANSACTION SNAPSHOT '${id}'; ${settings}`);
const version = (await leader.query(queries.serverInfoQuery)).rows[0].server_version_num;
const namespaces = (await leader.query(queries.namespacesQuery, [[schema]])).rows.map((row) => row.oid);
const members = (await leader.query(queries.extensionMembersQuery)).rows[0];
await leader.query(queries.definitionFactsQuery);
const partition = async (client, part) => {
  const scope = [namespaces, 2, part, members.relations];
  for (const text of [
    queries.tablesQuery,
    queries.columnsQuery,
    queries.defaultsQuery,
    queries.indexesQuery(version),
    queries.constraintsQuery(version),
    queries.triggersQuery,
  ]) {
    await drop(client, text, scope);
  }
};
await Promise.all([partition(leader, 0), partition(worker, 1)]);
await Promise.all([leader.end(), worker.end()]);
