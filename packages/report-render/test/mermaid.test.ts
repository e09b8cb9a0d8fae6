/**
 * The verification result's Mermaid erDiagram: the PASS run draws the 12 created tables and the
 * 8 foreign keys. Checked structurally always, and with Mermaid's own parser when the `mermaid`
 * package is installed (a devDependency the lead adds; until then that test reports as skipped).
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { erDiagram, renderBundle } from "../src/index.js";
import { EVIDENCE, mermaidBlock } from "./helpers.js";

interface MermaidApi {
  parse(text: string): Promise<unknown>;
  mermaidAPI: {
    getDiagramFromText(text: string): Promise<{
      db: { getEntities(): Map<string, unknown>; getRelationships(): { entityA: string; entityB: string; roleA: string }[] };
    }>;
  };
}

async function loadMermaid(): Promise<MermaidApi | null> {
  try {
    const specifier = "mermaid";
    const module = (await import(/* @vite-ignore */ specifier)) as { default: MermaidApi };
    return module.default;
  } catch {
    return null;
  }
}
const mermaid = await loadMermaid();

const ENTITY = /^ {2}"([A-Za-z0-9_.$-]+)"( \{)?$/;
const ATTRIBUTE = /^ {4}[A-Za-z_][A-Za-z0-9_()[\],]* [A-Za-z_][A-Za-z0-9_]*( (PK|FK|UK)(, (PK|FK|UK))*)?$/;
const RELATION = /^ {2}"([A-Za-z0-9_.$-]+)" (\|\||\|o)--o\{ "([A-Za-z0-9_.$-]+)" : "([A-Za-z0-9_.$-]+)"$/;

/** A strict reading of the subset of erDiagram syntax the renderer writes. */
function parseStructure(text: string): { entities: string[]; relations: { parent: string; child: string; label: string }[] } {
  const lines = text.split("\n");
  expect(lines[0]).toBe("erDiagram");
  const entities: string[] = [];
  const relations: { parent: string; child: string; label: string }[] = [];
  let open = false;
  for (const line of lines.slice(1)) {
    if (open) {
      if (line === "  }") open = false;
      else expect(line).toMatch(ATTRIBUTE);
      continue;
    }
    const entity = ENTITY.exec(line);
    if (entity) {
      entities.push(entity[1]!);
      open = entity[2] !== undefined;
      continue;
    }
    const relation = RELATION.exec(line);
    expect(relation, `not an entity or relationship line: ${line}`).not.toBeNull();
    relations.push({ parent: relation![1]!, child: relation![3]!, label: relation![4]! });
  }
  expect(open).toBe(false);
  return { entities, relations };
}

const passVerification = renderBundle(join(EVIDENCE, "pass")).files[1]!.content;
const diagram = mermaidBlock(passVerification);

describe("Mermaid erDiagram of the PASS run", () => {
  it("has 12 entities and 8 relationships, every relationship between declared entities", () => {
    expect(diagram).not.toBeNull();
    const { entities, relations } = parseStructure(diagram!);
    expect(entities).toHaveLength(12);
    expect(new Set(entities).size).toBe(12);
    expect(entities.every((name) => name.startsWith("cutter_governance.registry_"))).toBe(true);
    expect(relations).toHaveLength(8);
    for (const relation of relations) {
      expect(entities).toContain(relation.parent);
      expect(entities).toContain(relation.child);
    }
    expect(relations).toContainEqual({
      parent: "cutter_governance.registry_entity",
      child: "cutter_governance.registry_relation",
      label: "registry_relation_from_fk",
    });
  });

  it.skipIf(mermaid === null)("is accepted by Mermaid's parser, which sees 12 entities and 8 relationships", async () => {
    await expect(mermaid!.parse(diagram!)).resolves.toBeTruthy();
    const parsed = await mermaid!.mermaidAPI.getDiagramFromText(diagram!);
    expect(parsed.db.getEntities().size).toBe(12);
    expect(parsed.db.getRelationships()).toHaveLength(8);
  });

  it.skipIf(mermaid === null)("is accepted by Mermaid's parser with hostile names", async () => {
    const hostile = erDiagram(
      ["s.evil|`x`<script>", 's."quoted" name', "s.9digits"],
      [{ name: "fk|`<b>", from: "s.evil|`x`<script>", fromColumns: ["a"], to: "s.9digits", toColumns: ["b"] }],
      null,
    );
    await expect(mermaid!.parse(hostile)).resolves.toBeTruthy();
  });

  it("is absent when no table was created", () => {
    for (const scenario of ["blocked", "rolled-back"]) {
      const verification = renderBundle(join(EVIDENCE, scenario)).files[1]!.content;
      expect(mermaidBlock(verification)).toBeNull();
      expect(verification).toContain("No table was created.");
    }
  });

  it("keeps names distinct when sanitising would merge them", () => {
    const text = erDiagram(["s.a|b", "s.a<b", "s.a_b"], [], null);
    expect(parseStructure(text).entities).toEqual(["s.a_b", "s.a_b_2", "s.a_b_3"]);
  });
});
