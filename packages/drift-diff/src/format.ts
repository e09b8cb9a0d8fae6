/**
 * Renderers: text like `git diff --stat` for a terminal, markdown for report-render.
 */
import type { CatalogDiff, Change, ChangeCounts, ExpectationResult, JsonValue, ObjectKind, SnapshotRef } from "./schema.js";

const BAR_WIDTH = 40;
/** Detail rows in markdown beyond which the table is cut (the JSON document has them all). */
const MARKDOWN_DETAIL_LIMIT = 200;

/**
 * A value on one line: a newline or other control character in a name (PostgreSQL allows them in
 * quoted identifiers) shows as an escape and never breaks a line, a row or a table.
 */
function oneLine(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it escapes
  return text.replace(/[\u0000-\u001f\u007f]/g, (char) => {
    if (char === "\n") return "\\n";
    if (char === "\r") return "\\r";
    if (char === "\t") return "\\t";
    return `\\x${char.charCodeAt(0).toString(16).padStart(2, "0")}`;
  });
}

function shortFingerprint(fingerprint: string): string {
  return fingerprint.slice(0, 12);
}

function describeRef(ref: SnapshotRef): string {
  return `${shortFingerprint(ref.fingerprint)} ${oneLine(ref.database)} at ${ref.takenAt} (system ${ref.systemIdentifier}, PostgreSQL ${ref.serverVersion})`;
}

function countsText(counts: ChangeCounts): string {
  const parts: string[] = [];
  if (counts.added) parts.push(`+${counts.added}`);
  if (counts.removed) parts.push(`-${counts.removed}`);
  if (counts.changed) parts.push(`~${counts.changed}`);
  return parts.join(" ");
}

function summaryText(byKind: Partial<Record<ObjectKind, ChangeCounts>>): string {
  return Object.entries(byKind)
    .map(([kind, counts]) => `${kind} ${countsText(counts)}`)
    .join(", ");
}

/** The top-level object a change belongs to: the table for its columns, the object for its ACL. */
function groupOf(change: Change): string {
  return change.parent ?? change.identity;
}

function isResult(input: CatalogDiff | ExpectationResult): input is ExpectationResult {
  return input.kind === "expectation-result";
}

/** A `git diff --stat`-like summary of a diff, or a pass/fail listing of an expectation result. */
export function formatText(input: CatalogDiff | ExpectationResult): string {
  return isResult(input) ? resultText(input) : diffText(input);
}

function diffText(diff: CatalogDiff): string {
  const lines = [`before: ${describeRef(diff.before)}`, `after:  ${describeRef(diff.after)}`];
  if (!diff.sameCluster) lines.push("note: the snapshots come from different clusters");
  if (diff.identical) {
    lines.push("no changes");
    return `${lines.join("\n")}\n`;
  }
  const groups = new Map<string, { counts: ChangeCounts; marks: Set<string> }>();
  for (const change of diff.changes) {
    const key = oneLine(groupOf(change));
    const group = groups.get(key) ?? { counts: { added: 0, removed: 0, changed: 0 }, marks: new Set<string>() };
    groups.set(key, group);
    group.counts[change.change] += 1;
    if (change.parent === null) group.marks.add(change.change);
  }
  const width = Math.max(...[...groups.keys()].map((key) => key.length));
  const largest = Math.max(...[...groups.values()].map(({ counts }) => counts.added + counts.removed + counts.changed));
  const scale = largest > BAR_WIDTH ? BAR_WIDTH / largest : 1;
  for (const [key, { counts, marks }] of groups) {
    const total = counts.added + counts.removed + counts.changed;
    // A: the object itself was added, D: removed, M: only its contents changed.
    const mark = marks.has("added") ? "A" : marks.has("removed") ? "D" : "M";
    const bar = (count: number, char: string) => char.repeat(count === 0 ? 0 : Math.max(1, Math.round(count * scale)));
    lines.push(
      ` ${mark} ${key.padEnd(width)} | ${String(total).padStart(4)} ${bar(counts.added, "+")}${bar(counts.removed, "-")}${bar(counts.changed, "~")}`,
    );
  }
  const { total } = diff.summary;
  lines.push(
    ` ${groups.size} objects affected, ${total.added} additions(+), ${total.removed} removals(-), ${total.changed} changes(~)`,
  );
  lines.push(` ${summaryText(diff.summary.byKind)}`);
  return `${lines.join("\n")}\n`;
}

function resultText(result: ExpectationResult): string {
  const lines = [
    `expectation: ${result.pass ? "PASS" : "FAIL"}${result.expectation.source ? ` (${oneLine(result.expectation.source)})` : ""}`,
    `before: ${describeRef(result.before)}`,
    `after:  ${describeRef(result.after)}`,
    `found in scope: ${summaryText(result.found.byKind) || "no changes"}`,
  ];
  const outside = summaryText(result.found.outsideScope);
  if (outside) lines.push(`found outside scope: ${outside}`);
  if (result.violations.length > 0) lines.push(`${result.violations.length} violation(s):`);
  for (const violation of result.violations) {
    lines.push(
      `  [${violation.rule}] ${oneLine(violation.message)} (expected ${oneLine(String(violation.expected))}, found ${oneLine(String(violation.found))})`,
    );
  }
  return `${lines.join("\n")}\n`;
}

/** Escapes text for a markdown table cell. */
function cell(value: string | number | null): string {
  if (value === null) return "";
  return oneLine(String(value).replaceAll("\\", "\\\\").replaceAll("|", "\\|"));
}

function code(value: string): string {
  // In a GFM table a pipe ends the cell even inside a code span, unless escaped.
  return value ? `\`${oneLine(value.replaceAll("`", "'").replaceAll("|", "\\|"))}\`` : "";
}

