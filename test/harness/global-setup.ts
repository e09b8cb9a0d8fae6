/**
 * vitest globalSetup: starts one real PostgreSQL cluster per requested major version (default
 * 15 and 18) before the tests, and stops them afterwards, also when tests fail. With
 * DIEU44_TEST_PG_URL set, the suite uses that existing server instead (a superuser URL).
 */
import { type Cluster, startCluster } from "@dieu44/ephemeral-pg";
import pg from "pg";
import type { TestProject } from "vitest/node";
import { FIXTURE_ROLES, type ServerInfo } from "./servers.js";

async function describeServer(url: string, label: string, external: boolean): Promise<ServerInfo> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ num: string; ident: string; version: string }>(
      `select current_setting('server_version_num') as num, current_setting('server_version') as version,
              (select system_identifier::text from pg_control_system()) as ident`,
    );
    const row = rows[0];
    if (!row) throw new Error("no server info");
    // Cluster-wide roles the fixture needs, created once here so parallel test files never race.
    for (const role of FIXTURE_ROLES) {
      const exists = await client.query("select 1 from pg_roles where rolname = $1", [role.name]);
      const verb = exists.rowCount ? "alter" : "create";
      await client.query(`${verb} role ${role.name} login password '${role.password}'`);
    }
    const parsed = new URL(url);
    return {
      label,
      external,
      url,
      host: parsed.hostname,
      port: Number(parsed.port || 5432),
      superuser: decodeURIComponent(parsed.username),
      superuserPassword: decodeURIComponent(parsed.password),
      serverVersionNum: Number(row.num),
      serverVersion: row.version,
      major: Math.floor(Number(row.num) / 10000),
      systemIdentifier: row.ident,
    };
  } finally {
    await client.end();
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const clusters: Cluster[] = [];
  const stopAll = async () => {
    await Promise.allSettled(clusters.map((cluster) => cluster.stop()));
  };
  try {
    const servers: ServerInfo[] = [];
    const external = process.env.DIEU44_TEST_PG_URL;
    if (external) {
      servers.push(await describeServer(external, "external", true));
    } else {
      const majors = (process.env.DIEU44_TEST_PG_MAJORS ?? "15,18").split(",").map((m) => Number(m.trim()));
      const started = await Promise.all(majors.map((major) => startCluster({ major })));
      clusters.push(...started);
      for (const cluster of started) {
        servers.push(await describeServer(cluster.url(), `pg${cluster.major}-${cluster.source}`, false));
      }
    }
    project.provide("dieu44Servers", servers);
  } catch (error) {
    await stopAll();
    throw error;
  }
  return stopAll;
}
