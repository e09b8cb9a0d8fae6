/**
 * The Điều 44 procedure end to end on the harness's real server: each test asserts the catalog
 * afterwards and the report's fields, for every branch of the seed's failure tree.
 */

import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Plan, runProcedure } from "@dieu44/dieu44";
import {
  bootstrapFixture,
  catalogState,
  dumpableServers,
  FIXTURE_DIR,
  query,
  REPO_ROOT,
  type ServerInfo,
  serverUrl,
} from "@dieu44/test-harness";
import { describe, expect, it } from "vitest";

const ARTIFACT = join(FIXTURE_DIR, "ws-q5-registry-substrate-ddl.sql");
const sha256 = (bytes: Buffer | string) => createHash("sha256").update(bytes).digest("hex");

function fixturePlan(file: "plan.json" | "plan-attempt-1.json"): Plan {
  return JSON.parse(readFileSync(join(FIXTURE_DIR, file), "utf8")) as Plan;
}

/** A first apply of the same package: no earlier attempt to compare with. */
const firstApply = (plan: Plan) => {
  delete plan.reauthorization;
};

/** A plan for this test's database and cluster, written to a temporary folder. */
function writePlan(server: ServerInfo, database: string, file: "plan.json" | "plan-attempt-1.json", edit?: (plan: Plan) => void) {
  const dir = mkdtempSync(join(tmpdir(), "dieu44-e2e-"));
  const plan = fixturePlan(file);
  plan.target.systemIdentifier = server.systemIdentifier;
  plan.target.database = database;
  plan.artifact.path = join(FIXTURE_DIR, plan.artifact.path);
  plan.rollback.path = join(FIXTURE_DIR, plan.rollback.path);
  edit?.(plan);
  const planPath = join(dir, file);
  writeFileSync(planPath, JSON.stringify(plan, null, 2));
  return { dir, planPath, plan };
}

async function registryTables(server: ServerInfo, database: string): Promise<string[]> {
  const rows = await query<{ name: string }>(
    server,
    "select tablename as name from pg_tables where schemaname = 'cutter_governance' and tablename like 'registry\\_%' order by 1",
    { database },
  );
  return rows.map((row) => row.name);
}

function run(
  server: ServerInfo,
  database: string,
  planPath: string,
  role: string,
  extra: Partial<Parameters<typeof runProcedure>[0]> = {},
) {
  return runProcedure({
    mode: "run",
    planPath,
    evidenceDir: join(mkdtempSync(join(tmpdir(), "dieu44-evidence-")), "evidence"),
    backupDir: mkdtempSync(join(tmpdir(), "dieu44-backups-")),
    connection: { url: serverUrl(server, { database, user: role }), env: {} },
    ...extra,
  });
}

function report(outcome: Awaited<ReturnType<typeof runProcedure>>): string {
  return readFileSync(join(outcome.evidenceDir, outcome.result.files.report), "utf8");
}

const servers = dumpableServers();

