/**
 * The evidence folder: every document a step produced, written once, listed in manifest.json
 * with its kind and sha256 so a reviewer can prove the markdown came from exactly these files.
 */
import { createHash } from "node:crypto";
import { mkdir, readdir } from "node:fs/promises";
import { join } from "node:path";
import { InputError } from "@dieu44/plumbing/exit";
import { toJsonText, writeFileAtomically } from "@dieu44/plumbing/json-io";
import { redactDeep } from "@dieu44/plumbing/redact";
import {
  EVIDENCE_MANIFEST_FORMAT_VERSION,
  EVIDENCE_MANIFEST_KIND,
  type EvidenceFile,
  type EvidenceManifest,
  MANIFEST_FILE,
} from "@dieu44/report-render/schema";

export class EvidenceFolder {
  private readonly files = new Map<string, EvidenceFile>();

  constructor(readonly dir: string) {}

  /** Creates the folder; an existing folder must be empty, so no run overwrites another's evidence. */
  async open(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const existing = await readdir(this.dir);
    if (existing.length > 0) {
      throw new InputError(
        `${this.dir}: the evidence folder is not empty (evidence of another run?); give a new --evidence folder`,
      );
    }
  }

  /** Writes a JSON document (secrets redacted) and records it; returns its file name. */
  async writeDocument(name: string, document: { kind: string }, role?: string): Promise<string> {
    const text = toJsonText(redactDeep(document));
    await this.writeFile(name, text, document.kind, role);
    return name;
  }

  /**
   * Writes a text file (markdown) and records it under the given kind. Whole or not at all
   * (temporary file, then rename): a run killed mid-write never leaves half a document.
   */
  async writeFile(name: string, text: string, kind: string, role?: string): Promise<void> {
    const bytes = Buffer.from(text, "utf8");
    await writeFileAtomically(join(this.dir, name), text);
    const entry: EvidenceFile = { name, kind, sha256: createHash("sha256").update(bytes).digest("hex"), bytes: bytes.length };
    if (role) entry.role = role;
    this.files.set(name, entry);
  }

  has(name: string): boolean {
    return this.files.has(name);
  }

  async writeManifest(): Promise<EvidenceManifest> {
    const manifest: EvidenceManifest = {
      kind: EVIDENCE_MANIFEST_KIND,
      formatVersion: EVIDENCE_MANIFEST_FORMAT_VERSION,
      files: [...this.files.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
    };
    await writeFileAtomically(join(this.dir, MANIFEST_FILE), toJsonText(manifest));
    return manifest;
  }
}
