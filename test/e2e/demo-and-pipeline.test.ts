/**
 * The README's main job (`dieu44 demo`) and the same procedure as a shell pipeline of the six
 * tools, whose verification must agree with the app's.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runProcedure } from "@dieu44/dieu44";
import { bootstrapFixture, dumpableServers, FIXTURE_DIR, query, REPO_ROOT, rolePassword, serverUrl } from "@dieu44/test-harness";
import { describe, expect, it } from "vitest";

const servers = dumpableServers();

describe.skipIf(servers.length === 0)("the main job", () => {
  it("dieu44 demo prints two evidence folders whose reports say BLOCKED and PASS", () => {
    const out = mkdtempSync(join(tmpdir(), "dieu44-demo-"));
    const result = spawnSync(process.execPath, [join(REPO_ROOT, "apps/dieu44/bin/dieu44.js"), "demo", "--out", out], {
      encoding: "utf8",
      cwd: out,
    });
    expect(result.stderr).not.toMatch(/Error|at .*\.js:\d+/);
    expect(result.status).toBe(0);
    const reports = [...result.stdout.matchAll(/report:\s+(\S+\.md)/g)].map((match) =>
      readFileSync(join(out, match[1] as string), "utf8"),
    );
    expect(reports).toHaveLength(2);
    expect(reports[0]).toMatch(/reauthorized_apply_status: BLOCKED/);
    expect(reports[0]).toMatch(/root_cause: apply_role_lacks_CREATE_on_schema/);
    expect(reports[0]).toMatch(/production_changed: false/);
    expect(reports[1]).toMatch(/reauthorized_apply_status: PASS/);
    expect(reports[1]).toMatch(/tables_created: 12/);
    expect(result.stdout.match(/evidence: /g)).toHaveLength(2);
  });

  for (const server of servers) {
    it(`the shell pipeline of the six tools agrees with the app (${server.label})`, async () => {
      const viaApp = await bootstrapFixture(server);
      const viaPipeline = await bootstrapFixture(server);
      const planDir = mkdtempSync(join(tmpdir(), "dieu44-pipeline-"));
      const writePlan = (database: string) => {
        const plan = JSON.parse(readFileSync(join(FIXTURE_DIR, "plan.json"), "utf8"));
        plan.target.systemIdentifier = server.systemIdentifier;
        plan.target.database = database;
        plan.artifact.path = join(FIXTURE_DIR, plan.artifact.path);
        plan.rollback.path = join(FIXTURE_DIR, plan.rollback.path);
        delete plan.reauthorization; // a first apply: no earlier attempt to compare with
        const path = join(planDir, `${database}.json`);
        writeFileSync(path, JSON.stringify(plan));
        return path;
      };

      const app = await runProcedure({
        mode: "run",
        planPath: writePlan(viaApp),
        evidenceDir: join(planDir, "app-evidence"),
        backupDir: join(planDir, "app-backups"),
        connection: { url: serverUrl(server, { database: viaApp, user: "workflow_admin" }), env: {} },
      });
      expect(app.result.status).toBe("PASS");

      const out = join(planDir, "pipeline-evidence");
      const pipeline = spawnSync("bash", [join(REPO_ROOT, "examples/ws-q5-pipeline.sh"), writePlan(viaPipeline), out], {
        encoding: "utf8",
        env: {
          PATH: process.env.PATH,
          PGHOST: server.host,
          PGPORT: String(server.port),
          PGDATABASE: viaPipeline,
          PGUSER: "workflow_admin",
          PGPASSWORD: rolePassword("workflow_admin"),
        },
      });
      expect(pipeline.stderr).toMatch(/PASS: evidence in/);
      expect(pipeline.status).toBe(0);

      const appResult = JSON.parse(readFileSync(join(app.evidenceDir, "expectation-result.json"), "utf8"));
      const pipelineResult = JSON.parse(readFileSync(join(out, "expectation-result.json"), "utf8"));
      expect(pipelineResult.pass).toBe(true);
      expect(appResult.pass).toBe(true);
      expect(pipelineResult.found.tablesAdded).toEqual(appResult.found.tablesAdded);
      expect(pipelineResult.found.byKind).toEqual(appResult.found.byKind);
      const tables = async (database: string) =>
        (
          await query(
            server,
            "select count(*)::int as n from pg_tables where schemaname = 'cutter_governance' and tablename like 'registry\\_%'",
            { database },
          )
        )[0]?.n;
      expect(await tables(viaApp)).toBe(12);
      expect(await tables(viaPipeline)).toBe(12);
      expect(readFileSync(join(out, "verification-result.md"), "utf8").length).toBeGreaterThan(100);
    });
  }
});
