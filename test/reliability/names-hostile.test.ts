/**
 * Hostile names (issue 10): schema, table, column, constraint and role names with double quotes,
 * spaces, combining marks, right-to-left text, `$$`, SQL fragments, backslashes, `%s`, pipes and
 * newlines go through sql-lint (an artifact creating them), tx-apply (applying it as a role with
 * such a name), catalog-snapshot (library and CLI), drift-diff (JSON, text, markdown, --expect)
 * and report-render, on every harness server. Nothing is injected (exactly the planned objects
 * exist, the canary table survives), nothing errs, the names round-trip exactly through every
 * JSON document, and no markdown table or line structure breaks.
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { snapshot } from "@dieu44/catalog-snapshot";
import { type CatalogSnapshot, CatalogSnapshotSchema } from "@dieu44/catalog-snapshot/schema";
import { check, diff, formatMarkdown, formatText } from "@dieu44/drift-diff";
import { ExpectedDeltaSchema } from "@dieu44/drift-diff/schema";
import { renderDocuments } from "@dieu44/report-render";
import { lint } from "@dieu44/sql-lint";
import {
  cleanEnv,
  createDatabase,
  query,
  REPO_ROOT,
  runNodeCli,
  type ServerInfo,
  serverUrl,
  testServers,
} from "@dieu44/test-harness";
import { afterAll, describe, expect, it } from "vitest";
import { type Figure, recordCase } from "./record.js";

const bin = (pkg: string) => join(REPO_ROOT, `packages/${pkg}/bin/${pkg}.js`);

/** Every name stays within PostgreSQL's 63 bytes. */
export const HOSTILE_SCHEMA = `odd "schema" $$ '; DROP TABLE canary; --`;
/** Cluster-wide, so unique per run (a database of an earlier run may still depend on it). */
export const HOSTILE_ROLE = `apply "role" $$;-- ø ${randomBytes(3).toString("hex")}`;
const NEWLINE_TAIL = "nl-bottom-7f3a";
export const HOSTILE_TABLES: readonly { name: string; columns: string[] }[] = [
  { name: `tab "quoted" name`, columns: ["id", `col "q" 1`, "plain"] },
  { name: `'; DROP TABLE canary; --`, columns: ["id", `x'); DROP TABLE canary; --`] },
  { name: "$$dollar$$ $x$ $1", columns: ["id", "$$", "$body$"] },
  { name: "back\\slash %s %n %% \\'", columns: ["id", "c\\", "%s%s%s%s"] },
  { name: `nl-top\n${NEWLINE_TAIL}`, columns: ["id", "line\nbreak", "tab\there", "cr\rhere"] },
  { name: "cafe\u0301 שלום \u202eevil\u202c", columns: ["id", "o\u0308\u0301", "\u05d0\u05d1"] },
  { name: "pipe | *star* _under_ `tick` <b>x</b>", columns: ["id", "a|b", "[link](x)", "# heading"] },
  { name: "  spaces  ", columns: ["id", " lead", "trail "] },
];
const FK_NAME = `fk "to" | quoted`;
const UNIQUE_NAME = "uq $$ '|' \n";

/** SQL identifier quoting: the only escape is doubling the double quote. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** The artifact that creates every hostile table (ws-q5 shape: ON_ERROR_STOP, BEGIN ... COMMIT). */
function hostileArtifact(): string {
  const schema = quoteIdent(HOSTILE_SCHEMA);
  const statements = HOSTILE_TABLES.map((table, index) => {
    const columns = table.columns.map((column) => `  ${quoteIdent(column)} ${column === "id" ? "bigint PRIMARY KEY" : "text"}`);
    if (index === 1) {
      columns.push(
        `  CONSTRAINT ${quoteIdent(FK_NAME)} FOREIGN KEY (${quoteIdent("id")}) REFERENCES ${schema}.${quoteIdent(HOSTILE_TABLES[0]!.name)} (${quoteIdent("id")})`,
      );
    }
    if (index === 2) columns.push(`  CONSTRAINT ${quoteIdent(UNIQUE_NAME)} UNIQUE (${quoteIdent("$$")})`);
    return `CREATE TABLE ${schema}.${quoteIdent(table.name)} (\n${columns.join(",\n")}\n);`;
  });
  return `\\set ON_ERROR_STOP on\n-- hostile names: quotes, $$, SQL fragments, backslashes, newlines\nBEGIN;\n\n${statements.join("\n\n")}\n\nCOMMIT;\n`;
}

