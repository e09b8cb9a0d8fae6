/**
 * Loading a plan file (JSON or YAML) and resolving the paths it names relative to itself.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { dirname, isAbsolute, resolve } from "node:path";
import { InputError } from "@dieu44/plumbing/exit";
import { decodeUtf8, validateDocument } from "@dieu44/plumbing/json-io";
import { parse as parseYaml } from "yaml";
import { type Plan, PlanSchema } from "./schema.js";

export interface LoadedPlan {
  plan: Plan;
  /** Absolute path of the plan file. */
  path: string;
  /** sha256 of the plan file's bytes. */
  sha256: string;
  /** Absolute paths of the artifact and rollback package. */
  artifactPath: string;
  rollbackPath: string;
}

/** Plans nest a few levels; far deeper YAML is refused before the YAML parser sees it. */
const MAX_YAML_NESTING = 256;

/**
 * The deepest nesting of YAML flow collections ([ and {) outside quotes and comments, or of block
 * indentation (in columns / 2). The yaml package handles a plan nested tens of thousands of levels
 * deep badly (a second one in a process aborted Node natively), so depth is checked first.
 */
function yamlNesting(text: string): number {
  let depth = 0;
  let deepest = 0;
  let quote: string | null = null;
  let lineStart = true;
  let indent = 0;
  for (let index = 0; index < text.length; index++) {
    const char = text[index];
    if (lineStart) {
      if (char === " ") {
        indent++;
        continue;
      }
      deepest = Math.max(deepest, Math.floor(indent / 2));
      lineStart = false;
    }
    if (char === "\n") {
      lineStart = true;
      indent = 0;
      if (quote === null) continue;
    }
    if (quote !== null) {
      if (char === "\\" && quote === '"') index++;
      else if (char === quote) quote = null;
      continue;
    }
    if (char === '"' || char === "'") quote = char;
    else if (char === "#") {
      const end = text.indexOf("\n", index);
      index = end === -1 ? text.length : end - 1;
    } else if (char === "[" || char === "{") deepest = Math.max(deepest, ++depth);
    else if ((char === "]" || char === "}") && depth > 0) depth--;
  }
  return deepest;
}

export function parsePlan(text: string, label: string): Plan {
  let value: unknown;
  const json = label.endsWith(".json");
  if (!json && yamlNesting(text) > MAX_YAML_NESTING) {
    throw new InputError(`${label}: not a plan: nested more than ${MAX_YAML_NESTING} levels deep`);
  }
  try {
    value = json ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw new InputError(`${label}: not valid ${json ? "JSON" : "YAML"} (${(error as Error).message})`);
  }
  return validateDocument(PlanSchema, value, label);
}

export async function loadPlan(path: string): Promise<LoadedPlan> {
  const absolute = resolve(path);
  let bytes: Buffer;
  try {
    bytes = await readFile(absolute);
  } catch (error) {
    throw new InputError(`${path}: cannot read plan (${(error as NodeJS.ErrnoException).code ?? "error"})`);
  }
  const plan = parsePlan(decodeUtf8(bytes, path), path);
  const relativeTo = (file: string) => (isAbsolute(file) ? file : resolve(dirname(absolute), file));
  return {
    plan,
    path: absolute,
    sha256: createHash("sha256").update(bytes).digest("hex"),
    artifactPath: relativeTo(plan.artifact.path),
    rollbackPath: relativeTo(plan.rollback.path),
  };
}

/**
 * The parts of a plan that decide what runs against production. A rerun may differ from the
 * previous attempt only in the fields its reauthorization allows (the seed: the apply role);
 * the cycle name and report file names are labels, not part of the package.
 */
export function executionRelevant(plan: Plan): Record<string, unknown> {
  return {
    target: plan.target,
    artifact: plan.artifact,
    rollback: plan.rollback,
    applyRole: plan.applyRole,
    expectedDelta: plan.expectedDelta,
    policy: plan.policy,
    apply: plan.apply,
    backup: plan.backup,
  };
}

/** Field paths where two plans differ in what they would run. */
export function planDifferences(previous: Plan, current: Plan): string[] {
  const a = executionRelevant(previous);
  const b = executionRelevant(current);
  const differences: string[] = [];
  const walk = (x: unknown, y: unknown, path: string) => {
    if (x !== null && y !== null && typeof x === "object" && typeof y === "object" && !Array.isArray(x) && !Array.isArray(y)) {
      const keys = new Set([...Object.keys(x), ...Object.keys(y)]);
      for (const key of [...keys].sort())
        walk((x as Record<string, unknown>)[key], (y as Record<string, unknown>)[key], path ? `${path}.${key}` : key);
      return;
    }
    if (JSON.stringify(x) !== JSON.stringify(y)) differences.push(path);
  };
  walk(a, b, "");
  return differences;
}
