import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { type CatalogDiff, check, diff, ExpectationResultSchema, type ExpectedDelta, ExpectedDeltaSchema } from "../src/index.js";
import { acl, check as checkConstraint, column, governanceLaw, snapshot, table, wsq5Tables } from "./documents.js";

const expectation: ExpectedDelta = ExpectedDeltaSchema.parse(
  JSON.parse(readFileSync(new URL("./fixtures/ws-q5.expected-delta.json", import.meta.url), "utf8")),
);

const before = snapshot({ tables: [governanceLaw()] });

function applied(change: (tables: ReturnType<typeof wsq5Tables>) => void = () => {}, extra: Parameters<typeof snapshot>[0] = {}) {
  const tables = wsq5Tables();
  change(tables);
  return diff(before, snapshot({ tables: [governanceLaw(), ...tables], ...extra }));
}

function entity(tables: ReturnType<typeof wsq5Tables>) {
  return tables.find((t) => t.name === "registry_entity")!;
}

function rules(result: ReturnType<typeof check>) {
  return result.violations.map((v) => `${v.rule} ${v.objectKind} ${v.identity}`);
}

describe("check", () => {
  it("passes the reference delta and reports the found counts", () => {
    const result = check(applied(), expectation);
    expect(result.violations).toEqual([]);
    expect(result.pass).toBe(true);
    expect(result.found.tablesAdded).toHaveLength(12);
    expect(result.found.byKind).toMatchObject({
      table: { added: 12 },
      primary_key: { added: 12 },
      foreign_key: { added: 8 },
      unique: { added: 4 },
    });
    expect(ExpectationResultSchema.parse(result)).toEqual(result);
  });

  it("names a DEFAULT on a new column", () => {
    const result = check(
      applied((tables) => {
        entity(tables).columns[1] = column(2, "label", "text", { default: "'x'::text" });
      }),
      expectation,
    );
    expect(rules(result)).toEqual(["must-not-change default cutter_governance.registry_entity.column:label.default"]);
    expect(result.violations[0]).toMatchObject({ expected: "unchanged", found: "added" });
    expect(result.pass).toBe(false);
  });

  it("names a CHECK, a trigger, an extra index and an enum", () => {
    const result = check(
      applied(
        (tables) => {
          const t = entity(tables);
          t.constraints.push(checkConstraint("registry_entity_label_check", "label <> ''", ["label"]));
          t.triggers.push({ name: "registry_entity_t", definition: "CREATE TRIGGER registry_entity_t ...", enabled: "O" });
          t.indexes.push({
            name: "registry_entity_label_idx",
            definition: "CREATE INDEX registry_entity_label_idx ON cutter_governance.registry_entity USING btree (label)",
            unique: false,
            primary: false,
            constraint: null,
            valid: true,
          });
        },
        { enums: [{ schema: "cutter_governance", name: "mood", owner: "workflow_admin", labels: ["a"] }] },
      ),
      expectation,
    );
    expect(rules(result).sort()).toEqual([
      "must-not-change check cutter_governance.registry_entity.constraint:registry_entity_label_check",
      "must-not-change enum enum:cutter_governance.mood",
      "must-not-change index cutter_governance.registry_entity.index:registry_entity_label_idx",
      "must-not-change trigger cutter_governance.registry_entity.trigger:registry_entity_t",
    ]);
  });

  it("names a thirteenth table once, with everything inside it", () => {
    const result = check(
      applied((tables) => {
        tables.push(table("cutter_governance", "registry_extra"));
      }),
      expectation,
    );
    expect(rules(result)).toEqual(["unexpected-table table cutter_governance.registry_extra"]);
    expect(result.violations[0]?.related).toEqual(
      expect.arrayContaining(["cutter_governance.registry_extra.constraint:registry_extra_pkey"]),
    );
    expect(result.found.byKind.table?.added).toBe(13);
  });

  it("names a missing table and the count it breaks", () => {
    const result = check(
      applied((tables) => {
        tables.splice(
          tables.findIndex((t) => t.name === "registry_audit_note"),
          1,
        );
      }),
      expectation,
    );
    expect(rules(result)).toEqual([
      "table-missing table cutter_governance.registry_audit_note",
      "count-mismatch table null",
      "count-mismatch primary_key null",
    ]);
    expect(result.violations[1]).toMatchObject({ expected: 12, found: 11 });
  });

  it("names a table in another schema when nothing else may change, and ignores it otherwise", () => {
    const schemas = [
      { name: "cutter_governance", exists: true, owner: "workflow_admin", acl: [acl("directus", ["USAGE"])] },
      { name: "elsewhere", exists: true, owner: "workflow_admin", acl: [] },
    ];
    const wide = snapshot({ scopeSchemas: null, schemas, tables: [governanceLaw()] });
    const after = snapshot({
      scopeSchemas: null,
      schemas,
      tables: [governanceLaw(), ...wsq5Tables(), table("elsewhere", "sneaky")],
    });
    const delta = diff(wide, after);
    const strict = check(delta, expectation);
    expect(rules(strict)).toEqual(["outside-scope table elsewhere.sneaky"]);
    expect(strict.found.outsideScope).toMatchObject({ table: { added: 1 }, column: { added: 2 }, primary_key: { added: 1 } });
    expect(check(delta, { ...expectation, nothingElse: false }).pass).toBe(true);
  });

  it("flags unexplained changes, privilege and ownership changes on existing objects", () => {
    const changedLaw = governanceLaw();
    changedLaw.columns.push(column(5, "extra", "text", { notNull: false }));
    changedLaw.acl = [...changedLaw.acl, acl("PUBLIC", ["SELECT"])];
    changedLaw.owner = "postgres";
    const delta = diff(before, snapshot({ tables: [changedLaw, ...wsq5Tables()] }));
    expect(rules(check(delta, expectation)).sort()).toEqual([
      "must-not-change ownership cutter_governance.governance_law.owner",
      "must-not-change privilege cutter_governance.governance_law.privilege:PUBLIC(by workflow_admin)",
      "unexplained-change column cutter_governance.governance_law.column:extra",
    ]);
  });

  it("counts extra constraints of a counted kind on an existing table", () => {
    const law = governanceLaw();
    law.constraints.push({ ...law.constraints[1]!, name: "governance_law_title_key", columns: ["title"] });
    const result = check(diff(before, snapshot({ tables: [law, ...wsq5Tables()] })), expectation);
    expect(rules(result)).toEqual(["count-mismatch unique null"]);
    expect(result.violations[0]).toMatchObject({ expected: 4, found: 5 });
    expect(result.violations[0]?.related).toContain("cutter_governance.governance_law.constraint:governance_law_title_key");
  });

  it("with countsWithin expected-tables, a constraint moved to an existing table is not counted as the expected one", () => {
    const law = governanceLaw();
    const moved = (tables: ReturnType<typeof wsq5Tables>) => {
      const fk = entity(tables).constraints.find((constraint) => constraint.type === "foreign_key")!;
      entity(tables).constraints = entity(tables).constraints.filter((constraint) => constraint !== fk);
      law.constraints.push({ ...fk, name: "governance_law_moved_fk" });
    };
    const tables = wsq5Tables();
    moved(tables);
    const delta = diff(before, snapshot({ tables: [law, ...tables] }));
    expect(check(delta, expectation).pass).toBe(true); // counted anywhere in scope: the totals match
    const strict = check(delta, { ...expectation, countsWithin: "expected-tables" });
    expect(rules(strict)).toEqual([
      "unexplained-change foreign_key cutter_governance.governance_law.constraint:governance_law_moved_fk",
      "count-mismatch foreign_key null",
    ]);
  });

  it("reports an expectation the diff did not cover", () => {
    const delta: CatalogDiff = diff(before, snapshot({ tables: [governanceLaw(), ...wsq5Tables()] }), {
      scope: { kinds: ["table", "primary_key", "foreign_key", "unique"] },
    });
    const result = check(delta, { ...expectation, nothingElse: false, mustNotChange: ["default"] });
    expect(rules(result)).toEqual(["scope-not-covered default null"]);
    const other = check(diff(before, before, { scope: { schemas: ["public"] } }), expectation);
    expect(rules(other)).toContain("scope-not-covered schema schema:cutter_governance");
  });
});

describe("names with dots", () => {
  it('meets "dotted.schema.t" when schema "dotted.schema" gains table t (names are never split at a dot)', () => {
    const schemas = [{ name: "dotted.schema", exists: true, owner: "workflow_admin", acl: [] }];
    const empty = snapshot({ scopeSchemas: ["dotted.schema"], schemas, tables: [] });
    const added = snapshot({ scopeSchemas: ["dotted.schema"], schemas, tables: [table("dotted.schema", "t")] });
    const dotted: ExpectedDelta = {
      ...expectation,
      scope: { schemas: ["dotted.schema"] },
      tablesAdded: ["dotted.schema.t"],
      counts: { table: 1, primary_key: 1 },
    };
    const result = check(diff(empty, added), dotted);
    expect(rules(result)).toEqual([]);
    expect(result.pass).toBe(true);
    // And a table that is not there is still missing.
    expect(rules(check(diff(empty, empty), dotted))).toContain("table-missing table dotted.schema.t");
  });
});
