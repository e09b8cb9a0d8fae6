import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { describeConnection, resolveConnection, toLibpqEnv, toPgConfig } from "../src/connection.js";
import { describeError, EnvironmentError, errorMessage } from "../src/exit.js";
import { clearSecrets, redact, redactDeep, registerSecret } from "../src/redact.js";

const SECRET = "S3cr3t-p@ss:w/rd";

afterEach(() => clearSecrets());

describe("redact", () => {
  it("masks the password of a URL, a DSN, a PGPASSWORD assignment and a SQL PASSWORD literal", () => {
    const url = `postgres://alice:${encodeURIComponent(SECRET)}@db.example:5432/prod`;
    expect(redact(`connecting to ${url}`)).toBe("connecting to postgres://alice:********@db.example:5432/prod");
    expect(redact("host=db password='a b c' user=alice")).toBe("host=db password=******** user=alice");
    expect(redact("host=db password=hunter22 user=alice")).toBe("host=db password=******** user=alice");
    expect(redact("PGPASSWORD=hunter22 pg_dump")).toBe("PGPASSWORD=******** pg_dump");
    expect(redact("ALTER ROLE x PASSWORD 'it''s secret'")).toBe("ALTER ROLE x PASSWORD '********'");
  });

  it("masks registered secrets anywhere, raw or URL-encoded, including server error messages", () => {
    registerSecret(SECRET);
    const serverMessage = `role "alice" does not exist (tried with ${SECRET})`;
    expect(redact(serverMessage)).not.toContain(SECRET);
    expect(redact(`x ${encodeURIComponent(SECRET)} y`)).toBe("x ******** y");
    expect(JSON.stringify(redactDeep({ a: [serverMessage], b: { c: SECRET } }))).not.toContain(SECRET);
  });
});

describe("connection", () => {
  it("takes the URL over the libpq environment and registers its password", () => {
    const spec = resolveConnection({
      url: `postgres://alice:${encodeURIComponent(SECRET)}@db.example:6543/prod?sslmode=require`,
      env: { PGHOST: "other", PGUSER: "bob", PGPASSWORD: "env-password-1" },
    });
    expect(spec).toMatchObject({
      host: "db.example",
      port: 6543,
      user: "alice",
      database: "prod",
      password: SECRET,
      sslmode: "require",
    });
    expect(toPgConfig(spec).ssl).toEqual({ rejectUnauthorized: false });
    expect(describeConnection(spec)).toBe("postgres://alice@db.example:6543/prod?sslmode=require");
    expect(redact(`failed for ${SECRET}`)).not.toContain(SECRET);
  });

  it("reads PGHOST, PGPORT, PGUSER, PGDATABASE, PGPASSWORD and PGSSLMODE", () => {
    const spec = resolveConnection({
      env: { PGHOST: "h", PGPORT: "5499", PGUSER: "u", PGDATABASE: "d", PGPASSWORD: "env-secret-99", PGSSLMODE: "disable" },
    });
    expect(spec).toMatchObject({
      host: "h",
      port: 5499,
      user: "u",
      database: "d",
      password: "env-secret-99",
      sslmode: "disable",
    });
    expect(toLibpqEnv(spec)).toMatchObject({ PGPASSWORD: "env-secret-99", PGHOST: "h", PGPORT: "5499" });
    expect(describeConnection(spec)).not.toContain("env-secret-99");
    expect(redact("oops env-secret-99")).toBe("oops ********");
  });

  it("parses key=value DSNs and pg_service.conf services", () => {
    const dir = mkdtempSync(join(tmpdir(), "svc-"));
    writeFileSync(join(dir, "svc.conf"), "[prod]\nhost=svc-host\nport=7000\ndbname=svcdb\n");
    const spec = resolveConnection({ url: "service=prod user=carol", env: { PGSERVICEFILE: join(dir, "svc.conf") } });
    expect(spec).toMatchObject({ host: "svc-host", port: 7000, user: "carol", database: "svcdb" });
    expect(() => resolveConnection({ url: "postgres://h:notaport/x", env: {} })).toThrow();
    expect(() => resolveConnection({ url: "service=missing", env: { PGSERVICEFILE: join(dir, "svc.conf") } })).toThrow(
      /service "missing" not found/,
    );
  });

  it("never shows the password when a connection fails, end to end through a child process", () => {
    // A real connection attempt to a closed port, in a separate process that uses the CLI error path.
    const exitModule = new URL("../dist/exit.js", import.meta.url).pathname;
    const connModule = new URL("../dist/connection.js", import.meta.url).pathname;
    const script = `import pg from "pg";
       import { runCli } from ${JSON.stringify(exitModule)};
       import { resolveConnection, toPgConfig, describeConnection } from ${JSON.stringify(connModule)};
       await runCli("probe", async () => {
         const spec = resolveConnection({ url: process.env.PROBE_URL });
         process.stdout.write("target " + describeConnection(spec) + "\\n");
         const client = new pg.Client(toPgConfig(spec));
         try { await client.connect(); } catch (e) { throw new Error(e.message + " using " + process.env.PROBE_URL + " and " + process.env.PGPASSWORD); }
         return 0;
       });`;
    const url = `postgres://alice:${encodeURIComponent(SECRET)}@127.0.0.1:1/prod`;
    const result = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
      encoding: "utf8",
      cwd: new URL("..", import.meta.url).pathname,
      env: { ...process.env, PROBE_URL: url, PGPASSWORD: "pgpassword-secret-42" },
    });
    expect(result.status).toBe(3);
    expect(result.stderr).toMatch(/probe: .*ECONNREFUSED|probe: .*connect/);
    for (const output of [result.stdout, result.stderr]) {
      expect(output).not.toContain(SECRET);
      expect(output).not.toContain(encodeURIComponent(SECRET));
      expect(output).not.toContain("pgpassword-secret-42");
    }
  });

  it("describes errors without secrets", () => {
    registerSecret("tiny-secret-value");
    expect(describeError(new EnvironmentError("cannot connect with tiny-secret-value"))).toBe("cannot connect with ********");
    expect(readFileSync(new URL("../src/redact.ts", import.meta.url), "utf8")).toContain("registerSecret");
  });

  it("takes time linear in its input, even on texts built to make a pattern backtrack", () => {
    // Quadratic before: a 64 KiB run of letters took seconds, "a://b:" repeated minutes.
    for (const text of [
      "A".repeat(1 << 21),
      "a://b:".repeat(100_000),
      "a://".repeat(100_000),
      `x${"password=".repeat(50_000)}`,
    ]) {
      const started = performance.now();
      redact(text);
      expect(performance.now() - started, text.slice(0, 12)).toBeLessThan(2000);
    }
    expect(redact(`${"a".repeat(70_000)} postgres://u:pw-123@h/db`)).toContain("postgres://u:********@h/db");
  });

  it("gives an error's message: the first of an AggregateError's, else its code, else its name", () => {
    const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" });
    expect(errorMessage(new AggregateError([refused, new Error("second")]))).toBe("connect ECONNREFUSED 127.0.0.1:1");
    expect(errorMessage(Object.assign(new Error(""), { code: "57P01" }))).toBe("57P01");
    expect(errorMessage(new TypeError(""))).toBe("TypeError");
    expect(errorMessage("plain")).toBe("plain");
  });
});
