/**
 * check(diff, expectation): evaluates every change of a diff against an expected-delta spec and
 * reports each violation separately. The rules and their order are documented on
 * ExpectedDeltaSchema in schema.ts.
 */
import { summarize } from "./diff.js";
import { qualifiedName } from "./identity.js";
import {
  type CatalogDiff,
  type Change,
  EXPECTATION_RESULT_FORMAT_VERSION,
  EXPECTATION_RESULT_KIND,
  type ExpectationResult,
  type ExpectedDelta,
  type JsonValue,
  type ObjectKind,
  ObjectKindSchema,
  type Violation,
} from "./schema.js";

const CONSTRAINT_KINDS = new Set<ObjectKind>(["primary_key", "foreign_key", "unique", "check", "exclusion"]);

function brief(value: JsonValue): string {
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

/** What the diff shows for a change, in a few words: "added", "changed type: text -> integer". */
export function describeFound(change: Change): string {
  if (change.change !== "changed") return change.change;
  const fields = change.fields.map((field) => `${field.field}: ${brief(field.before)} -> ${brief(field.after)}`);
  return `changed ${fields.join("; ")}`;
}

/** Checks a diff against an expected delta; every violation is reported on its own. */
export function check(diff: CatalogDiff, expectation: ExpectedDelta): ExpectationResult {
  const scopeSchemas = new Set(expectation.scope.schemas);
  const mustNotChange = new Set(expectation.mustNotChange);
  const counted = new Map<ObjectKind, string[]>();
  for (const kind of Object.keys(expectation.counts) as ObjectKind[]) counted.set(kind, []);
  const expectedNames = new Set(expectation.tablesAdded);
  const isExpectedName = (schema: string, table: string) =>
    expectedNames.has(`${schema}.${table}`) || expectedNames.has(qualifiedName(schema, table));

  // Tables the diff shows as added and the expectation names: their columns and constraints are theirs.
  const expectedAddedTables = new Set<string>();
  // The names of those tables in both spellings an expectation may use: plain "schema.table" and quoted.
  const expectedAddedNames = new Set<string>();
  const tablesAddedInScope: string[] = [];
  for (const change of diff.changes) {
    if (change.objectKind !== "table" || change.change !== "added" || change.schema === null) continue;
    if (isExpectedName(change.schema, change.name)) {
      expectedAddedTables.add(change.identity);
      expectedAddedNames.add(`${change.schema}.${change.name}`).add(qualifiedName(change.schema, change.name));
    }
    if (scopeSchemas.has(change.schema)) tablesAddedInScope.push(`${change.schema}.${change.name}`);
  }
  const ownerTable = (change: Change) =>
    change.schema !== null && change.table !== null ? qualifiedName(change.schema, change.table) : null;
  const inScope = (change: Change) => {
    if (change.schema === null || scopeSchemas.has(change.schema)) return true;
    const table = ownerTable(change);
    return table !== null && expectedAddedTables.has(table);
  };

  const violations: Violation[] = [];
  /** Violations of added or removed tables, by table identity: the objects inside them go with them. */
  const faultyTables = new Map<string, Violation>();
  const violate = (rule: Violation["rule"], change: Change, expected: string, message: string) => {
    const violation: Violation = {
      rule,
      objectKind: change.objectKind,
      identity: change.identity,
      expected,
      found: describeFound(change),
      message,
      related: [],
    };
    violations.push(violation);
    if (change.objectKind === "table" && change.change !== "changed") faultyTables.set(change.identity, violation);
  };

  const evaluate = (change: Change) => {
    const kind = change.objectKind;
    const table = ownerTable(change);
    if (kind !== "table" && table !== null) {
      const tableViolation = faultyTables.get(table);
      if (tableViolation) {
        tableViolation.related.push(change.identity);
        return;
      }
    }
    const isTableOfExpected = table !== null && expectedAddedTables.has(table);
    if (kind === "table" && change.change === "added" && isTableOfExpected) {
      counted.get("table")?.push(change.identity);
      return;
    }
    if (!inScope(change)) {
      if (expectation.nothingElse) {
        violate(
          "outside-scope",
          change,
          "no change outside the scope",
          `${change.identity}: ${kind} ${change.change} in schema ${change.schema}, outside the expected scope (${expectation.scope.schemas.join(", ")})`,
        );
      }
      return;
    }
    if (kind === "table" && change.change === "added") {
      violate("unexpected-table", change, "not added", `${change.identity}: table added but not among the expected tables`);
      return;
    }
    const countable = kind === "table" || expectation.countsWithin !== "expected-tables" || isTableOfExpected;
    if (change.change === "added" && countable) {
      const list = counted.get(kind);
      if (list) {
        list.push(change.identity);
        return;
      }
    }
    if (isTableOfExpected && kind === "column" && change.change === "added") return;
    if (mustNotChange.has(kind)) {
      violate(
        "must-not-change",
        change,
        "unchanged",
        `${change.identity}: ${kind} ${change.change}, but ${kind} must not change`,
      );
      return;
    }
    if (isTableOfExpected && CONSTRAINT_KINDS.has(kind) && change.change === "added") return;
    if (expectation.nothingElse) {
      violate(
        "unexplained-change",
        change,
        "no other change",
        `${change.identity}: ${kind} ${change.change}, not explained by the expectation`,
      );
    }
  };

  // Tables first, so the objects inside a faulty table are attributed to it.
  for (const change of diff.changes) if (change.objectKind === "table") evaluate(change);
  for (const change of diff.changes) if (change.objectKind !== "table") evaluate(change);

  for (const name of expectation.tablesAdded) {
    // Compared whole, never split at a dot: a schema or table name may contain one.
    if (!expectedAddedNames.has(name)) {
      violations.push({
        rule: "table-missing",
        objectKind: "table",
        identity: name,
        expected: "added",
        found: "not added",
        message: `${name}: expected table was not added`,
        related: [],
      });
    }
  }

  for (const [kind, identities] of counted) {
    const expected = expectation.counts[kind] ?? 0;
    if (identities.length !== expected) {
      violations.push({
        rule: "count-mismatch",
        objectKind: kind,
        identity: null,
        expected,
        found: identities.length,
        message: `${kind}: expected exactly ${expected} added, found ${identities.length}`,
        related: identities,
      });
    }
  }

  violations.push(...coverageViolations(diff, expectation));

  const inScopeChanges: Change[] = [];
  const outsideChanges: Change[] = [];
  for (const change of diff.changes) (inScope(change) ? inScopeChanges : outsideChanges).push(change);

  return {
    kind: EXPECTATION_RESULT_KIND,
    formatVersion: EXPECTATION_RESULT_FORMAT_VERSION,
    pass: violations.length === 0,
    expectation,
    before: diff.before,
    after: diff.after,
    violations,
    found: {
      tablesAdded: tablesAddedInScope,
      byKind: summarize(inScopeChanges).byKind,
      outsideScope: summarize(outsideChanges).byKind,
    },
  };
}

/** What the expectation speaks about but the diff did not look at (a schema, a kind). */
function coverageViolations(diff: CatalogDiff, expectation: ExpectedDelta): Violation[] {
  const violations: Violation[] = [];
  if (diff.scope.schemas !== null) {
    for (const schema of expectation.scope.schemas) {
      if (diff.scope.schemas.includes(schema)) continue;
      violations.push({
        rule: "scope-not-covered",
        objectKind: "schema",
        identity: `schema:${schema}`,
        expected: "covered by the diff",
        found: "not covered",
        message: `schema ${schema}: the expectation speaks about it but the diff did not compare it (diff scope: ${diff.scope.schemas.join(", ") || "none"})`,
        related: [],
      });
    }
  }
  if (diff.scope.kinds !== null) {
    const needed = new Set<ObjectKind>(
      expectation.nothingElse
        ? ObjectKindSchema.options
        : [...(Object.keys(expectation.counts) as ObjectKind[]), ...expectation.mustNotChange],
    );
    if (expectation.tablesAdded.length > 0) needed.add("table");
    for (const kind of ObjectKindSchema.options) {
      if (!needed.has(kind) || diff.scope.kinds.includes(kind)) continue;
      violations.push({
        rule: "scope-not-covered",
        objectKind: kind,
        identity: null,
        expected: "covered by the diff",
        found: "not covered",
        message: `${kind}: the expectation speaks about it but the diff left it out (diff kinds: ${diff.scope.kinds.join(", ")})`,
        related: [],
      });
    }
  }
  return violations;
}
