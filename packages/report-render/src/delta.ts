/** The expected-vs-found rows of an expectation result, one per object kind. */
import type { ExpectationResult, ObjectKind } from "@dieu44/drift-diff/schema";

export interface DeltaRow {
  objectKind: string;
  /** "+12" (counted), "no change" (must not change) or "not counted" (judged by the violations). */
  expected: string;
  added: number;
  removed: number;
  changed: number;
  /** No violation of the expectation result names this kind. */
  ok: boolean;
}

/** Every kind the expectation counts or forbids, and every kind the diff found, sorted by name. */
export function deltaRows(expectation: ExpectationResult | null): DeltaRow[] {
  if (!expectation) return [];
  const spec = expectation.expectation;
  const kinds = new Set<string>([...Object.keys(spec.counts), ...spec.mustNotChange, ...Object.keys(expectation.found.byKind)]);
  return [...kinds].sort().map((objectKind) => {
    const kind = objectKind as ObjectKind;
    const count = spec.counts[kind];
    const found = expectation.found.byKind[kind] ?? { added: 0, removed: 0, changed: 0 };
    let expected = "not counted";
    if (count !== undefined) expected = `+${count}`;
    else if (spec.mustNotChange.includes(kind)) expected = "no change";
    const ok = !expectation.violations.some((violation) => violation.objectKind === kind);
    return { objectKind, expected, added: found.added, removed: found.removed, changed: found.changed, ok };
  });
}