describe.skipIf(servers.length === 0)("dieu44 run", () => {
  for (const server of servers) {
    describe(server.label, () => {
      it("PASS: the reauthorized run as workflow_admin creates exactly the 12 tables", async () => {
        const database = await bootstrapFixture(server);
        const { planPath, plan } = writePlan(server, database, "plan.json", firstApply);
        const outcome = await run(server, database, planPath, "workflow_admin");
        expect(outcome.result.status).toBe("PASS");
        expect(outcome.exitCode).toBe(0);
        expect(await registryTables(server, database)).toEqual([...plan.target.tables].sort());
        expect(outcome.result.reportFields).toMatchObject({
          reauthorized_apply_status: "PASS",
          apply_role_used: "workflow_admin",
          preflight_rerun_result: "PASS",
          fresh_backup_status: "PASS",
          command_integrity_result: "PASS",
          tables_created: 12,
          rollback_status_if_any: "not_required",
        });
        expect(outcome.result.reportFields.verification_summary).toMatch(/\+12 tables, \+12 PK, \+8 FK, \+4 UNIQUE/);
        expect(report(outcome)).toMatch(/reauthorized_apply_status: PASS/);
        // The evidence never carries the role's password.
        const manifest = readFileSync(join(outcome.evidenceDir, "manifest.json"), "utf8");
        for (const file of JSON.parse(manifest).files as { name: string }[]) {
          expect(readFileSync(join(outcome.evidenceDir, file.name), "utf8")).not.toContain("wa-test-secret-4711");
        }
      });

      it("BLOCKED at preflight as directus: no CREATE on the schema, zero objects created", async () => {
        const database = await bootstrapFixture(server);
        const before = await catalogState(server, database);
        const { planPath } = writePlan(server, database, "plan-attempt-1.json");
        const outcome = await run(server, database, planPath, "directus");
        expect(outcome.result.status).toBe("BLOCKED");
        expect(outcome.exitCode).toBe(1);
        expect(outcome.result.steps.map((step) => [step.id, step.status])).toEqual([
          ["P1_preflight", "failed"],
          ["P2_fresh_backup", "not_run"],
          ["P3_command_integrity", "not_run"],
          ["apply", "not_run"],
          ["verification", "not_run"],
          ["rollback", "not_run"],
        ]);
        expect(outcome.result.verdict).toMatchObject({
          production_changed: false,
          tables_created: 0,
          rollback_required: false,
          root_cause: "apply_role_lacks_CREATE_on_schema",
          DDL_defect: false,
          schema_drift: false,
        });
        expect(await catalogState(server, database)).toEqual(before);
        expect(report(outcome)).toMatch(/root_cause: apply_role_lacks_CREATE_on_schema/);
      });

      it("preflight is read-only (P1 and P3); rehearse applies, verifies and rolls back", async () => {
        const database = await bootstrapFixture(server);
        const before = await catalogState(server, database);
        const { planPath } = writePlan(server, database, "plan.json", firstApply);
        const checked = await run(server, database, planPath, "workflow_admin", { mode: "preflight" });
        expect(checked.result.status).toBe("PASS");
        expect(checked.result.steps.map((step) => step.id)).toEqual(["P1_preflight", "P3_command_integrity"]);
        const rehearsed = await run(server, database, planPath, "workflow_admin", { mode: "rehearse" });
        expect(rehearsed.result.status).toBe("PASS");
        const applyLog = JSON.parse(readFileSync(join(rehearsed.evidenceDir, "apply-log.json"), "utf8"));
        expect(applyLog).toMatchObject({ dryRun: true, outcome: "rolled_back" });
        expect(applyLog.verification.passed).toBe(true);
        expect(rehearsed.result.files.report).toMatch(/^rehearse-/);
        expect(readFileSync(join(rehearsed.evidenceDir, rehearsed.result.files.report), "utf8")).toMatch(/Rehearsal only/);
        expect(await catalogState(server, database)).toEqual(before);
      });

      it("CLI: a bad plan exits 2; an unreachable server exits 3 without showing the password", () => {
        const cli = join(REPO_ROOT, "apps/dieu44/bin/dieu44.js");
        const missing = spawnSync(process.execPath, [cli, "run", "--plan", "/nonexistent/plan.json"], { encoding: "utf8" });
        expect(missing.status).toBe(2);
        expect(missing.stderr).toMatch(/dieu44: .*plan\.json: cannot read plan/);
        const { planPath } = writePlan(server, "cutter_prod", "plan.json");
        const evidence = mkdtempSync(join(tmpdir(), "dieu44-unreachable-"));
        const secret = "unreachable-Secret-77";
        const down = spawnSync(
          process.execPath,
          [
            cli,
            "run",
            "--plan",
            planPath,
            "--evidence",
            evidence,
            "--url",
            `postgres://workflow_admin:${secret}@127.0.0.1:1/cutter_prod`,
          ],
          { encoding: "utf8", env: { ...process.env, PGPASSWORD: "pgpassword-Secret-78" } },
        );
        expect(down.status).toBe(3);
        expect(down.stdout).toMatch(/BLOCKED/);
        const written = readdirSync(evidence).map((name) => readFileSync(join(evidence, name), "utf8"));
        for (const text of [down.stdout, down.stderr, ...written]) {
          expect(text).not.toContain(secret);
          expect(text).not.toContain("pgpassword-Secret-78");
        }
      });

      it("BLOCKED on the wrong cluster", async () => {
        const database = await bootstrapFixture(server);
        const { planPath } = writePlan(server, database, "plan.json", (plan) => {
          firstApply(plan);
          plan.target.systemIdentifier = "7611578671664259111";
        });
        const outcome = await run(server, database, planPath, "workflow_admin");
        expect(outcome.result.status).toBe("BLOCKED");
        expect(outcome.result.verdict?.root_cause).toBe("wrong_cluster_system_identifier_mismatch");
        expect(await registryTables(server, database)).toEqual([]);
      });

      it("the reauthorized rerun after the blocked attempt passes; drift since that attempt blocks it", async () => {
        const database = await bootstrapFixture(server);
        const first = await run(server, database, writePlan(server, database, "plan-attempt-1.json").planPath, "directus");
        expect(first.result.status).toBe("BLOCKED");

        // The reauthorized plan without the previous attempt's evidence cannot prove "no drift since".
        const withoutPrevious = await run(server, database, writePlan(server, database, "plan.json").planPath, "workflow_admin");
        expect(withoutPrevious.result.status).toBe("BLOCKED");
        expect(withoutPrevious.result.verdict?.root_cause).toBe("previous_attempt_evidence_missing");

        // Evidence of the previous attempt that does not match its manifest is bad input (exit 2).
        const forged = mkdtempSync(join(tmpdir(), "dieu44-forged-"));
        cpSync(first.evidenceDir, forged, { recursive: true });
        writeFileSync(
          join(forged, "snapshot-before.json"),
          readFileSync(join(forged, "snapshot-before.json"), "utf8").replace("governance_law", "governance_lax"),
        );
        await expect(
          run(server, database, writePlan(server, database, "plan.json").planPath, "workflow_admin", { previousDir: forged }),
        ).rejects.toThrow(/does not match the previous attempt's manifest/);

        // Drift: someone changes the schema between the attempts.
        await query(server, "alter table cutter_governance.governance_law add column note text", { database });
        const drifted = await run(server, database, writePlan(server, database, "plan.json").planPath, "workflow_admin", {
          previousDir: first.evidenceDir,
        });
        expect(drifted.result.status).toBe("BLOCKED");
        expect(drifted.result.verdict).toMatchObject({
          root_cause: "schema_drift_since_previous_attempt",
          schema_drift: true,
          production_changed: false,
        });
        expect(await registryTables(server, database)).toEqual([]);

        await query(server, "alter table cutter_governance.governance_law drop column note", { database });
        const rerun = await run(server, database, writePlan(server, database, "plan.json").planPath, "workflow_admin", {
          previousDir: first.evidenceDir,
        });
        expect(rerun.result.status).toBe("PASS");
        expect(await registryTables(server, database)).toHaveLength(12);

        // A rerun after success is blocked: the tables exist.
        const again = await run(server, database, writePlan(server, database, "plan.json").planPath, "workflow_admin", {
          previousDir: first.evidenceDir,
        });
        expect(again.result.status).toBe("BLOCKED");
        expect(again.result.verdict?.root_cause).toBe("target_tables_already_exist");
        expect(await registryTables(server, database)).toHaveLength(12);
      });

      it("BLOCKED at P3: a tampered artifact, and a plan that changes more than the role", async () => {
        const database = await bootstrapFixture(server);
        const first = await run(server, database, writePlan(server, database, "plan-attempt-1.json").planPath, "directus");
        const tamperedDir = mkdtempSync(join(tmpdir(), "dieu44-tampered-"));
        const tampered = join(tamperedDir, "artifact.sql");
        writeFileSync(tampered, readFileSync(ARTIFACT, "utf8").replace("label text NOT NULL", "label text NOT NULL DEFAULT ''"));
        const tamperedRun = await run(
          server,
          database,
          writePlan(server, database, "plan.json", (plan) => {
            firstApply(plan);
            plan.artifact.path = tampered;
          }).planPath,
          "workflow_admin",
        );
        expect(tamperedRun.result.status).toBe("BLOCKED");
        expect(tamperedRun.result.steps.find((step) => step.id === "P3_command_integrity")?.status).toBe("failed");
        expect(tamperedRun.result.verdict?.root_cause).toBe("artifact_is_not_the_approved_one");

        const widened = await run(
          server,
          database,
          writePlan(server, database, "plan.json", (plan) => {
            plan.backup.maxAge = "7d";
          }).planPath,
          "workflow_admin",
          { previousDir: first.evidenceDir },
        );
        expect(widened.result.status).toBe("BLOCKED");
        expect(widened.result.verdict?.root_cause).toBe("plan_changed_beyond_reauthorization");
        expect(await registryTables(server, database)).toEqual([]);
      });

      it("FAIL: an apply that fails mid-way leaves the catalog verified unchanged", async () => {
        const database = await bootstrapFixture(server);
        const before = await catalogState(server, database);
        const dir = mkdtempSync(join(tmpdir(), "dieu44-midway-"));
        const broken = join(dir, "artifact.sql");
        // The sixth table's foreign key names a column without a unique constraint: only the server can tell.
        const text = readFileSync(ARTIFACT, "utf8").replace(
          "REFERENCES cutter_governance.registry_entity (entity_id) ON DELETE RESTRICT",
          "REFERENCES cutter_governance.registry_entity (label) ON DELETE RESTRICT",
        );
        writeFileSync(broken, text);
        const { planPath } = writePlan(server, database, "plan.json", (plan) => {
          firstApply(plan);
          plan.artifact.path = broken;
          plan.artifact.sha256 = sha256(text);
        });
        const outcome = await run(server, database, planPath, "workflow_admin");
        expect(outcome.result.status).toBe("FAIL");
        expect(outcome.result.reportFields.rollback_status_if_any).toBe("transaction_rolled_back");
        expect(outcome.result.verdict).toMatchObject({
          production_changed: false,
          tables_created: 0,
          root_cause: "apply_error_SQLSTATE_42830",
        });
        expect(await catalogState(server, database)).toEqual(before);
      });

      it("STOP_AND_ESCALATE: committed, verification fails, and something outside depends on the new tables", async () => {
        const database = await bootstrapFixture(server);
        // Production does something the artifact does not say: a view on every new table.
        await query(
          server,
          `create function public.add_view() returns event_trigger language plpgsql as $$
           declare obj record;
           begin
             for obj in select * from pg_event_trigger_ddl_commands() where command_tag = 'CREATE TABLE' loop
               execute format('create view %s_v as select * from %s', obj.object_identity, obj.object_identity);
             end loop;
           end $$;
           create event trigger add_view on ddl_command_end when tag in ('CREATE TABLE') execute function public.add_view();`,
          { database },
        );
        const { planPath } = writePlan(server, database, "plan.json", firstApply);
        const outcome = await run(server, database, planPath, "workflow_admin", { verifyBeforeCommit: false });
        expect(outcome.result.status).toBe("STOP_AND_ESCALATE");
        expect(outcome.exitCode).toBe(1);
        expect(outcome.result.reportFields).toMatchObject({
          reauthorized_apply_status: "FAIL",
          rollback_status_if_any: "escalated",
        });
        expect(outcome.result.verdict).toMatchObject({
          production_changed: true,
          rollback_required: true,
          root_cause: "verification_failed_rollback_unsafe",
        });
        const rollback = outcome.result.steps.find((step) => step.id === "rollback");
        expect(rollback?.status).toBe("skipped");
        expect(rollback?.checks.find((check) => check.name.startsWith("nothing outside"))?.actual).toMatch(/view/);
        // Nothing was undone: the escalation leaves production exactly as the commit left it.
        expect(await registryTables(server, database)).toHaveLength(12);
      });

      it("ROLLED_BACK: committed, verification fails, the rollback package restores the before-catalog", async () => {
        const database = await bootstrapFixture(server);
        // Something in production the artifact does not say: an event trigger adding a DEFAULT column.
        await query(
          server,
          `create function public.add_audit_column() returns event_trigger language plpgsql as $$
           declare obj record;
           begin
             for obj in select * from pg_event_trigger_ddl_commands() where command_tag = 'CREATE TABLE' loop
               execute format('alter table %s add column audited_at timestamptz default now()', obj.object_identity);
             end loop;
           end $$;
           create event trigger add_audit_column on ddl_command_end when tag in ('CREATE TABLE')
             execute function public.add_audit_column();`,
          { database },
        );
        const before = await catalogState(server, database);
        const { planPath } = writePlan(server, database, "plan.json", firstApply);
        const outcome = await run(server, database, planPath, "workflow_admin", { verifyBeforeCommit: false });
        expect(outcome.result.status).toBe("ROLLED_BACK");
        expect(outcome.exitCode).toBe(1);
        expect(outcome.result.reportFields.rollback_status_if_any).toBe("rollback_package_applied");
        expect(outcome.result.verdict).toMatchObject({ rollback_required: true, tables_created: 0 });
        expect(await catalogState(server, database)).toEqual(before);
        expect(await registryTables(server, database)).toEqual([]);
      });
    });
  }
});