/** Cells of a markdown table row, split on pipes that are not backslash-escaped. */
function cellCount(line: string): number {
  let cells = 0;
  for (let index = 0; index < line.length; index++) {
    if (line[index] === "\\") index++;
    else if (line[index] === "|") cells++;
  }
  return cells - 1;
}

/**
 * Problems with the markdown's structure: a table row whose cell count differs from its header
 * (a pipe or newline got through), and a line that starts with the tail of a name that contained
 * a newline (the name broke the line).
 */
export function markdownProblems(markdown: string): string[] {
  const problems: string[] = [];
  const lines = markdown.split("\n");
  for (let index = 0; index + 1 < lines.length; index++) {
    const header = lines[index]!;
    if (!header.startsWith("|") || !/^\|(\s*:?-+:?\s*\|)+\s*$/.test(lines[index + 1]!)) continue;
    const cells = cellCount(header);
    let row = index + 2;
    for (; row < lines.length && lines[row]!.trim() !== ""; row++) {
      const line = lines[row]!;
      if (!line.startsWith("|") || !line.trimEnd().endsWith("|") || cellCount(line) !== cells) {
        problems.push(
          `table at line ${index + 1}: row ${row + 1} has ${cellCount(line)} cells, header ${cells}: ${line.slice(0, 120)}`,
        );
      }
    }
    index = row;
  }
  for (const [index, line] of lines.entries()) {
    if (line.trimStart().startsWith(NEWLINE_TAIL))
      problems.push(`line ${index + 1} starts with a name's second line: ${line.slice(0, 80)}`);
  }
  return problems;
}

interface Outcome {
  server: string;
  runs: number;
  injected: number;
  errors: string[];
  roundTripMismatches: string[];
  markdownProblems: string[];
}

const outcomes: Outcome[] = [];
let dottedViolations: string[] | undefined;