function valueText(value: JsonValue): string {
  if (value === null) return "";
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return text.length > 160 ? `${text.slice(0, 157)}...` : text;
}

function refRows(before: SnapshotRef, after: SnapshotRef): string[] {
  const row = (label: string, ref: SnapshotRef) =>
    `| ${label} | ${code(shortFingerprint(ref.fingerprint))} | ${cell(ref.database)} | ${cell(ref.takenAt)} | ${cell(ref.systemIdentifier)} | ${cell(ref.serverVersion)} |`;
  return [
    "| Snapshot | Fingerprint | Database | Taken at | System identifier | Version |",
    "| --- | --- | --- | --- | --- | --- |",
    row("before", before),
    row("after", after),
  ];
}

function countRows(byKind: Partial<Record<ObjectKind, ChangeCounts>>): string[] {
  const rows = ["| Kind | Added | Removed | Changed |", "| --- | ---: | ---: | ---: |"];
  for (const [kind, counts] of Object.entries(byKind)) {
    rows.push(`| ${kind} | ${counts.added} | ${counts.removed} | ${counts.changed} |`);
  }
  return rows;
}

/** Markdown for a report: snapshots, counts per kind, and every change or violation. */
export function formatMarkdown(input: CatalogDiff | ExpectationResult): string {
  return isResult(input) ? resultMarkdown(input) : diffMarkdown(input);
}

function changeDetail(change: Change): { before: string; after: string } {
  if (change.change !== "changed") return { before: valueText(change.before), after: valueText(change.after) };
  return {
    before: change.fields.map((field) => `${field.field}: ${valueText(field.before)}`).join("; "),
    after: change.fields.map((field) => `${field.field}: ${valueText(field.after)}`).join("; "),
  };
}

function diffMarkdown(diff: CatalogDiff): string {
  const lines = ["## Catalog diff", "", ...refRows(diff.before, diff.after), ""];
  if (!diff.sameCluster) lines.push("> The snapshots come from different clusters.", "");
  const scope = [
    `schemas: ${diff.scope.schemas === null ? "all" : diff.scope.schemas.join(", ") || "none"}`,
    `kinds: ${diff.scope.kinds === null ? "all" : diff.scope.kinds.join(", ")}`,
  ];
  lines.push(`Scope: ${scope.join("; ")}.`, "");
  if (diff.identical) {
    lines.push("No changes.");
    return `${lines.join("\n")}\n`;
  }
  const { total } = diff.summary;
  lines.push(`${total.added} added, ${total.removed} removed, ${total.changed} changed.`, "");
  lines.push(...countRows(diff.summary.byKind), "");
  lines.push("| Change | Kind | Object | Before | After |", "| --- | --- | --- | --- | --- |");
  for (const change of diff.changes.slice(0, MARKDOWN_DETAIL_LIMIT)) {
    const detail = changeDetail(change);
    lines.push(
      `| ${change.change} | ${change.objectKind} | ${code(change.identity)} | ${cell(detail.before)} | ${cell(detail.after)} |`,
    );
  }
  if (diff.changes.length > MARKDOWN_DETAIL_LIMIT) {
    lines.push("", `${diff.changes.length - MARKDOWN_DETAIL_LIMIT} more changes are in the JSON document.`);
  }
  return `${lines.join("\n")}\n`;
}

function resultMarkdown(result: ExpectationResult): string {
  const { expectation } = result;
  const lines = [`## Expected delta: ${result.pass ? "PASS" : "FAIL"}`, ""];
  if (expectation.source) lines.push(`Expectation: ${cell(expectation.source)}.`, "");
  lines.push(...refRows(result.before, result.after), "");
  lines.push(`Scope: ${expectation.scope.schemas.join(", ")}; nothing else: ${expectation.nothingElse ? "yes" : "no"}.`, "");
  lines.push("| Kind | Expected | Found added | Found removed | Found changed |", "| --- | --- | ---: | ---: | ---: |");
  const kinds = new Set<ObjectKind>([
    ...(expectation.tablesAdded.length > 0 ? (["table"] as const) : []),
    ...(Object.keys(expectation.counts) as ObjectKind[]),
    ...expectation.mustNotChange,
    ...(Object.keys(result.found.byKind) as ObjectKind[]),
  ]);
  for (const kind of kinds) {
    const found = result.found.byKind[kind] ?? { added: 0, removed: 0, changed: 0 };
    const expected =
      kind === "table" && expectation.tablesAdded.length > 0
        ? `${expectation.tablesAdded.length} named tables added`
        : expectation.counts[kind] !== undefined
          ? `exactly ${expectation.counts[kind]} added`
          : expectation.mustNotChange.includes(kind)
            ? "no change"
            : expectation.nothingElse
              ? "no change (nothing else)"
              : "not checked";
    lines.push(`| ${kind} | ${expected} | ${found.added} | ${found.removed} | ${found.changed} |`);
  }
  lines.push("");
  if (result.violations.length === 0) {
    lines.push("No violations.");
  } else {
    lines.push(`${result.violations.length} violation(s):`, "");
    lines.push("| Rule | Kind | Object | Expected | Found | Message |", "| --- | --- | --- | --- | --- | --- |");
    for (const violation of result.violations) {
      lines.push(
        `| ${violation.rule} | ${cell(violation.objectKind)} | ${violation.identity ? code(violation.identity) : ""} | ${cell(violation.expected)} | ${cell(violation.found)} | ${cell(violation.message)} |`,
      );
    }
  }
  const outside = Object.keys(result.found.outsideScope).length;
  if (outside > 0) lines.push("", `Outside the scope: ${summaryText(result.found.outsideScope)}.`);
  return `${lines.join("\n")}\n`;
}
