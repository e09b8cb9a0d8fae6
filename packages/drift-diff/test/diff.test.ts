import { describe, expect, it } from "vitest";
import { CatalogDiffSchema, diff } from "../src/index.js";
import { acl, check, column, governanceLaw, snapshot, table, wsq5Tables } from "./documents.js";

describe("diff", () => {
  it("reports nothing for two snapshots of the same catalog", () => {
    const before = snapshot({ tables: [governanceLaw(), ...wsq5Tables()] });
    const after = snapshot({ tables: [governanceLaw(), ...wsq5Tables()] });
    const result = diff(before, after);
    expect(result.identical).toBe(true);
    expect(result.changes).toEqual([]);
    expect(result.summary.total).toEqual({ added: 0, removed: 0, changed: 0 });
    expect(CatalogDiffSchema.parse(result)).toEqual(result);
  });

  it("names both snapshots and counts the ws-q5 delta per kind", () => {
    const before = snapshot({ tables: [governanceLaw()] });
    const after = snapshot({ tables: [governanceLaw(), ...wsq5Tables()] });
    const result = diff(before, after);
    expect(result.before).toMatchObject({ fingerprint: before.fingerprint, systemIdentifier: before.server.systemIdentifier });
    expect(result.after.fingerprint).toBe(after.fingerprint);
    expect(result.summary.byKind).toEqual({
      table: { added: 12, removed: 0, changed: 0 },
      column: { added: 36, removed: 0, changed: 0 },
      primary_key: { added: 12, removed: 0, changed: 0 },
      foreign_key: { added: 8, removed: 0, changed: 0 },
      unique: { added: 4, removed: 0, changed: 0 },
    });
    const identities = result.changes.map((change) => change.identity);
    expect(identities).toContain("cutter_governance.registry_entity");
    expect(identities).toContain("cutter_governance.registry_entity.column:label");
    expect(identities).toContain("cutter_governance.registry_entity.constraint:registry_entity_pkey");
    // Backing indexes are reported through their constraints.
    expect(result.changes.some((change) => change.objectKind === "index")).toBe(false);
    const column = result.changes.find((change) => change.identity === "cutter_governance.registry_entity.column:label");
    expect(column).toMatchObject({ change: "added", schema: "cutter_governance", table: "registry_entity", name: "label" });
    expect(column?.parent).toBe("cutter_governance.registry_entity");
    expect(column?.after).toMatchObject({ type: "text", notNull: true, position: 2 });
  });

  it("reports a changed column type, a dropped constraint and a changed privilege with before and after", () => {
    const law = governanceLaw();
    const before = snapshot({ tables: [law] });
    const changed = governanceLaw();
    changed.columns = changed.columns.map((c) => (c.name === "title" ? { ...c, type: "character varying(200)" } : c));
    changed.constraints = changed.constraints.filter((c) => c.type !== "unique");
    changed.indexes = changed.indexes.filter((i) => i.constraint !== "governance_law_code_key");
    changed.acl = [law.acl[0]!, acl("directus", ["INSERT", "SELECT"], "postgres")];
    const result = diff(before, snapshot({ tables: [changed] }));
    const byIdentity = new Map(result.changes.map((change) => [change.identity, change]));
    expect(byIdentity.get("cutter_governance.governance_law.column:title")).toMatchObject({
      change: "changed",
      objectKind: "column",
      fields: [{ field: "type", before: "text", after: "character varying(200)" }],
    });
    expect(byIdentity.get("cutter_governance.governance_law.constraint:governance_law_code_key")).toMatchObject({
      change: "removed",
      objectKind: "unique",
      before: { definition: "UNIQUE (code)" },
      after: null,
    });
    expect(byIdentity.get("cutter_governance.governance_law.privilege:directus(by postgres)")).toMatchObject({
      change: "changed",
      objectKind: "privilege",
      fields: [{ field: "privileges", before: ["SELECT"], after: ["INSERT", "SELECT"] }],
    });
    expect(result.changes).toHaveLength(3);
  });

  it("counts a column default on a new table, an extra index, a trigger and an owner change", () => {
    const before = snapshot({ tables: [governanceLaw()] });
    const law = { ...governanceLaw(), owner: "postgres" };
    law.indexes = [
      ...law.indexes,
      {
        name: "governance_law_title_idx",
        definition: "CREATE INDEX governance_law_title_idx ON cutter_governance.governance_law USING btree (title)",
        unique: false,
        primary: false,
        constraint: null,
        valid: true,
      },
    ];
    law.triggers = [{ name: "t_suppress", definition: "CREATE TRIGGER t_suppress ...", enabled: "O" }];
    const fresh = table("cutter_governance", "fresh", {
      columns: [column(1, "id"), column(2, "created_at", "timestamp with time zone", { default: "now()" })],
    });
    const result = diff(before, snapshot({ tables: [law, fresh] }));
    expect(result.summary.byKind).toMatchObject({
      default: { added: 1 },
      index: { added: 1 },
      trigger: { added: 1 },
      ownership: { changed: 1 },
    });
    const owner = result.changes.find((change) => change.objectKind === "ownership");
    expect(owner).toMatchObject({
      identity: "cutter_governance.governance_law.owner",
      before: "workflow_admin",
      after: "postgres",
    });
    expect(result.changes.find((change) => change.objectKind === "default")?.identity).toBe(
      "cutter_governance.fresh.column:created_at.default",
    );
  });

  it("treats the owner's own ACL entry as part of a new table, and reports other grants", () => {
    const before = snapshot({ tables: [] });
    const owned = table("cutter_governance", "owned", { acl: [acl("workflow_admin", ["INSERT", "SELECT"])] });
    const granted = table("cutter_governance", "granted", {
      acl: [acl("workflow_admin", ["INSERT", "SELECT"]), acl("directus", ["SELECT"])],
    });
    const privileges = diff(before, snapshot({ tables: [owned, granted] })).changes.filter((c) => c.objectKind === "privilege");
    expect(privileges.map((c) => `${c.change} ${c.identity}`)).toEqual([
      "added cutter_governance.granted.privilege:directus(by workflow_admin)",
    ]);
    // On a table that stays, the owner revoking its own privileges is a change.
    const revoked = { ...owned, acl: [acl("workflow_admin", ["SELECT"])] };
    const change = diff(snapshot({ tables: [owned] }), snapshot({ tables: [revoked] })).changes;
    expect(change.map((c) => `${c.change} ${c.objectKind}`)).toEqual(["changed privilege"]);
  });

  it("quotes mixed-case and unicode names in identities", () => {
    const before = snapshot({ tables: [] });
    const after = snapshot({
      tables: [table("cutter_governance", "Übersicht", { columns: [column(1, "id"), column(2, "Label")] })],
    });
    const identities = diff(before, after).changes.map((change) => change.identity);
    expect(identities).toContain('cutter_governance."Übersicht"');
    expect(identities).toContain('cutter_governance."Übersicht".column:"Label"');
  });

  it("refuses snapshots of different clusters unless allowed", () => {
    const before = snapshot();
    const after = snapshot({ systemIdentifier: "7000000000000000001" });
    expect(() => diff(before, after)).toThrow(
      /different clusters.*7611578671664259111.*7000000000000000001.*--allow-different-clusters/,
    );
    const result = diff(before, after, { allowDifferentClusters: true });
    expect(result.sameCluster).toBe(false);
    expect(result.identical).toBe(true);
  });

  it("filters by schema and kind, and compares only schemas both snapshots covered", () => {
    const other = table("elsewhere", "t");
    const before = snapshot({ scopeSchemas: null, tables: [governanceLaw()] });
    const after = snapshot({
      scopeSchemas: null,
      tables: [governanceLaw(), other, ...wsq5Tables()],
      schemas: [
        { name: "cutter_governance", exists: true, owner: "workflow_admin", acl: [acl("directus", ["USAGE"])] },
        { name: "elsewhere", exists: true, owner: "postgres", acl: [] },
      ],
    });
    const all = diff(before, after);
    expect(all.scope).toEqual({ schemas: null, kinds: null });
    expect(all.changes.map((c) => c.identity)).toEqual(expect.arrayContaining(["schema:elsewhere", "elsewhere.t"]));

    const scoped = diff(before, after, { scope: { schemas: ["cutter_governance"], kinds: ["table", "unique"] } });
    expect(scoped.scope).toEqual({ schemas: ["cutter_governance"], kinds: ["table", "unique"] });
    expect(scoped.summary.byKind).toEqual({
      table: { added: 12, removed: 0, changed: 0 },
      unique: { added: 4, removed: 0, changed: 0 },
    });

    // A snapshot limited to cutter_governance limits the comparison to it.
    const narrow = snapshot({ scopeSchemas: ["cutter_governance"], tables: [governanceLaw()] });
    const covered = diff(narrow, after);
    expect(covered.scope.schemas).toEqual(["cutter_governance"]);
    expect(covered.changes.some((change) => change.schema === "elsewhere")).toBe(false);
  });

  it("reports a constraint whose type changed as removed and added", () => {
    const before = snapshot({ tables: [table("cutter_governance", "t", { constraints: [check("t_c", "id > 0", ["id"])] })] });
    const after = snapshot({
      tables: [table("cutter_governance", "t", { constraints: [{ ...check("t_c", "id > 0", ["id"]), type: "exclusion" }] })],
    });
    const kinds = diff(before, after).changes.map((change) => `${change.change} ${change.objectKind}`);
    expect(kinds.sort()).toEqual(["added exclusion", "removed check"]);
  });

  it("diffs sequences, enums, functions, views, extensions and roles", () => {
    const role = {
      name: "directus",
      exists: true,
      canLogin: true,
      superuser: false,
      memberOf: [],
      schemaPrivileges: [{ schema: "cutter_governance", usage: true, create: false }],
    };
    const before = snapshot({ privilegesFor: ["directus"], roles: [role] });
    const after = snapshot({
      privilegesFor: ["directus"],
      roles: [{ ...role, schemaPrivileges: [{ schema: "cutter_governance", usage: true, create: true }] }],
      sequences: [
        {
          schema: "cutter_governance",
          name: "t_id_seq",
          owner: "workflow_admin",
          dataType: "bigint",
          start: "1",
          increment: "1",
          min: "1",
          max: "9223372036854775807",
          cycle: false,
          ownedBy: { schema: "cutter_governance", table: "t", column: "id" },
          acl: [],
        },
      ],
      enums: [{ schema: "cutter_governance", name: "mood", owner: "workflow_admin", labels: ["sad", "ok"] }],
      routines: [
        {
          schema: "cutter_governance",
          name: "f",
          identityArguments: "a bigint",
          kind: "function",
          returns: "bigint",
          language: "sql",
          volatility: "immutable",
          securityDefiner: false,
          owner: "workflow_admin",
          bodySha256: "0".repeat(64),
          acl: [],
        },
      ],
      views: [
        { schema: "cutter_governance", name: "v", kind: "view", owner: "workflow_admin", definition: " SELECT 1;", acl: [] },
      ],
      extensions: [{ name: "pgcrypto", version: "1.3", schema: "cutter_governance" }],
    });
    const identities = diff(before, after).changes.map((change) => `${change.change} ${change.objectKind} ${change.identity}`);
    expect(identities).toEqual(
      expect.arrayContaining([
        "added sequence sequence:cutter_governance.t_id_seq",
        "added enum enum:cutter_governance.mood",
        "added function function:cutter_governance.f(a bigint)",
        "added view view:cutter_governance.v",
        "added extension extension:pgcrypto",
        "changed role role:directus",
      ]),
    );
    expect(identities).toHaveLength(6);
  });
});