describe("hostile names through snapshot, diff, lint, apply and report", () => {
  const startedAt = Date.now();

  afterAll(() => {
    const sum = (pick: (outcome: Outcome) => number) => outcomes.reduce((total, outcome) => total + pick(outcome), 0);
    const zero = (label: string, value: number): Figure => ({ label, value, required: "0", ok: value === 0 });
    recordCase({
      id: "names-hostile",
      title: "Hostile names",
      runs: sum((outcome) => outcome.runs),
      figures: [
        {
          label: "servers",
          value: outcomes.length,
          required: `all ${testServers().length}`,
          ok: outcomes.length === testServers().length,
        },
        {
          label: "hostile names (schema, role, tables, columns, constraints)",
          value: 2 + HOSTILE_TABLES.length + HOSTILE_TABLES.reduce((n, t) => n + t.columns.length, 0) + 2,
          ok: true,
        },
        zero(
          "objects injected or lost (catalog differs from the plan)",
          sum((outcome) => outcome.injected),
        ),
        zero(
          "tool errors or unexpected exit codes",
          sum((outcome) => outcome.errors.length),
        ),
        zero(
          "names not round-tripping exactly through JSON documents",
          sum((outcome) => outcome.roundTripMismatches.length),
        ),
        zero(
          "broken markdown structure (tables, lines)",
          sum((outcome) => outcome.markdownProblems.length),
        ),
        {
          label: 'a table in schema "dotted.schema" meets the expectation sql-lint derives',
          value: dottedViolations === undefined ? "not run" : dottedViolations.length === 0 ? "yes" : "no",
          required: "yes",
          ok: dottedViolations !== undefined && dottedViolations.length === 0,
        },
      ],
      findings: [
        `Names: schema ${JSON.stringify(HOSTILE_SCHEMA)}, apply role ${JSON.stringify(HOSTILE_ROLE)}, tables ${HOSTILE_TABLES.map((table) => JSON.stringify(table.name)).join(", ")}; columns and constraint names in the same spirit (newline, tab, CR, pipes, link and heading syntax).`,
        `Per server: sql-lint (library and CLI, --emit-expect), catalog-snapshot before and after (library and CLI), tx-apply CLI as the hostile role with --verify-before-commit, drift-diff library (JSON, text, markdown) and CLI (JSON, markdown, --expect), report-render --data for the snapshot, the diff, the lint report, the expected delta and the apply log.`,
        ...outcomes.flatMap((outcome) =>
          [...outcome.errors, ...outcome.roundTripMismatches, ...outcome.markdownProblems]
            .slice(0, 8)
            .map((problem) => `${outcome.server}: ${problem}`),
        ),
        ...(dottedViolations && dottedViolations.length > 0
          ? [
              `A schema named "dotted.schema": the expectation sql-lint derives is not met by the correct apply (${dottedViolations.join("; ")}).`,
            ]
          : []),
        "Found by this case and fixed in drift-diff (cbbce96): its markdown rows and text lines broke on pipes and newlines in names (122 broken rows over both servers), and an expected table in a schema whose name has a dot was reported table-missing (tx-apply's check before COMMIT would have rolled a correct apply back).",
        `Wall time of the case: ${((Date.now() - startedAt) / 1000).toFixed(1)} s.`,
      ],
    });
  });

  for (const server of testServers()) {
    it(`${server.label}: names go through every tool exactly, without injection or breakage`, async () => {
      const outcome: Outcome = {
        server: server.label,
        runs: 0,
        injected: 0,
        errors: [],
        roundTripMismatches: [],
        markdownProblems: [],
      };
      outcomes.push(outcome);
      await runFlow(server, outcome);
      expect(outcome.errors).toEqual([]);
      expect(outcome.injected).toBe(0);
      expect(outcome.roundTripMismatches).toEqual([]);
      expect(outcome.markdownProblems).toEqual([]);
    }, 120_000);
  }

  // Regression: expected-delta names are "schema.table" unquoted, and check() split them at the
  // first dot, so a schema whose name has a dot never matched and a correct apply was reported
  // table-missing (tx-apply's --verify-before-commit would have rolled it back). Found by this
  // suite, fixed in drift-diff (cbbce96), like drift-diff's markdown and text rows that pipes and
  // newlines in names used to break (asserted above, per server).
  it("a table in a schema whose name has a dot meets the expectation sql-lint derives", async () => {
    const server = testServers()[0]!;
    const database = await createDatabase(server, "dotted");
    const dir = mkdtempSync(join(tmpdir(), "dieu44-dotted-"));
    try {
      const schema = "dotted.schema";
      await query(server, `create schema ${quoteIdent(schema)}`, { database });
      const artifact = `BEGIN;\nCREATE TABLE ${quoteIdent(schema)}.t (id bigint PRIMARY KEY);\nCOMMIT;\n`;
      writeFileSync(join(dir, "a.sql"), artifact);
      const emitted = await runNodeCli(bin("sql-lint"), [join(dir, "a.sql"), "--emit-expect"], { env: cleanEnv() });
      const expectation = ExpectedDeltaSchema.parse(JSON.parse(emitted.stdout));
      const url = serverUrl(server, { database });
      const before = await snapshot({ url, env: {} }, { schemas: [schema] });
      await query(server, artifact, { database });
      const after = await snapshot({ url, env: {} }, { schemas: [schema] });
      const result = check(diff(before, after), expectation);
      dottedViolations = result.violations.map((violation) => `${violation.rule}: ${violation.message}`);
      expect(dottedViolations).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

async function runFlow(server: ServerInfo, outcome: Outcome): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "dieu44-names-"));
  const database = await createDatabase(server, "names");
  const password = `pw-${createHash("sha256").update(server.label).digest("hex").slice(0, 12)}`;
  const file = (name: string) => join(dir, name);
  const cli = async (pkg: string, args: string[], expected: number[] = [0]) => {
    const result = await runNodeCli(bin(pkg), args, { env: cleanEnv() });
    outcome.runs++;
    if (!expected.includes(result.status ?? -1) || /^\s+at /m.test(result.stderr)) {
      outcome.errors.push(`${pkg} ${args.slice(0, 2).join(" ")}: exit ${result.status}: ${result.stderr.slice(0, 300)}`);
    }
    return result;
  };
  const mismatch = (what: string, actual: unknown, expected: unknown) => {
    if (JSON.stringify(actual) !== JSON.stringify(expected)) {
      outcome.roundTripMismatches.push(
        `${what}: ${JSON.stringify(actual).slice(0, 300)} != ${JSON.stringify(expected).slice(0, 300)}`,
      );
    }
  };
  const checkMarkdown = (what: string, markdown: string) => {
    for (const problem of markdownProblems(markdown)) outcome.markdownProblems.push(`${what}: ${problem}`);
  };
  const expectedTables = HOSTILE_TABLES.map((table) => table.name).sort();
  try {
    // The hostile role owns the hostile schema; a canary table elsewhere must survive everything.
    await query(server, `create role ${quoteIdent(HOSTILE_ROLE)} login password '${password}'`);
    await query(
      server,
      `create schema ${quoteIdent(HOSTILE_SCHEMA)} authorization ${quoteIdent(HOSTILE_ROLE)}; create table public.canary (id int);`,
      { database },
    );
    const url = serverUrl(server, { database, user: HOSTILE_ROLE, password });
    const superUrl = serverUrl(server, { database });
    const artifact = hostileArtifact();
    writeFileSync(file("artifact.sql"), artifact);
    const artifactSha = createHash("sha256").update(artifact).digest("hex");

    // sql-lint: the library and the CLI see the same tables, named exactly.
    const policy = { kind: "sql-lint-policy", formatVersion: 1, approvedSha256: artifactSha } as const;
    writeFileSync(file("policy.json"), JSON.stringify(policy));
    const report = await lint(Buffer.from(artifact), policy, { path: file("artifact.sql") });
    outcome.runs++;
    if (!report.facts.parsed)
      outcome.errors.push(`sql-lint library: not parsed: ${JSON.stringify(report.findings).slice(0, 300)}`);
    const lintCli = await cli("sql-lint", [file("artifact.sql"), "--policy", file("policy.json")], [0, 1]);
    writeFileSync(file("lint-report.json"), lintCli.stdout);
    const expectCli = await cli("sql-lint", [file("artifact.sql"), "--policy", file("policy.json"), "--emit-expect"], [0, 1]);
    writeFileSync(file("expected-delta.json"), expectCli.stdout);
    const expectation = JSON.parse(expectCli.stdout || "{}") as { tablesAdded?: string[] };
    mismatch(
      "sql-lint --emit-expect tablesAdded",
      [...(expectation.tablesAdded ?? [])].sort(),
      // The expected-delta format: "schema.table" with unquoted names (drift-diff/src/schema.ts).
      expectedTables.map((name) => `${HOSTILE_SCHEMA}.${name}`).sort(),
    );

    // Snapshot before: library and CLI agree; then apply as the hostile role; snapshot after.
    const scope = { schemas: [HOSTILE_SCHEMA] };
    const before = await snapshot({ url: superUrl, env: {} }, scope);
    outcome.runs++;
    await cli("catalog-snapshot", ["--url", superUrl, "--schema", HOSTILE_SCHEMA, "--out", file("before.json")]);
    const beforeFromCli = CatalogSnapshotSchema.parse(JSON.parse(readFileSync(file("before.json"), "utf8")));
    mismatch("snapshot before: CLI fingerprint vs library", beforeFromCli.fingerprint, before.fingerprint);
    const applied = await cli("tx-apply", [
      file("artifact.sql"),
      "--role",
      HOSTILE_ROLE,
      "--expect-system-identifier",
      server.systemIdentifier,
      "--sha256",
      artifactSha,
      "--verify-before-commit",
      file("expected-delta.json"),
      "--url",
      url,
      "--out",
      file("apply-log.json"),
    ]);
    const log = JSON.parse(applied.stdout || "{}") as { outcome?: string; role?: string };
    if (log.outcome !== "committed") outcome.errors.push(`tx-apply outcome ${log.outcome}: ${applied.stderr.slice(0, 300)}`);
    mismatch("apply-log role", log.role, HOSTILE_ROLE);
    const after = await snapshot({ url: superUrl, env: {} }, scope);
    outcome.runs++;
    await cli("catalog-snapshot", ["--url", superUrl, "--schema", HOSTILE_SCHEMA, "--out", file("after.json")]);
    const afterFromCli = CatalogSnapshotSchema.parse(JSON.parse(readFileSync(file("after.json"), "utf8")));
    mismatch("snapshot after: CLI fingerprint vs library", afterFromCli.fingerprint, after.fingerprint);

    // The catalog holds exactly the planned objects, and the canary survived.
    const tables = await query<{ schema: string; name: string }>(
      server,
      "select n.nspname as schema, c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace where c.relkind = 'r' and n.nspname not in ('pg_catalog', 'information_schema', 'pg_toast') order by 1, 2",
      { database },
    );
    const actual = tables.map((row) => `${row.schema}.${row.name}`).sort();
    const planned = ["public.canary", ...expectedTables.map((name) => `${HOSTILE_SCHEMA}.${name}`)].sort();
    outcome.injected +=
      planned.filter((name) => !actual.includes(name)).length + actual.filter((name) => !planned.includes(name)).length;
    for (const table of HOSTILE_TABLES) {
      const columns = await query<{ name: string }>(
        server,
        "select attname as name from pg_attribute where attrelid = (select c.oid from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = $1 and c.relname = $2) and attnum > 0 order by attnum",
        { database, params: [HOSTILE_SCHEMA, table.name] },
      );
      mismatch(
        `catalog columns of ${JSON.stringify(table.name)}`,
        columns.map((row) => row.name),
        table.columns,
      );
    }

    // Round trip through the snapshot documents (library and CLI, parsed from JSON text).
    for (const [label, document] of [
      ["snapshot (library)", JSON.parse(JSON.stringify(after)) as CatalogSnapshot],
      ["snapshot (CLI)", afterFromCli],
    ] as const) {
      const hostile = document.tables.filter((table) => table.schema === HOSTILE_SCHEMA);
      mismatch(`${label} tables`, hostile.map((table) => table.name).sort(), expectedTables);
      for (const table of HOSTILE_TABLES) {
        const found = hostile.find((entry) => entry.name === table.name);
        mismatch(
          `${label} columns of ${JSON.stringify(table.name)}`,
          found?.columns.map((column) => column.name),
          table.columns,
        );
      }
      const constraints = hostile.flatMap((table) => table.constraints.map((constraint) => constraint.name));
      for (const name of [FK_NAME, UNIQUE_NAME]) if (!constraints.includes(name)) mismatch(`${label} constraint`, null, name);
      mismatch(
        `${label} schema`,
        document.schemas.map((schema) => schema.name),
        [HOSTILE_SCHEMA],
      );
    }

    // drift-diff: library in every format, CLI in JSON and markdown and against the lint's expectation.
    const changes = diff(before, after);
    outcome.runs++;
    const addedTables = changes.changes.filter((change) => change.objectKind === "table" && change.change === "added");
    mismatch("diff tables added", addedTables.map((change) => change.table).sort(), expectedTables);
    mismatch("diff tables' schema", [...new Set(addedTables.map((change) => change.schema))], [HOSTILE_SCHEMA]);
    const text = formatText(changes);
    for (const table of HOSTILE_TABLES) {
      if (!table.name.includes("\n") && !text.includes(table.name.replace(/"/g, '""'))) {
        outcome.roundTripMismatches.push(`diff text does not name ${JSON.stringify(table.name)}`);
      }
    }
    if (text.split("\n").some((line) => line.trimStart().startsWith(NEWLINE_TAIL))) {
      outcome.markdownProblems.push("drift-diff text: a name's newline broke a line");
    }
    checkMarkdown("drift-diff markdown (library)", formatMarkdown(changes));
    const diffCli = await cli("drift-diff", [file("before.json"), file("after.json")], [1]);
    writeFileSync(file("diff.json"), diffCli.stdout);
    const diffFromCli = JSON.parse(diffCli.stdout || "{}") as {
      changes?: { objectKind: string; change: string; table: string }[];
    };
    mismatch(
      "diff (CLI) tables added",
      (diffFromCli.changes ?? [])
        .filter((change) => change.objectKind === "table" && change.change === "added")
        .map((change) => change.table)
        .sort(),
      expectedTables,
    );
    const diffMarkdown = await cli("drift-diff", [file("before.json"), file("after.json"), "--format", "markdown"], [1]);
    checkMarkdown("drift-diff markdown (CLI)", diffMarkdown.stdout);
    await cli("drift-diff", [file("before.json"), file("after.json"), "--expect", file("expected-delta.json")], [0]);

    // report-render: every document, as markdown whose structure holds.
    for (const name of ["after.json", "diff.json", "lint-report.json", "expected-delta.json", "apply-log.json"]) {
      const data = JSON.parse(readFileSync(file(name), "utf8")) as unknown;
      checkMarkdown(`report-render ${name} (library)`, renderDocuments(null, [{ label: name, data }]));
      outcome.runs++;
    }
    const rendered = await cli("report-render", ["--data", file("diff.json"), "--data", file("apply-log.json")]);
    checkMarkdown("report-render diff + apply log (CLI)", rendered.stdout);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
