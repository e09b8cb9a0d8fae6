/**
 * Real snapshots of the simulated production (harness servers, PG 15 and 18): the approved
 * artifact applied by psql as workflow_admin, and variants of it that each add one thing.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type CatalogSnapshot, snapshot } from "@dieu44/catalog-snapshot";
import { bootstrapFixture, FIXTURE_DIR, query, runPsql, type ServerInfo, serverUrl, testServers } from "@dieu44/test-harness";
import { describe, expect, it } from "vitest";
import { check, diff, ExpectedDeltaSchema } from "../src/index.js";
import { CatalogDiffSchema, ExpectationResultSchema } from "../src/schema.js";

const BIN = fileURLToPath(new URL("../bin/drift-diff.js", import.meta.url));
const EXPECT_FILE = fileURLToPath(new URL("./fixtures/ws-q5.expected-delta.json", import.meta.url));
const expectation = ExpectedDeltaSchema.parse(JSON.parse(readFileSync(EXPECT_FILE, "utf8")));
const ARTIFACT = readFileSync(join(FIXTURE_DIR, "ws-q5-registry-substrate-ddl.sql"), "utf8");
const SNAPSHOT_OPTIONS = { privilegesFor: ["directus", "workflow_admin"] };

function take(server: ServerInfo, database: string): Promise<CatalogSnapshot> {
  // Every non-system schema, so a change in another schema is visible to the diff.
  return snapshot({ url: serverUrl(server, { database }), env: {} }, SNAPSHOT_OPTIONS);
}

/** Applies SQL with psql as workflow_admin, as the procedure does. */
function applyAsWorkflowAdmin(server: ServerInfo, database: string, sql: string): void {
  const dir = mkdtempSync(join(tmpdir(), "drift-diff-apply-"));
  const file = join(dir, "artifact.sql");
  writeFileSync(file, sql);
  const result = runPsql(server, ["-q", "-f", file], { database, user: "workflow_admin" });
  expect(result.stderr).toBe("");
  expect(result.status).toBe(0);
}

/** The artifact with extra statements run inside its transaction. */
function withBeforeCommit(extra: string): string {
  expect(ARTIFACT).toContain("\nCOMMIT;");
  return ARTIFACT.replace("\nCOMMIT;", `\n${extra}\n\nCOMMIT;`);
}

function replaced(from: string, to: string): string {
  expect(ARTIFACT).toContain(from);
  return ARTIFACT.replace(from, to);
}

/** Before and after snapshots around an artifact applied to a fresh fixture database. */
async function around(server: ServerInfo, artifact: string, setup?: string) {
  const database = await bootstrapFixture(server);
  if (setup) await query(server, setup, { database });
  const before = await take(server, database);
  applyAsWorkflowAdmin(server, database, artifact);
  const after = await take(server, database);
  return { database, before, after };
}

function runCli(args: string[]) {
  const result = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8" });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function writeJson(value: unknown): string {
  const file = join(mkdtempSync(join(tmpdir(), "drift-diff-doc-")), "doc.json");
  writeFileSync(file, JSON.stringify(value));
  return file;
}

const variants: { name: string; artifact: () => string; setup?: string; violations: string[] }[] = [
  {
    name: "a DEFAULT",
    artifact: () =>
      replaced(
        "  title text NOT NULL,\n  created_at timestamptz NOT NULL,",
        "  title text NOT NULL,\n  created_at timestamptz NOT NULL DEFAULT now(),",
      ),
    violations: ["must-not-change cutter_governance.registry_namespace.column:created_at.default"],
  },
  {
    name: "a CHECK",
    artifact: () => replaced("  is_required boolean NOT NULL\n", "  is_required boolean NOT NULL CHECK (name <> '')\n"),
    violations: ["must-not-change cutter_governance.registry_attribute.constraint:registry_attribute_name_check"],
  },
  {
    name: "a trigger",
    artifact: () =>
      withBeforeCommit(
        "CREATE TRIGGER registry_entity_noop BEFORE UPDATE ON cutter_governance.registry_entity\n" +
          "  FOR EACH ROW EXECUTE FUNCTION suppress_redundant_updates_trigger();",
      ),
    violations: ["must-not-change cutter_governance.registry_entity.trigger:registry_entity_noop"],
  },
  {
    name: "an enum",
    artifact: () => withBeforeCommit("CREATE TYPE cutter_governance.registry_state AS ENUM ('draft', 'published');"),
    violations: ["must-not-change enum:cutter_governance.registry_state"],
  },
  {
    name: "an extra index",
    artifact: () => withBeforeCommit("CREATE INDEX registry_entity_label_idx ON cutter_governance.registry_entity (label);"),
    violations: ["must-not-change cutter_governance.registry_entity.index:registry_entity_label_idx"],
  },
  {
    name: "a thirteenth table",
    artifact: () =>
      withBeforeCommit("CREATE TABLE cutter_governance.registry_extra (\n  extra_id bigint PRIMARY KEY,\n  note text\n);"),
    violations: ["unexpected-table cutter_governance.registry_extra"],
  },
  {
    name: "a table in another schema",
    setup: "CREATE SCHEMA side_channel AUTHORIZATION workflow_admin",
    artifact: () => withBeforeCommit("CREATE TABLE side_channel.registry_shadow (\n  shadow_id bigint PRIMARY KEY\n);"),
    violations: ["outside-scope side_channel.registry_shadow"],
  },
  {
    // What sql-lint's serial variant relies on: a serial column is a DEFAULT and a sequence.
    name: "a serial column",
    artifact: () => replaced("  checkpoint_id bigint PRIMARY KEY,", "  checkpoint_id bigserial PRIMARY KEY,"),
    violations: [
      "must-not-change cutter_governance.registry_checkpoint.column:checkpoint_id.default",
      "must-not-change sequence:cutter_governance.registry_checkpoint_checkpoint_id_seq",
    ],
  },
];

