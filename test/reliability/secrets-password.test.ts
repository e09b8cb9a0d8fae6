/**
 * Secrets (issue 10): a distinctive password, set for a role created for this case, is used for
 * every connection of a full `dieu44 run` (--url) and a `dieu44 preflight` (PGPASSWORD), and for
 * the procedure's tools one by one (catalog-snapshot, backup-marker create and verify, tx-apply
 * --dry-run, with the password in --url and in PGPASSWORD), including failing connections (a
 * closed port, a wrong user) that exercise the error paths. Then every file written (evidence,
 * backups, outputs, the tools' TMPDIR) and all stdout and stderr are searched for the password,
 * URL-encoded, base64 and base64url: zero hits.
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Plan } from "@dieu44/dieu44";
import {
  cleanEnv,
  createDatabase,
  dumpableServers,
  FIXTURE_DIR,
  query,
  REPO_ROOT,
  runNodeCli,
  serverUrl,
} from "@dieu44/test-harness";
import { afterAll, describe, expect, it } from "vitest";
import { type Figure, recordCase } from "./record.js";

const bin = (pkg: string) => join(REPO_ROOT, pkg === "dieu44" ? "apps/dieu44/bin/dieu44.js" : `packages/${pkg}/bin/${pkg}.js`);
/** Nothing listens on this port: connections to it fail at once. */
const CLOSED_PORT = 9;
/** A host name that cannot resolve (the .invalid top-level domain is reserved for that). */
const WRONG_HOST = "no-such-host.invalid";

/** Every form the password could leak in. */
export function secretForms(secret: string): Map<string, string> {
  const forms = new Map<string, string>([
    ["raw", secret],
    ["URL-encoded", encodeURIComponent(secret)],
    ["base64", Buffer.from(secret).toString("base64")],
    ["base64url", Buffer.from(secret).toString("base64url")],
  ]);
  // The distinctive part alone: a leak cut short at a special character is still a leak.
  forms.set("distinctive part", secret.split("-@")[0]!);
  return forms;
}

/** Every regular file under a folder. */
function filesUnder(dir: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...filesUnder(path));
    else if (entry.isFile()) files.push(path);
  }
  return files;
}

describe.skipIf(dumpableServers().length === 0)("a distinctive password never appears in any output", () => {
  const server = dumpableServers()[0]!;
  const work = mkdtempSync(join(tmpdir(), "dieu44-secrets-"));
  // Characters that URLs must encode, so the encoded form differs from the raw one.
  const password = `Dieu44-Secret-${randomBytes(8).toString("hex")}-@:/%`;
  const role = `secret_apply_${randomBytes(3).toString("hex")}`;
  const outputs: { command: string; status: number | null; stdout: string; stderr: string }[] = [];
  const unexpected: string[] = [];
  const hits: string[] = [];
  let filesSearched = 0;
  let bytesSearched = 0;
  let searched = false;
  const startedAt = Date.now();

  afterAll(() => {
    const zero = (label: string, value: number): Figure => ({ label, value, required: "0", ok: searched && value === 0 });
    const streams = outputs.reduce((total, output) => total + output.stdout.length + output.stderr.length, 0);
    recordCase({
      id: "secrets-password",
      title: "Secrets: a distinctive password in no output",
      runs: outputs.length,
      figures: [
        { label: "commands run with the password (incl. failing connections)", value: outputs.length, ok: true },
        { label: "files searched", value: filesSearched, ok: searched },
        { label: "bytes searched (files + stdout/stderr)", value: bytesSearched + streams, ok: searched },
        zero("secret hits (raw, URL-encoded, base64, base64url, distinctive part)", hits.length),
        zero("commands with an unexpected exit code", unexpected.length),
      ],
      findings: [
        `Role ${role} on PostgreSQL ${server.serverVersion}, password of the form Dieu44-Secret-<16 hex>-@:/% (URL-special characters). Commands: ${outputs.map((output) => `${output.command} → ${output.status}`).join("; ")}.`,
        ...hits.slice(0, 10).map((hit) => `Hit: ${hit}`),
        ...unexpected.slice(0, 10),
        `Wall time of the case: ${((Date.now() - startedAt) / 1000).toFixed(1)} s.`,
      ],
    });
    rmSync(work, { recursive: true, force: true });
  });

  it("through a full dieu44 run, a preflight, the tools one by one and failing connections", async () => {
    // A ws-q5 production whose schema owner is this case's role (the fixture with the role renamed).
    await query(server, `create role ${role} login password '${password}'`);
    const database = await createDatabase(server, "secrets");
    const bootstrap = readFileSync(join(FIXTURE_DIR, "bootstrap.sql"), "utf8").replaceAll("workflow_admin", role);
    await query(server, bootstrap, { database });

    const dir = (name: string) => {
      const path = join(work, name);
      mkdirSync(path, { recursive: true });
      return path;
    };
    const tmp = dir("tmp");
    const url = serverUrl(server, { database, user: role, password });
    const closedUrl = url.replace(`:${server.port}/`, `:${CLOSED_PORT}/`);
    const wrongUserUrl = serverUrl(server, { database, user: `${role}_nobody`, password });
    const wrongHostUrl = url.replace(`@${server.host}:`, `@${WRONG_HOST}:`);
    // Tools get only the libpq environment given here (and a TMPDIR inside the searched folder).
    const urlEnv = cleanEnv({ TMPDIR: tmp });
    const libpqEnv = cleanEnv({
      TMPDIR: tmp,
      PGHOST: server.host,
      PGPORT: String(server.port),
      PGUSER: role,
      PGDATABASE: database,
      PGPASSWORD: password,
    });
    const run = async (pkg: string, args: string[], env: NodeJS.ProcessEnv, expected: number[]) => {
      const result = await runNodeCli(bin(pkg), args, { env });
      // The command as the findings show it: without URLs (they carry the password) or paths.
      const shown = args.filter((arg) => !arg.includes("://") && !arg.startsWith("/")).slice(0, 2);
      const command = `${pkg} ${shown.join(" ")}${env.PGPASSWORD ? ` (PGPASSWORD, PGHOST ${env.PGHOST}, PGPORT ${env.PGPORT})` : " (--url)"}`;
      outputs.push({ command, ...result });
      if (!expected.includes(result.status ?? -1))
        unexpected.push(`${command}: exit ${result.status}: ${result.stderr.slice(0, 300)}`);
      return result;
    };

    const plan = JSON.parse(readFileSync(join(FIXTURE_DIR, "plan.json"), "utf8")) as Plan;
    delete plan.reauthorization;
    plan.target.systemIdentifier = server.systemIdentifier;
    plan.target.database = database;
    plan.applyRole = role;
    plan.artifact.path = join(FIXTURE_DIR, plan.artifact.path);
    plan.rollback.path = join(FIXTURE_DIR, plan.rollback.path);
    plan.backup.dir = dir("plan-backups");
    const planPath = join(dir("plan"), "plan.json");
    writeFileSync(planPath, JSON.stringify(plan, null, 2));
    const artifact = plan.artifact.path;
    const artifactSha = createHash("sha256").update(readFileSync(artifact)).digest("hex");

    // The tools one by one, before the run changes the catalog: password in --url, then in PGPASSWORD.
    const out = dir("out");
    await run(
      "catalog-snapshot",
      ["--url", url, "--schema", "cutter_governance", "--privileges-for", role, "--out", join(out, "s1.json")],
      urlEnv,
      [0],
    );
    await run("catalog-snapshot", ["--schema", "cutter_governance", "--out", join(out, "s2.json")], libpqEnv, [0]);
    await run("backup-marker", ["create", "--url", url, "--out-dir", dir("backups-url")], urlEnv, [0]);
    await run("backup-marker", ["create", "--out-dir", dir("backups-env")], libpqEnv, [0]);
    const marker = filesUnder(join(work, "backups-url")).find((file) => file.endsWith(".marker.json"));
    if (marker) await run("backup-marker", ["verify", marker, "--source-url", url], urlEnv, [0]);
    else unexpected.push("backup-marker create wrote no marker");
    const applyArgs = [
      "--role",
      role,
      "--expect-system-identifier",
      server.systemIdentifier,
      "--sha256",
      artifactSha,
      "--dry-run",
    ];
    await run("tx-apply", [artifact, ...applyArgs, "--url", url, "--out", join(out, "dry-run-url.json")], urlEnv, [0]);
    await run("tx-apply", [artifact, ...applyArgs, "--out", join(out, "dry-run-env.json")], libpqEnv, [0]);
    await run("dieu44", ["preflight", "--plan", planPath, "--evidence", join(work, "evidence-preflight")], libpqEnv, [0]);

    // Failing connections: a closed port, a host that does not resolve and a wrong user, with the
    // password in the URL and in PGPASSWORD.
    await run("catalog-snapshot", ["--url", wrongHostUrl], urlEnv, [3]);
    await run("tx-apply", [artifact, ...applyArgs, "--url", wrongHostUrl], urlEnv, [3]);
    await run("backup-marker", ["create", "--out-dir", dir("backups-fail-host")], { ...libpqEnv, PGHOST: WRONG_HOST }, [1, 3]);
    await run(
      "dieu44",
      ["preflight", "--plan", planPath, "--evidence", join(work, "evidence-fail-host")],
      { ...libpqEnv, PGHOST: WRONG_HOST },
      [1, 3],
    );
    await run("catalog-snapshot", ["--url", closedUrl, "--out", join(out, "fail.json")], urlEnv, [3]);
    await run("catalog-snapshot", ["--url", wrongUserUrl], urlEnv, [3]);
    await run("catalog-snapshot", ["--schema", "x"], { ...libpqEnv, PGPORT: String(CLOSED_PORT) }, [3]);
    await run("backup-marker", ["create", "--url", closedUrl, "--out-dir", dir("backups-fail")], urlEnv, [1, 3]);
    await run(
      "backup-marker",
      ["create", "--out-dir", dir("backups-fail-env")],
      { ...libpqEnv, PGUSER: `${role}_nobody` },
      [1, 3],
    );
    await run("tx-apply", [artifact, ...applyArgs, "--url", closedUrl, "--out", join(out, "fail-apply.json")], urlEnv, [3]);
    await run(
      "tx-apply",
      [artifact, ...applyArgs, "--url", wrongUserUrl.replace(`${role}_nobody`, role).replace(database, `${database}_missing`)],
      urlEnv,
      [1, 3],
    );
    await run(
      "dieu44",
      ["run", "--plan", planPath, "--url", closedUrl, "--evidence", join(work, "evidence-fail")],
      urlEnv,
      [1, 3],
    );

    // The full run: every connection (snapshots, pg_dump, apply, verification) with the password.
    await run(
      "dieu44",
      ["run", "--plan", planPath, "--url", url, "--evidence", join(work, "evidence-run"), "--format", "json"],
      urlEnv,
      [0],
    );
    await run("report-render", ["bundle", join(work, "evidence-run"), "--out", dir("rendered")], urlEnv, [0]);

    // Search everything that was written and printed.
    const forms = secretForms(password);
    for (const file of filesUnder(work)) {
      if (file === planPath) continue;
      const bytes = readFileSync(file);
      filesSearched++;
      bytesSearched += statSync(file).size;
      for (const [form, value] of forms) {
        if (bytes.includes(Buffer.from(value, "utf8"))) hits.push(`${form} in ${file.slice(work.length + 1)}`);
      }
    }
    for (const output of outputs) {
      for (const [form, value] of forms) {
        if (output.stdout.includes(value)) hits.push(`${form} in stdout of ${output.command}`);
        if (output.stderr.includes(value)) hits.push(`${form} in stderr of ${output.command}`);
      }
    }
    // The search itself must work: each form is found in a file made to contain it.
    const control = join(work, "control.txt");
    writeFileSync(control, [...forms.values()].join("\n"));
    for (const value of forms.values()) expect(readFileSync(control).includes(Buffer.from(value))).toBe(true);
    searched = true;
    expect(unexpected).toEqual([]);
    expect(hits).toEqual([]);
    expect(filesSearched).toBeGreaterThan(20);
  }, 180_000);
});