describe.each(testServers().map((server) => [server.label, server] as const))("ws-q5 on %s", (_label, server) => {
  it("the reference artifact meets the fixture's expected delta (library and CLI)", async () => {
    const { before, after } = await around(server, ARTIFACT);
    const delta = diff(before, after);
    expect(delta.sameCluster).toBe(true);
    expect(delta.summary.byKind).toEqual({
      table: { added: 12, removed: 0, changed: 0 },
      column: { added: 47, removed: 0, changed: 0 },
      primary_key: { added: 12, removed: 0, changed: 0 },
      foreign_key: { added: 8, removed: 0, changed: 0 },
      unique: { added: 4, removed: 0, changed: 0 },
    });
    const result = check(delta, expectation);
    expect(result.violations).toEqual([]);
    expect(result.pass).toBe(true);

    const beforeFile = writeJson(before);
    const afterFile = writeJson(after);
    const cli = runCli([beforeFile, afterFile, "--expect", EXPECT_FILE]);
    expect(cli.stderr).toBe("");
    expect(cli.status).toBe(0);
    expect(ExpectationResultSchema.parse(JSON.parse(cli.stdout)).pass).toBe(true);
    const plain = runCli([beforeFile, afterFile]);
    expect(plain.status).toBe(1);
    expect(CatalogDiffSchema.parse(JSON.parse(plain.stdout)).summary.total.added).toBe(83);
  });

  it.each(variants)("a variant that adds $name fails with exactly that violation", async (variant) => {
    const { before, after } = await around(server, variant.artifact(), variant.setup);
    const result = check(diff(before, after), expectation);
    expect(result.pass).toBe(false);
    expect(result.violations.map((v) => `${v.rule} ${v.identity}`)).toEqual(variant.violations);
  });

  it("reports a changed column type, a dropped constraint and a changed privilege with before and after", async () => {
    const database = await bootstrapFixture(server);
    const before = await take(server, database);
    await query(
      server,
      `ALTER TABLE cutter_governance.governance_law ALTER COLUMN title TYPE varchar(200);
       ALTER TABLE cutter_governance.governance_article DROP CONSTRAINT governance_article_law_id_article_no_key;
       GRANT INSERT ON cutter_governance.governance_law TO directus;`,
      { database },
    );
    const after = await take(server, database);
    const delta = diff(before, after);
    const byIdentity = new Map(delta.changes.map((change) => [change.identity, change]));
    expect(byIdentity.get("cutter_governance.governance_law.column:title")).toMatchObject({
      change: "changed",
      objectKind: "column",
      fields: [{ field: "type", before: "text", after: "character varying(200)" }],
    });
    expect(
      byIdentity.get("cutter_governance.governance_article.constraint:governance_article_law_id_article_no_key"),
    ).toMatchObject({
      change: "removed",
      objectKind: "unique",
      before: { definition: "UNIQUE (law_id, article_no)" },
      after: null,
    });
    expect(byIdentity.get("cutter_governance.governance_law.privilege:directus(by workflow_admin)")).toMatchObject({
      change: "changed",
      objectKind: "privilege",
      fields: [{ field: "privileges", before: ["SELECT"], after: ["INSERT", "SELECT"] }],
    });
    expect(delta.changes).toHaveLength(3);
  });

  it("two snapshots of an unchanged database give no changes and exit 0", async () => {
    const database = await bootstrapFixture(server);
    const first = await take(server, database);
    const second = await take(server, database);
    const delta = diff(first, second);
    expect(delta.identical).toBe(true);
    expect(delta.changes).toEqual([]);
    const cli = runCli([writeJson(first), writeJson(second), "--format", "text"]);
    expect(cli.status).toBe(0);
    expect(cli.stdout).toMatch(/\nno changes\n$/);
  });
});

describe("snapshots of two clusters", () => {
  it("are refused unless --allow-different-clusters is given", async () => {
    const servers = testServers();
    if (servers.length < 2) return;
    const [first, second] = servers as [ServerInfo, ServerInfo];
    const [a, b] = await Promise.all([bootstrapFixture(first), bootstrapFixture(second)]);
    const files = [writeJson(await take(first, a)), writeJson(await take(second, b))];
    const refused = runCli(files);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain(
      `drift-diff: the snapshots come from different clusters (system identifier ${first.systemIdentifier} before, ${second.systemIdentifier} after)`,
    );
    expect(refused.stdout).toBe("");
    const allowed = runCli([...files, "--allow-different-clusters", "--scope-schema", "cutter_governance"]);
    expect([0, 1]).toContain(allowed.status);
    expect(CatalogDiffSchema.parse(JSON.parse(allowed.stdout)).sameCluster).toBe(false);
  });
});
